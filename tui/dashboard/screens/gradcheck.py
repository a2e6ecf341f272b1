"""Gradient check on screen: backprop beside central finite differences, per parameter."""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.inspect.gradcheck import PASS_THRESHOLD, GradCheckResult
from engine.training import budget
from engine.training.session import TrainingSession
from tui.dashboard.widgets.parameter_grid import ParameterRef

WIDE_TABLE = 80  # columns the table needs for six digits: name 27, 2 x 13, error 7, gaps


def parameter_refs(layer_sizes: tuple[int, ...]) -> list[ParameterRef]:
    """Every parameter's place, in ``MLP.parameters()`` order."""
    refs = []
    for layer, (nin, nout) in enumerate(itertools.pairwise(layer_sizes)):
        for neuron in range(nout):
            for column in range(nin + 1):
                refs.append(ParameterRef(layer, neuron, column, nin))
    return refs


def result_table(result: GradCheckResult, layer_sizes: tuple[int, ...], digits: int = 6) -> Table:
    """One row a parameter; ``digits`` after the point, fewer on a narrow screen."""
    refs = parameter_refs(layer_sizes)
    table = Table(expand=True, box=None, padding=(0, 1), header_style="bold")
    table.add_column("parameter", no_wrap=True)
    table.add_column("numerical", justify="right")
    table.add_column("backprop", justify="right")
    table.add_column("rel. error", justify="right")
    for check in result.checks:
        bad = not check.rel_error < PASS_THRESHOLD
        table.add_row(
            refs[check.index].describe(),
            f"{check.numerical:+.{digits}e}",
            f"{check.backprop:+.{digits}e}",
            Text(f"{check.rel_error:.1e}", style="bold red" if bad else "green"),
        )
    return table


def summary(result: GradCheckResult) -> Text:
    worst = result.max_rel_error
    failing = sum(not c.rel_error < PASS_THRESHOLD for c in result.checks)
    text = Text()
    if result.passed:
        text.append(" PASS ", style="bold black on green")
        text.append(
            f"  backprop matches finite differences: max relative error {worst:.1e}"
            f" (< {PASS_THRESHOLD:g})"
        )
    else:
        text.append(" FAIL ", style="bold white on #b00020")
        worst_text = "inf" if math.isinf(worst) else f"{worst:.1e}"
        text.append(
            f"  {failing} of {len(result.checks)} gradients disagree with finite "
            f"differences; max relative error {worst_text}"
        )
    scope = (
        f"checked {len(result.checks)} of {result.total_parameters} parameters, chosen at random"
        if result.is_subset
        else f"checked all {result.total_parameters} parameters"
    )
    at = "" if result.step is None else f"at step {result.step}: "
    text.append(
        f"\n{at}{scope}; central differences with eps {result.eps:g}; "
        "gradients from the active bugs' backward()",
        style="dim",
    )
    return text


class GradCheckScreen(ModalScreen[None]):
    """Runs the check in a worker, then shows per-parameter numbers."""

    HELP_TITLE = "Gradient check"
    HELP = (
        "g compares every gradient backprop computed (with the bugs that are on) "
        "with central finite differences at the current weights. Large nets check a random "
        "subset, labelled as such."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,g", "dismiss", "Close", id="gradcheck.close")
    ]

    def __init__(self, session: TrainingSession) -> None:
        super().__init__()
        self.session = session
        self.layer_sizes = session.snapshot().layer_sizes  # a run's shape never changes

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="gradcheck") as body:
            body.border_title = "Gradient check · escape closes"
            yield Static(
                "Checking every gradient against finite differences…", id="gradcheck-summary"
            )
            yield Static(id="gradcheck-table")

    def on_mount(self) -> None:
        session = self.session
        problem = budget.gradcheck_problem(session.nin, session.config.hidden, len(session.xs))
        if problem:
            self.query_one("#gradcheck-summary", Static).update(
                Text(f"No gradient check for this run: {problem}.", style="bold red")
            )
            return
        self._check()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _check(self) -> None:
        # Under the session's lock: the weights of one step, which the summary names.
        result = self.session.passes.gradcheck()
        layer_sizes = self.layer_sizes
        self.app.call_from_thread(self._show, result, layer_sizes)

    def _show(self, result: GradCheckResult, layer_sizes: tuple[int, ...]) -> None:
        self.result = result
        self.query_one("#gradcheck-summary", Static).update(summary(result))
        # Whole numbers, never cut: six digits when the screen has room, three at 80 columns.
        width = self.query_one("#gradcheck").content_region.width
        digits = 6 if width >= WIDE_TABLE else 3
        self.query_one("#gradcheck-table", Static).update(result_table(result, layer_sizes, digits))

    def on_worker_state_changed(self, event) -> None:
        if event.worker.error is not None:
            self.query_one("#gradcheck-summary", Static).update(
                Text(
                    f"The gradient check failed: {type(event.worker.error).__name__}: "
                    f"{event.worker.error}",
                    style="bold red",
                )
            )

    def action_dismiss(self) -> None:
        self.dismiss(None)
