"""The weights pane: every layer's weights and biases, coloured by sign and size."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from engine.session import Snapshot
from tui import format as fmt
from tui.widgets.parameter_grid import Cursor, ParameterGrid, ParameterRef, parameter_value


def describe_parameter(snapshot: Snapshot, cursor: Cursor) -> str:
    layer, neuron, column = cursor
    ref = ParameterRef(layer, neuron, column, snapshot.layer_sizes[layer])
    w = parameter_value(snapshot, cursor, "weights")
    g = parameter_value(snapshot, cursor, "backprop")
    text = f"{ref.describe()}: w {fmt.short(w)}, grad {fmt.short(g)}"
    if snapshot.true_gradients is not None:
        text += f", true grad {fmt.short(parameter_value(snapshot, cursor, 'true'))}"
    return text


def show_detail(pane: Widget, snapshot: Snapshot) -> None:
    """The pane's detail line: the parameter under its grid's cursor, value and gradients."""
    cursor = pane.query_one(ParameterGrid).cursor
    pane.query_one(".detail", Static).update(describe_parameter(snapshot, cursor))


class WeightsPane(Vertical):
    """Weights and biases, layer by layer."""

    BORDER_TITLE = "Weights"

    def compose(self) -> ComposeResult:
        yield ParameterGrid(gradients=False, id="weights-grid")
        yield Static(id="weights-detail", classes="detail")

    def show(self, snapshot: Snapshot) -> None:
        grid = self.query_one(ParameterGrid)
        grid.show(snapshot)
        count = len(snapshot.parameters)
        self.border_subtitle = f"{count} parameters"
        show_detail(self, snapshot)
