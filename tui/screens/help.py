"""The help screen: every key, every pane, every bug with its buggy and correct line."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.bugs import CATALOGUE

PANES = (
    (
        "Weights",
        (
            "Every layer's weights and biases: rows are neurons, columns their inputs, "
            "the last column the bias. Blue is positive, orange negative, brighter is larger. "
            "Too big for numbers, it becomes a heat map: move the cursor (click the pane, then "
            "arrow keys) or hover to read a value."
        ),
    ),
    (
        "Gradients",
        (
            "d loss / d parameter for the same parameters, from the last backward pass, "
            "with a bar for its size. A parameter moves against its gradient. The two lines on top "
            "are the gradient norm and weight norm, now and their history. While a bug is on, t "
            "shows the true gradient (what correct code computes at the same weights), then the "
            "difference, then back."
        ),
    ),
    (
        "Loss",
        (
            "The loss after every step. A red line marks where a bug went on, green where it "
            "went off. While a bug is on, a clean twin (same seed, data and rates, no bug) trains "
            "in lockstep and its curve is drawn in green. With a test split, the test loss is "
            "drawn too. l switches between linear and log scale."
        ),
    ),
    (
        "Bugs",
        (
            "The classic mistakes, injected at the line where a person would write them. "
            "Press the number (or click, or enter on a focused one) to switch one on; it takes "
            "effect at the next step. why? (w when focused) opens the buggy line beside the "
            "correct one, and the engine code it lives in; there d loads the bug's demo, the "
            "run where its harm is plainest within 30 steps, with the clean twin. While a bug "
            "is on, the symptom line above the status bar names, in the last step's numbers, "
            "the stage of the step that went wrong."
        ),
    ),
    (
        "Decision boundary",
        (
            "For data with two features: the model's output over the plane, "
            "blue positive, orange negative, "
            "with the training points (●) and test points (○) on top. "
            "b swaps it with the predictions."
        ),
    ),
    (
        "Gradient check",
        (
            "g compares every gradient backprop computed (with the bugs that are on) "
            "with central finite differences at the current weights. Large nets check a random "
            "subset, labelled as such."
        ),
    ),
    (
        "Predictions",
        (
            "Each training sample's target and the model's output (ypred) at the last "
            "forward pass: │ is the target, ● the prediction."
        ),
    ),
    (
        "Status",
        (
            "Paused / running / diverged, step, loss, accuracy, learning rate, steps per "
            "second, active bugs. A run diverges when its loss is inf or nan, above 10^6 times "
            "its first step's, or a parameter passes 10^6 in size: it pauses and says why."
        ),
    ),
)


def keys_table(bindings) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, description in bindings:
        table.add_row(key, description)
    return table


def bug_section(bug, key: int) -> Group:
    syntax_buggy = Syntax(bug.buggy_line, "python", theme="ansi_dark", background_color="default")
    syntax_correct = Syntax(
        bug.correct_line, "python", theme="ansi_dark", background_color="default"
    )
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row(Text("buggy  ", style="bold red"), syntax_buggy)
    grid.add_row(Text("correct", style="bold green"), syntax_correct)
    return Group(
        Text.assemble(
            (f"{key}  {bug.id}", "bold"), ("  " + bug.title, ""), ("  in " + bug.where, "dim")
        ),
        Text("   look for: " + bug.look_for, style="italic"),
        Text("   why: " + bug.explanation, style="dim"),
        grid,
        Text(""),
    )


class HelpScreen(ModalScreen[None]):
    """Keys, panes and bugs, explained."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, key_rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.key_rows = key_rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "micrograd-tui help · escape to close"
            yield Static(Text("Keys", style="bold underline"))
            yield Static(keys_table(self.key_rows))
            yield Static(Text("\nPanes", style="bold underline"))
            for name, text in PANES:
                yield Static(Text.assemble((f"{name}: ", "bold"), text))
            yield Static(Text("\nBugs", style="bold underline"))
            for key, bug in enumerate(CATALOGUE, start=1):
                yield Static(bug_section(bug, key))

    def action_dismiss(self) -> None:
        self.dismiss(None)
