"""The help screen: every key, every pane, every bug with its buggy and correct line.

The panes' paragraphs are their own (``HELP_TITLE`` and ``HELP`` on each pane,
see ``tui/dashboard/widgets/pane.py``); the app gathers them in screen order.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from engine.bugs import CATALOGUE
from tui.dashboard.actions import help_rows
from tui.dashboard.screens.gradcheck import GradCheckScreen
from tui.dashboard.screens.graph import GraphScreen
from tui.dashboard.widgets.pane import help_sections


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


def dashboard_help(dashboard: Screen) -> HelpScreen:
    """Every key (from the action table), the dashboard's panes in screen order, the screens."""
    sections = help_sections(dashboard)
    sections.append((GradCheckScreen.HELP_TITLE, GradCheckScreen.HELP))
    sections.append((GraphScreen.HELP_TITLE, GraphScreen.HELP))
    return HelpScreen(help_rows(), sections)


class HelpScreen(ModalScreen[None]):
    """Keys, panes and bugs, explained."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, key_rows: list[tuple[str, str]], sections: list[tuple[str, str]]) -> None:
        """``key_rows``: (key, what it does); ``sections``: (pane, what it shows)."""
        super().__init__()
        self.key_rows = key_rows
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "micrograd-tui help · escape to close"
            yield Static(Text("Keys", style="bold underline"))
            yield Static(keys_table(self.key_rows))
            yield Static(Text("\nPanes", style="bold underline"))
            for name, text in self.sections:
                yield Static(Text.assemble((f"{name}: ", "bold"), text))
            yield Static(Text("\nBugs", style="bold underline"))
            for key, bug in enumerate(CATALOGUE, start=1):
                yield Static(bug_section(bug, key))

    def action_dismiss(self) -> None:
        self.dismiss(None)
