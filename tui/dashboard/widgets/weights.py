"""The weights pane: every layer's weights and biases, coloured by sign and size."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from engine.training.records import Snapshot
from tui.dashboard.widgets.pane import Pane
from tui.dashboard.widgets.parameter_grid import HEALTH_HELP, ParameterGrid, ParameterPane


class WeightsPane(Pane, ParameterPane):
    """Weights and biases, layer by layer."""

    BORDER_TITLE = "Weights"
    HELP_TITLE = "Weights"
    HELP = (
        "Every layer's weights and biases: rows are neurons, columns their inputs, "
        "the last column the bias. Blue is positive, orange negative, brighter is larger. "
        "Too big for numbers, it becomes a heat map: move the cursor (click the pane, then "
        "arrow keys) or hover to read a value. " + HEALTH_HELP
    )
    REDRAW = "parameters"

    def compose(self) -> ComposeResult:
        yield ParameterGrid(gradients=False, id="weights-grid")
        yield Static(id="weights-detail", classes="detail")

    def show(self, snapshot: Snapshot) -> None:
        grid = self.query_one(ParameterGrid)
        grid.show(snapshot)
        count = len(snapshot.parameters)
        self.border_subtitle = self.subtitle(f"{count} parameters", snapshot)
        self.show_detail(snapshot)
