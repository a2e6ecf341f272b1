"""The gradients pane: each parameter's gradient, and the norms' recent history."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from engine.session import Snapshot
from tui import format as fmt
from tui.widgets.parameter_grid import ParameterGrid
from tui.widgets.weights import describe_parameter


def norms_text(snapshot: Snapshot, width: int) -> Text:
    """Two lines: gradient norm and weight norm, the latest value and a sparkline."""
    out = Text()
    history = snapshot.history
    rows = (("|grad|", history.grad_norm), ("|w|   ", history.weight_norm))
    for i, (label, values) in enumerate(rows):
        latest = values[-1] if len(values) else math.nan
        value = fmt.short(latest) if len(values) else "–"
        style = fmt.BAD if len(values) and fmt.is_bad(latest, 1e4) else "bold"
        out.append(f"{label} ", style="dim")
        out.append(f"{value:>10}", style=style)
        out.append(" ")
        out.append(fmt.sparkline(values, max(width - 19, 0)), style="#c0a0ff")
        if i == 0:
            out.append("\n")
    return out


class GradientsPane(Vertical):
    """Per-parameter gradients, grouped by layer, with the global norms."""

    BORDER_TITLE = "Gradients"

    def compose(self) -> ComposeResult:
        yield Static(id="norms")
        yield ParameterGrid(gradients=True, id="gradients-grid")
        yield Static(id="gradients-detail", classes="detail")

    def show(self, snapshot: Snapshot) -> None:
        grid = self.query_one(ParameterGrid)
        grid.show(snapshot)
        width = self.content_region.width or 40
        self.query_one("#norms", Static).update(norms_text(snapshot, width))
        bad = sum(fmt.is_bad(g) for g in snapshot.gradients)
        self.border_subtitle = f"{bad} exploding or non-finite" if bad else "d loss / d parameter"
        self.set_class(bool(bad), "-bad")
        self.query_one("#gradients-detail", Static).update(describe_parameter(snapshot, grid.cursor))
