"""The loss curve over steps, thinned to about two points per column."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual_plotext import PlotextPlot

from engine.training.records import Snapshot
from engine.training.session import FULL_LOSS_EVERY
from tui.dashboard import format as fmt
from tui.dashboard.widgets.pane import Pane

BUG_ON = "red"
BUG_OFF = "green"
TRAIN_COLOUR = "cyan"
TEST_COLOUR = "orange"
TWIN_COLOUR = "green"
FULL_COLOUR = "magenta"
GHOST_COLOUR = "gray"  # the future a branch left: faint, under the rest
CURSOR_COLOUR = "white"  # the step the panes show, while it is a past one
# plotext's tick arithmetic overflows near the float limit: clip what is drawn.
CLIP = 1e30
# plotext's colour names are the terminal's 16 colours ("orange" is colour 3):
# the legend in the border uses the same ones, so it matches the curves.
LEGEND_STYLES = {
    TRAIN_COLOUR: "color(6)",
    TEST_COLOUR: "color(3)",
    TWIN_COLOUR: "color(2)",
    FULL_COLOUR: "color(5)",
    GHOST_COLOUR: "color(8)",
}


def legend(labels: list[tuple[str, str]], width: int) -> Text:
    """The border title: "Loss" and, for more than one curve, a coloured ━ per label.

    The legend lives in the border, not in the plot: plotext's own legend box
    is drawn over the curves. ``labels`` is (label, plotext colour); where the
    whole line does not fit ``width``, the labels are cut to their first word.
    """
    if len(labels) < 2:
        return Text("Loss")
    for short in (False, True):
        line = Text("Loss")
        for label, colour in labels:
            line.append(" ━ ", style=f"bold {LEGEND_STYLES[colour]}")
            line.append(label.split(",")[0].split(" ")[0] if short else label)
        if line.cell_len <= width:
            return line
    return line


def decade_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Powers of ten spanning [low, high], at most ``most`` of them, evenly spaced."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    stride = max(1, math.ceil((last - first) / (most - 1)))
    return [10.0**k for k in range(first, last + 1, stride)]


def tick_label(value: float, span: float) -> str:
    """A y label of at most ~7 characters: 7.7, 0.013, 2.5e+06, 1e+30."""
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.2g}"
    digits = max(0, 1 - math.floor(math.log10(span / 4))) if span > 0 else 2
    return f"{value:.{min(digits, 4)}f}"


class LossPlot(Pane, PlotextPlot):
    """The full loss history, drawn thinned; a marker where a bug went on or off."""

    BORDER_TITLE = "Loss"
    HELP_TITLE = "Loss"
    HELP = (
        "The loss after every step. A red line marks where a bug went on, green where it "
        "went off. While a bug is on, a clean twin (same seed, data and rates, no bug) trains "
        "in lockstep and its curve is drawn in green. With a test split, the test loss is "
        "drawn too; the title names each curve in its colour. l switches between linear and "
        "log scale. Time travel: < and > (or a click on the plot) view a past step, marked by "
        "a white line; a change there branches, and the abandoned future stays as a grey "
        "ghost curve until a reset."
    )

    @dataclass
    class StepPicked(Message):
        """The plot was clicked: view this step."""

        step: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.log_scale = False
        self.twin_label = "clean twin"  # a quiz round: "a correct run of the same model"
        self.log_steps = False  # a log step axis: the first steps of a long run stay apart
        self.drawn_steps: tuple[int, ...] = ()  # the steps of the run's own curve, as drawn
        self._built = False  # whether plotext has built the current figure
        self._snapshot: Snapshot | None = None
        self._plain = ""  # the plot as last drawn, without colours: where a click landed
        self._x_range = (1.0, 2.0)  # the x axis's limits as last drawn (log10 on a log axis)

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._draw()

    def set_log_scale(self, on: bool) -> None:
        self.log_scale = on
        self._draw()

    def set_log_steps(self, on: bool) -> None:
        self.log_steps = on
        self._draw()

    def _x(self, step: float) -> float:
        """Where a step goes on the x axis: itself, or log10 of it on a log step axis.

        (plotext's own log scale leaves the limits and ticks unscaled: we scale them.)
        """
        return math.log10(step) if self.log_steps else step

    def on_resize(self) -> None:
        self._draw()

    def render(self):
        try:
            if self._built:
                # plotext's build is not repeatable (a log scale would be applied
                # twice): a repaint without a new snapshot plots the figure afresh.
                self._figure()
            self._built = True
            drawn = super().render()
            self._plain = drawn.plain if isinstance(drawn, Text) else ""
            return drawn
        except (ArithmeticError, ValueError, IndexError) as err:
            # A plot that cannot be drawn must never take the dashboard down.
            return f"(the loss plot cannot be drawn: {type(err).__name__}: {err})"

    def on_click(self, event: events.Click) -> None:
        """View the step under the mouse: the columns between the x axis's corners span
        the axis's limits."""
        step = self.step_at(event.get_content_offset(self))
        if step is not None:
            self.post_message(self.StepPicked(step))

    def step_at(self, offset) -> int | None:
        """The step at a content offset of the plot as last drawn (None: not on the plot)."""
        if offset is None or self._snapshot is None or not len(self._snapshot.history):
            return None
        axis = next((line for line in self._plain.splitlines() if "└" in line), None)
        if axis is None or "┘" not in axis:
            return None
        left, right = axis.index("└") + 1, axis.rindex("┘") - 1
        if right <= left or not left <= offset.x <= right:
            return None
        low, high = self._x_range
        x = low + (offset.x - left) / (right - left) * (high - low)
        step = round(10**x if self.log_steps else x)
        present = self._snapshot.present
        return min(max(step, 0), self._snapshot.step if present is None else present)

    def _draw(self) -> None:
        """Plot the kept snapshot, and say in the border what is drawn."""
        scale = "log" if self.log_scale else "linear"
        steps_scale = "log steps · " if self.log_steps else ""
        try:
            labels, clipped = self._figure()
        except (ArithmeticError, ValueError, IndexError):
            labels, clipped = [], False  # render() says why
        self._built = False
        self.border_title = legend(labels, self.size.width - 4)
        clip = f" · clipped at {CLIP:g}" if clipped else ""
        travel = " · < > back in time" if self._snapshot and self._snapshot.step else ""
        self.border_subtitle = f"{steps_scale}{scale} scale{clip} · l to switch{travel}"
        self.refresh()

    def _curves(self, snap: Snapshot) -> list[tuple]:
        """(steps, values, colour, label) of each curve, the run's own first."""
        history = snap.history
        batch = snap.config.batch_size
        if batch is not None and batch < len(snap.targets):
            # Mini-batches: each step's loss is its batch's; the loss on every
            # training sample is drawn from the steps that computed it.
            curves = [(history.steps, history.loss, TRAIN_COLOUR, f"batch of {batch}")]
            full = [(s, v) for s, v in zip(history.steps, history.full_loss) if not math.isnan(v)]
            if full:
                steps, values = zip(*full)
                every = f"all {len(snap.targets)}, every {FULL_LOSS_EVERY} steps"
                curves.append((steps, values, FULL_COLOUR, every))
        else:
            curves = [(history.steps, history.loss, TRAIN_COLOUR, "train")]
        if snap.test_targets:
            curves.append((snap.history.steps, snap.history.test_loss, TEST_COLOUR, "test"))
        if snap.twin_history is not None:
            curves.append(
                (snap.twin_history.steps, snap.twin_history.loss, TWIN_COLOUR, self.twin_label)
            )
        ghost = snap.ghost
        if ghost is not None and ghost.steps:
            label = f"ghost after step {ghost.branch_step}"
            curves.append((ghost.steps, ghost.loss, GHOST_COLOUR, label))
        return curves

    def _figure(self) -> tuple[list[tuple[str, str]], bool]:
        """Issue the plotext calls for the kept snapshot: (label, colour) per curve, clipped."""
        snap = self._snapshot
        plt = self.plt
        plt.clear_figure()
        plt.xlabel("step")
        if snap is None or not len(snap.history):
            plt.title("press space to take a step, r to run")
            return [], False
        columns = max(self.size.width - 12, 10)
        curves = self._curves(snap)
        clipped = False
        drawn: list[float] = []
        for steps, values, colour, _label in reversed(curves):  # the run's own curve on top
            usable = [
                min(v, CLIP) if math.isfinite(v) and (v > 0 or not self.log_scale) else math.nan
                for v in values
            ]
            clipped |= any(math.isfinite(v) and v > CLIP for v in values)
            if self.log_steps:
                points = fmt.thin_log(steps, usable, columns)
            else:
                points = fmt.thin(usable, columns)
            if not points:
                continue
            xs = [steps[i] for i, _ in points]  # long runs keep older steps thinned
            ys = [v for _, v in points]
            if colour == TRAIN_COLOUR:
                self.drawn_steps = tuple(xs)
            xs = [self._x(x) for x in xs]
            drawn.extend(v for v in ys if math.isfinite(v))
            # No plotext legend: its box hides the curves; the border title names them.
            plt.plot(xs, ys, marker="braille", color=colour)
        if not self.log_scale and drawn:
            # plotext writes 1e30 as 1000000000000000019884624838656.0: label the ticks ourselves.
            low, high = min(drawn), max(drawn)
            if high > low:
                # As many as the rows hold apart: plotext drops colliding labels unevenly.
                count = 5 if self.size.height >= 14 else 3
                ticks = [low + i * (high - low) / (count - 1) for i in range(count)]
                plt.yticks(ticks, [tick_label(t, high - low) for t in ticks])
        if self.log_scale:
            plt.yscale("log")
            if drawn:
                ticks = decade_ticks(min(drawn), max(drawn))
                # The axis spans whole decades: a tick outside the data's range would
                # otherwise be drawn at the plot's edge (1e-2 on the x axis's row).
                # (plotext takes the limits of a log axis as exponents.)
                plt.ylim(math.log10(ticks[0]), math.log10(ticks[-1]))
                plt.yticks(ticks, [f"1e{round(math.log10(t))}" for t in ticks])
        for event in snap.bug_events:
            if event.step > 0:
                plt.vline(self._x(event.step + 0.5), BUG_ON if event.on else BUG_OFF)
        if snap.diverged_at is not None:
            plt.vline(self._x(snap.diverged_at), "red")
            plt.title(f"diverged at step {snap.diverged_at}")
        if snap.present is not None:  # a past step: where the panes are
            plt.vline(self._x(max(snap.step, 1)), CURSOR_COLOUR)
            plt.title(f"viewing step {snap.step} of {snap.present}")
        ghost_end = snap.ghost.last_step if snap.ghost is not None else 0
        last = max(snap.step if snap.present is None else snap.present, ghost_end, 2)
        self._x_range = (self._x(1), self._x(last))
        plt.xlim(*self._x_range)
        if self.log_steps:
            ticks = [t for t in decade_ticks(1, last) if t <= last]
            plt.xticks([self._x(t) for t in ticks], [f"{t:,.0f}" for t in ticks])
        else:
            ticks = sorted({1 + round(i * (last - 1) / 4) for i in range(5)})
            plt.xticks(ticks, [str(t) for t in ticks])
        return [(label, colour) for _, _, colour, label in curves], clipped
