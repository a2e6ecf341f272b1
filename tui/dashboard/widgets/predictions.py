"""Target vs prediction per training sample, like the lecture's ypred list."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

from engine.training.records import Snapshot
from tui.dashboard import format as fmt
from tui.dashboard.messages import SamplePicked
from tui.dashboard.widgets.pane import Pane

GAUGE_WIDTH = 13  # the narrowest gauge


def _gauge(target: float, prediction: float, width: int = GAUGE_WIDTH) -> Text:
    """A line from -1 to +1: │ marks the target, ● the prediction."""

    def column(v: float) -> int:
        v = min(max(v, -1.0), 1.0)
        return round((v + 1) / 2 * (width - 1))

    cells = ["·"] * width
    cells[width // 2] = "┊"
    cells[column(target)] = "│"
    if not math.isfinite(prediction):
        return Text("".join(cells), style="dim")
    p = column(prediction)
    cells[p] = "●"
    text = Text("".join(cells), style="dim")
    text.stylize(fmt.sign_colour(prediction) + " bold", p, p + 1)
    return text


class PredictionsPane(Pane, Static):
    """For each sample (the first ones, when more than the rows): target, prediction, hit."""

    BORDER_TITLE = "Predictions"
    HELP_TITLE = "Predictions"
    HELP = (
        "Each training sample's target and the model's output (ypred) at the last "
        "forward pass: │ is the target, ● the prediction. Click a row to open "
        "that sample's graph and step through its backward pass. As many samples show "
        "as the pane has rows. On a short terminal (80x24) the pane gives way to the bug "
        "list: b shows it in the bugs' place."
    )

    _snapshot: Snapshot | None = None
    _rows_shown: int = 0  # samples listed, one a line below the header

    def on_resize(self) -> None:
        if self._snapshot is not None:
            self.show(self._snapshot)

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        wanted = len(snapshot.targets) + 1  # + the header
        # All the room the column has below the bugs, up to every sample (+ the borders).
        self.styles.max_height = wanted + 2
        rows = (self.content_region.height or wanted) - 1  # below the header
        targets, preds, inputs = snapshot.targets, snapshot.predictions, snapshot.inputs
        width = self.content_region.width or 56
        with_inputs = width >= 56
        with_gauge = width >= 38
        # A wide pane gets a finer gauge: 13 to 41 columns, odd so that 0 has a middle.
        fixed = 42 if with_inputs else 23
        gauge = max(GAUGE_WIDTH, min(41, width - fixed))
        gauge -= 1 - gauge % 2
        out = Text()
        header = (
            f"{'#':>3} "
            + (f"{'input':<18} " if with_inputs else "")
            + f"{'target':>6} {'ypred':>8}"
        )
        if with_gauge:
            scale = [" "] * gauge
            scale[0:2], scale[gauge // 2], scale[-2:] = "-1", "0", "+1"
            header += "  " + "".join(scale)
        out.append(header + "\n", style="dim")
        if not preds:
            self._rows_shown = 0
            out.append("  no forward pass yet: press space to step", style="italic dim")
            self.update(out)
            self.border_subtitle = ""
            return
        shown = len(targets) if len(targets) <= rows else max(rows - 1, 1)
        self._rows_shown = shown
        for i in range(shown):
            hit = (preds[i] > 0) == (targets[i] > 0)
            out.append(f"{i + 1:>3} ")
            if with_inputs:
                x = ", ".join(f"{v:.2g}" for v in inputs[i])
                out.append(f"{x[:17] + '…' if len(x) > 18 else x:<18} ")
            out.append(f"{targets[i]:>+6.0f} ")
            out.append(fmt.number(preds[i], 8), style=fmt.sign_colour(preds[i]))
            if with_gauge:
                out.append("  ")
                out.append_text(_gauge(targets[i], preds[i], gauge))
            out.append(" ✓" if hit else " ✗", style="green" if hit else "bold red")
            if i < shown - 1 or shown < len(targets):
                out.append("\n")
        if shown < len(targets):
            out.append(f"    … {len(targets) - shown} more samples", style="dim")
        hits = sum((p > 0) == (t > 0) for p, t in zip(preds, targets))
        self.border_subtitle = f"{hits}/{len(targets)} right, as of step {snapshot.step}"
        self.update(out)

    def on_click(self, event) -> None:
        """A click on a sample's row asks for that sample's graph."""
        offset = event.get_content_offset(self)
        if offset is None or not 1 <= offset.y <= self._rows_shown:
            return
        event.stop()
        self.post_message(SamplePicked(offset.y - 1))
