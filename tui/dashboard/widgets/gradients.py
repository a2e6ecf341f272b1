"""The gradients pane: each parameter's gradient, and the norms' recent history."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from engine.training.records import Snapshot
from tui.dashboard import format as fmt
from tui.dashboard.widgets.pane import Pane
from tui.dashboard.widgets.parameter_grid import (
    GRADIENT_VIEWS,
    HEALTH_HELP,
    ParameterGrid,
    ParameterPane,
)

VIEW_TITLES = {
    "backprop": "backprop",
    "true": "true (what correct code computes)",
    "difference": "backprop − true",
}


def norms_text(snapshot: Snapshot, width: int, view: str = "backprop") -> Text:
    """Two lines: gradient norm and weight norm, the latest value and a sparkline.

    In the true and difference views the first line is that view's norm (only
    the backprop norm has a history: the sparkline gives way to its value).
    """
    out = Text()
    history = snapshot.history.until(snapshot.step)  # a past step's: its own norms last
    true = snapshot.true_gradients
    if view != "backprop" and true is not None and len(history):
        if view == "true":
            label, shown = "|true|", true
        else:
            label, shown = "|b−t| ", [g - t for g, t in zip(snapshot.gradients, true)]
        value = math.sqrt(math.fsum(v * v for v in shown))
        out.append(f"{label} ", style="dim")
        out.append(f"{fmt.short(value):>10}", style="bold")
        out.append(f" backprop |grad| {fmt.short(history.grad_norm[-1])}\n", style="dim")
        rows = (("|w|   ", history.weight_norm),)
    else:
        rows = (("|grad|", history.grad_norm), ("|w|   ", history.weight_norm))
    for i, (label, values) in enumerate(rows):
        latest = values[-1] if len(values) else math.nan
        value = fmt.short(latest) if len(values) else "–"
        style = fmt.BAD if len(values) and fmt.is_bad(latest, 1e4) else "bold"
        out.append(f"{label} ", style="dim")
        out.append(f"{value:>10}", style=style)
        out.append(" ")
        out.append(fmt.sparkline(values, max(width - 19, 0)), style="#c0a0ff")
        if i < len(rows) - 1:
            out.append("\n")
    warning = snapshot.health.gradient_line() if snapshot.health is not None else ""
    if warning:  # a third line only while the gradients explode or vanish
        line = Text("⚠ " + warning, style="bold #f85149")
        line.truncate(max(width, 1), overflow="ellipsis")
        out.append("\n")
        out.append(line)
    return out


class GradientsPane(Pane, ParameterPane):
    """Per-parameter gradients, grouped by layer, with the global norms."""

    BORDER_TITLE = "Gradients · backprop"
    HELP_TITLE = "Gradients"
    HELP = (
        "d loss / d parameter for the same parameters, from the last backward pass, "
        "with a bar for its size. A parameter moves against its gradient. The two lines on top "
        "are the gradient norm and weight norm, now and their history. While a bug is on, t "
        "shows the true gradient (what correct code computes at the same weights), then the "
        "difference, then back. A line under the norms says when the gradients explode (the "
        "norm grew more than 100× in 10 steps) or vanish (layer 1's norm under 1e-6 of the "
        "last layer's). " + HEALTH_HELP
    )
    REDRAW = "parameters"

    _snapshot: Snapshot | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="norms")
        yield ParameterGrid(gradients=True, id="gradients-grid")
        yield Static(id="gradients-detail", classes="detail")

    def cycle_view(self) -> str:
        """backprop -> true -> difference -> backprop; returns the new view."""
        grid = self.query_one(ParameterGrid)
        grid.view = GRADIENT_VIEWS[(GRADIENT_VIEWS.index(grid.view) + 1) % len(GRADIENT_VIEWS)]
        return grid.view

    def on_resize(self) -> None:
        if self._snapshot is not None:  # the norms' sparklines fit the new width
            self.show(self._snapshot)

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        grid = self.query_one(ParameterGrid)
        grid.show(snapshot)
        width = self.content_region.width or 40
        self.query_one("#norms", Static).update(norms_text(snapshot, width, grid.view))
        self.border_title = f"Gradients · {VIEW_TITLES[grid.view]}"
        bad = sum(fmt.is_bad(g) for g in snapshot.gradients)
        subtitle = "d loss / d parameter · t: true gradient"
        if snapshot.true_gradients is not None:
            differ = sum(
                not math.isclose(g, t, rel_tol=1e-9, abs_tol=1e-12)
                for g, t in zip(snapshot.gradients, snapshot.true_gradients)
            )
            subtitle = f"{differ} of {len(snapshot.gradients)} differ from the true gradient · t"
        elif grid.view != "backprop":
            # No true gradient means the last step ran clean, whatever is on now.
            why = "no step since the bug went on" if snapshot.bugs else "no bug is on"
            subtitle = f"{why}: backprop is the true gradient · t"
        if bad:
            subtitle = f"{bad} exploding or non-finite"
        self.border_subtitle = self.subtitle(subtitle, snapshot)
        self.set_class(bool(bad), "-bad")
        self.show_detail(snapshot)
