"""The decision boundary: the model's output over the input plane, for 2-D data.

Each character cell is two pixels, one above the other: ``▀`` with the upper
pixel's colour in front and the lower pixel's behind. A pixel is coloured by
the sign of the model's output at its centre (blue positive, orange
negative, as everywhere in the dashboard), brighter where the output is
nearer ±1; so the boundary is where the colours meet. The training points sit
on top in their class colours (``●``), held-out test points as ``○``.

The output is evaluated with ``engine.inspect.inference`` (plain floats, no graph), at
most once per snapshot step and pane size. The first picture, and the one
after a resize, a reset or a new run, is evaluated at once. While training
runs, the picture on screen stays up while a thread worker evaluates the next
one, so the app keeps answering keys; and a new grid starts when
``tui.dashboard.pacing.grid_pacer`` allows: the pane takes about ``GRID_SHARE`` of the
interpreter (which the training thread shares) and still redraws at least
twice a second. The newest snapshot is always drawn in the end.

Draw mode (``d`` in the dashboard) puts a cursor on the plane: the arrow keys
move it a cell at a time, ``+`` (or ``=``) asks for a +1 point at its cell,
``-`` for a -1 point, ``delete`` to remove the point nearest to it; with the
mouse, a left click asks for +1, a right click (or alt+click) for -1, a
middle click (or ctrl+click) to remove. The pane only asks (a ``PointEdit``
message, in data coordinates: the centre of the cell); the app changes the
run's points. While drawing, the plane stays where it was (a point drawn near
the edge does not rescale the picture under the cursor); it fits the points
again when draw mode ends. Outside draw mode a click on a training point opens
its graph.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from itertools import count
from typing import ClassVar

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from engine.inspect.inference import PlainMLP, grid, pixel_centres
from engine.training.records import Snapshot
from tui.dashboard import format as fmt
from tui.dashboard import pacing
from tui.dashboard.messages import PointEdit, SamplePicked
from tui.dashboard.widgets.pane import Pane

UPPER_HALF = "▀"
TRAIN_GLYPH = "●"
TEST_GLYPH = "○"
CURSOR_GLYPH = "┼"  # draw mode's cursor on an empty cell
CURSOR_BG = "#000000"  # the cursor's cell, so it shows on either colour of the heat map
CURSOR_FG = "#ffffff"
# Mouse buttons as Textual numbers them.
LEFT, MIDDLE, RIGHT = 1, 2, 3
MARGIN = 0.1  # of the data's span, added on every side
LEVELS = 8  # colour steps for |output| from 0 to 1, on each side of the boundary
HEAT = 0.45  # the brightest the heat map gets (blend strength), so points stand out
POINT_TINT = 0.7  # points: their class colour over white at this strength (1: the pure colour)
NAN_COLOUR = "#b00020"

Point = tuple[float, float, float]  # x, y, label


@dataclass(frozen=True)
class Plane:
    """The part of the input plane the pane shows, cut into ``columns`` x ``rows`` pixels."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    columns: int
    rows: int  # pixel rows: two per line of text

    @classmethod
    def around(cls, points: Iterable[Sequence[float]], columns: int, rows: int) -> Plane:
        """The points' bounds plus ``MARGIN``, widened so that x and y share one scale.

        Half-block pixels are about square, so circles in the data stay circles.
        """
        xs, ys = [], []
        for p in points:
            if math.isfinite(p[0]) and math.isfinite(p[1]):
                xs.append(p[0])
                ys.append(p[1])
        if not xs:
            xs, ys = [-1.0, 1.0], [-1.0, 1.0]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        span = max(x1 - x0, y1 - y0) or 2.0
        x0, x1 = x0 - MARGIN * span, x1 + MARGIN * span
        y0, y1 = y0 - MARGIN * span, y1 + MARGIN * span
        # As many data units per pixel across as down: widen the tighter axis.
        scale = max((x1 - x0) / columns, (y1 - y0) / rows)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half_w, half_h = scale * columns / 2, scale * rows / 2
        return cls((cx - half_w, cx + half_w), (cy - half_h, cy + half_h), columns, rows)

    def centre(self, column: int, row: int) -> tuple[float, float]:
        """The point at the centre of a pixel; row 0 is the top."""
        return (
            pixel_centres(*self.x_range, self.columns)[column],
            pixel_centres(*self.y_range, self.rows)[self.rows - 1 - row],
        )

    @property
    def lines(self) -> int:
        """Lines of text: two pixel rows each."""
        return self.rows // 2

    def cell_centre(self, column: int, line: int) -> tuple[float, float]:
        """The point at the centre of a character cell (between its two pixel rows)."""
        x, top = self.centre(column, 2 * line)
        bottom = self.centre(column, min(2 * line + 1, self.rows - 1))[1]
        return x, (top + bottom) / 2

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """The cell (column, line) a point falls in, or the nearest cell on the edge."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        column = int((x - x0) / (x1 - x0) * self.columns)
        row = int((y1 - y) / (y1 - y0) * self.rows)
        return (
            min(max(column, 0), self.columns - 1),
            min(max(row // 2, 0), max(self.lines - 1, 0)),
        )

    def pixel_of(self, x: float, y: float) -> tuple[int, int] | None:
        """The pixel (column, row) a point falls in, or None outside the plane."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return None
        column = min(int((x - x0) / (x1 - x0) * self.columns), self.columns - 1)
        row = min(int((y1 - y) / (y1 - y0) * self.rows), self.rows - 1)
        return column, row


def pixel_colour(value: float) -> str:
    """Blue for a positive output, orange for a negative one, brighter nearer ±1.

    |output| is cut into ``LEVELS`` steps (and capped at 1: the targets are ±1),
    so the colours are few and the same on every machine.
    """
    if math.isnan(value):
        return NAN_COLOUR
    return _level_colour(value >= 0, round(min(abs(value), 1.0) * LEVELS))


@cache
def _level_colour(positive: bool, level: int) -> str:
    return fmt.blend(fmt.POSITIVE if positive else fmt.NEGATIVE, HEAT * level / LEVELS)


def class_colour(label: float) -> str:
    """A point's colour: its class's sign colour, lighter than any heat-map pixel."""
    return fmt.blend(fmt.POSITIVE if label > 0 else fmt.NEGATIVE, POINT_TINT, (255, 255, 255))


class _Styles:
    """One ``Style`` per colour pair, made once: a pane has ~1000 cells but few colours."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, bool], Style] = {}

    def __call__(self, fg: str, bg: str, bold: bool = False) -> Style:
        key = (fg, bg, bold)
        style = self._cache.get(key)
        if style is None:
            style = self._cache[key] = Style(
                color=Color.parse(fg), bgcolor=Color.parse(bg), bold=bold
            )
        return style


def heat_map_lines(
    values: list[list[float]],
    plane: Plane,
    train: Sequence[Point],
    test: Sequence[Point] = (),
    styles: _Styles | None = None,
    cursor: tuple[int, int] | None = None,
) -> list[list[Segment]]:
    """Two pixel rows of ``values`` per line, with the points drawn over them.

    A point takes its whole cell; its background is the colour of the pixel it
    falls in. Test points are drawn first, so a training point in the same
    cell wins; among points of one kind the later wins. ``cursor`` (column,
    line): draw mode's cursor, a black cell holding its point or ``┼``.
    """
    styles = styles or _Styles()
    colours = [[pixel_colour(v) for v in row] for row in values]
    marks: dict[tuple[int, int], tuple[str, str, str]] = {}  # (line, column) -> glyph, fg, bg
    for glyph, points in ((TEST_GLYPH, test), (TRAIN_GLYPH, train)):
        for x, y, label in points:
            pixel = plane.pixel_of(x, y)
            if pixel is not None:
                column, row = pixel
                marks[row // 2, column] = (glyph, class_colour(label), colours[row][column])
    lines = []
    for line in range(plane.rows // 2):
        upper, lower = colours[2 * line], colours[2 * line + 1]
        segments = []
        for column in range(plane.columns):
            mark = marks.get((line, column))
            if (column, line) == cursor:
                glyph, fg = (CURSOR_GLYPH, CURSOR_FG) if mark is None else mark[:2]
                segments.append(Segment(glyph, styles(fg, CURSOR_BG, bold=True)))
            elif mark is None:
                segments.append(Segment(UPPER_HALF, styles(upper[column], lower[column])))
            else:
                glyph, fg, bg = mark
                segments.append(Segment(glyph, styles(fg, bg, bold=True)))
        lines.append(segments)
    return lines


def _points(xs: Sequence[Sequence[float]], ys: Sequence[float]) -> tuple[Point, ...]:
    return tuple((float(x[0]), float(x[1]), float(y)) for x, y in zip(xs, ys))


@dataclass(eq=False)
class _Grid:
    """The model's output over a plane: what was asked for, and (once evaluated) the values."""

    snapshot: Snapshot | None = None
    plane: Plane | None = None
    request: int = 0  # later requests have larger numbers
    values: list[list[float]] = field(default_factory=list)
    started: float = 0.0  # time.monotonic() when its evaluation started
    seconds: float = 0.0  # how long that took

    def same_as(self, other: _Grid) -> bool:
        """The same model over the same plane: nothing to evaluate again."""
        a, b = self.snapshot, other.snapshot
        if a is None or b is None:
            return False
        return (
            self.plane == other.plane
            and a.step == b.step
            and (a.weights, a.biases, a.config) == (b.weights, b.biases, b.config)
        )


def _evaluate(wanted: _Grid) -> _Grid:
    """Evaluate a grid (safe in any thread: snapshots are immutable)."""
    snap, plane = wanted.snapshot, wanted.plane
    assert snap is not None and plane is not None
    started = time.monotonic()
    values = grid(
        PlainMLP.from_snapshot(snap), plane.x_range, plane.y_range, plane.columns, plane.rows
    )
    return replace(wanted, values=values, started=started, seconds=time.monotonic() - started)


class DecisionBoundary(Pane, Widget):
    """The model's output over the plane of a 2-D dataset, with the data on top."""

    BORDER_TITLE = "Decision boundary"
    HELP_TITLE = "Decision boundary"
    HELP = (
        "For data with two features: the model's output over the plane, "
        "blue positive, orange negative, "
        "with the training points (●) and test points (○) on top. "
        "Click a training point to open its graph; b swaps it with the predictions. "
        "d: draw mode, to add your own points and watch the model adapt: the arrows "
        "move a cursor, + (or =) adds a +1 point, - a -1 point, delete removes the "
        "nearest point; or left-click for +1, right-click (or alt+click) for -1, "
        "middle-click (or ctrl+click) to remove. u undoes, U redoes, esc or d leaves "
        "draw mode. The run trains on the new points from its next step."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move_cursor(0, -1)", "Up", show=False),
        Binding("down", "move_cursor(0, 1)", "Down", show=False),
        Binding("left", "move_cursor(-1, 0)", "Left", show=False),
        Binding("right", "move_cursor(1, 0)", "Right", show=False),
        Binding("plus,equals_sign", "draw(1)", "+1 point", id="draw-plus"),
        Binding("minus", "draw(-1)", "-1 point", id="draw-minus"),
        Binding("delete,backspace", "erase", "Remove", id="draw-remove"),
        Binding("escape", "app.draw_mode", "Done", id="draw-done"),
    ]

    DEFAULT_CSS = """
    DecisionBoundary {
        border: round $primary 50%;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ):
        super().__init__(name=name, id=id, classes=classes)
        self._latest: Snapshot | None = None  # the newest snapshot shown
        self._test: tuple[Point, ...] = ()
        self._grid = _Grid()  # the grid on screen
        self._computing: _Grid | None = None  # the one a thread is evaluating
        self._requests = count(1)  # numbers grids in the order they were asked for
        self._pacer = pacing.grid_pacer()  # when a background grid may start
        self._due: Timer | None = None  # wakes _update when that time comes
        self._plane: Plane | None = None
        self._lines: list[Strip] = []
        self._lines_key: tuple | None = None
        self._styles = _Styles()
        self._drawing = False
        self._cursor: tuple[float, float] | None = None  # draw mode's, in data coordinates
        # In draw mode the plane stays put (a point drawn at the edge does not rescale
        # the view under the cursor); it fits the points again when draw mode ends.
        self._frozen: Plane | None = None
        self._last_edit = ""  # what the last drawn point did, for the border subtitle

    # -- what to draw ----------------------------------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        """Draw this snapshot's model, its training points and its held-out test points.

        ValueError unless the data has two features (the app shows the
        predictions pane for any other data).
        """
        if snapshot.layer_sizes[0] != 2:
            raise ValueError(
                f"the decision boundary needs data with 2 features, not {snapshot.layer_sizes[0]}"
            )
        self._latest = snapshot
        self._test = _points(snapshot.test_inputs, snapshot.test_targets)
        self._update()

    def on_resize(self) -> None:
        self._update()

    def _update(self) -> None:
        """Bring the picture up to the newest snapshot: now, in a thread, or after a wait.

        With nothing to show for this plane yet (the first draw, a resize, new
        data, a reset) the grid is evaluated here and now. Otherwise the current
        picture stays up while a thread evaluates the new one, so the app keeps
        answering keys, and a new one starts when the pacer allows.
        """
        snap = self._latest
        width, height = self.content_size
        if snap is None or width < 1 or height < 1:
            return
        train = _points(snap.inputs, snap.targets)
        points = train + self._test
        plane = self._frozen
        if (
            plane is None
            or (plane.columns, plane.rows) != (width, 2 * height)
            or any(plane.pixel_of(x, y) is None for x, y, _ in points)
        ):
            plane = Plane.around([(x, y) for x, y, _ in points], width, 2 * height)
        if self._drawing:  # the first draw in draw mode, or a resize: draw on this fit
            self._frozen = plane
        self._plane = plane
        wanted = _Grid(snap, plane)
        if wanted.same_as(self._grid):
            self._cancel_wait()
        elif self._grid.plane != plane or self._starts_over(snap):
            self._cancel_wait()
            wanted.request = next(self._requests)
            self._take(_evaluate(wanted))
        elif self._computing is None and self._due is None:
            wait = self._pacer.wait()
            if wait > 0:
                self._due = self.set_timer(wait, self._on_due)
            else:
                wanted.request = next(self._requests)
                self._computing = wanted
                self.run_worker(
                    partial(_evaluate, wanted), thread=True, group="boundary", exit_on_error=False
                )
        self._draw_lines(train)

    def _starts_over(self, snap: Snapshot) -> bool:
        """A new run or a reset: worth drawing at once. (Time travel's steps back are not:
        they are drawn in a thread, as training's steps are, so that < answers at once.)"""
        shown = self._grid.snapshot
        if shown is None or shown.inputs is not snap.inputs:
            return True
        travelled = snap.present is not None or shown.present is not None
        return snap.step < shown.step and not travelled

    def _on_due(self) -> None:
        self._due = None
        self._update()

    def _cancel_wait(self) -> None:
        if self._due is not None:
            self._due.stop()
            self._due = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "boundary" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
        ):
            return
        self._computing = None
        if event.state == WorkerState.SUCCESS:
            self._take(event.worker.result)
        self._update()  # draws it, and starts on a newer snapshot if one came meanwhile

    def _take(self, done: _Grid) -> None:
        if done.request < self._grid.request:
            return  # a newer grid is already up (e.g. evaluated after a resize)
        self._grid = done
        self._pacer.done(done.started, done.seconds)

    # -- drawing -------------------------------------------------------------------

    def _draw_lines(self, train: tuple[Point, ...]) -> None:
        """The heat map of the grid on screen, with the points (and the cursor) on top.

        The points are the newest snapshot's, over the grid on screen: a drawn
        point shows at once, the model's answer to it once its grid is evaluated.
        """
        shown = self._grid
        cursor = self.cursor_cell
        key = (shown.request, train, self._test, cursor)
        if key != self._lines_key and shown.plane is not None:
            segments = heat_map_lines(
                shown.values, shown.plane, train, self._test, self._styles, cursor
            )
            self._lines = [Strip(line, shown.plane.columns) for line in segments]
            self._lines_key = key
            if self._drawing:
                legend = f"{self._last_edit or 'draw: + - del u'} · {len(train)} {TRAIN_GLYPH}"
            else:
                legend = f"{TRAIN_GLYPH} train" + (f"  {TEST_GLYPH} test" if self._test else "")
                legend += " · d draw"
            self.border_subtitle = f"{legend} · step {shown.snapshot.step}"
            self.refresh()

    # -- draw mode ---------------------------------------------------------------------

    @property
    def drawing(self) -> bool:
        return self._drawing

    def set_drawing(self, on: bool) -> None:
        """Draw mode on (a cursor, keys and clicks add and remove points) or off."""
        self._drawing = on
        self._last_edit = ""
        self.can_focus = on
        self._frozen = self._plane if on else None  # None: fits the points again
        if on:
            self.focus()
        else:
            self._cursor = None
            if self.has_focus:
                self.screen.set_focus(None)
        self._lines_key = None  # redraw the subtitle and the cursor
        self._update()

    def tell(self, edit: str) -> None:
        """Show what the last drawn point did ("added +1") in the border subtitle."""
        self._last_edit = edit
        self._lines_key = None
        self._update()

    @property
    def cursor_cell(self) -> tuple[int, int] | None:
        """Draw mode's cursor as (column, line) of the plane on screen; None outside draw mode."""
        plane = self._grid.plane
        if not self._drawing or plane is None:
            return None
        if self._cursor is None:  # the middle of the plane, to start with
            self._cursor = plane.cell_centre(plane.columns // 2, plane.lines // 2)
        return plane.cell_of(*self._cursor)

    @property
    def cursor(self) -> tuple[float, float] | None:
        """The point a drawn point goes to: the centre of the cursor's cell."""
        cell, plane = self.cursor_cell, self._grid.plane
        return None if cell is None or plane is None else plane.cell_centre(*cell)

    def action_move_cursor(self, columns: int, lines: int) -> None:
        plane, cell = self._grid.plane, self.cursor_cell
        if plane is None or cell is None:
            return
        column = min(max(cell[0] + columns, 0), plane.columns - 1)
        line = min(max(cell[1] + lines, 0), plane.lines - 1)
        self._cursor = plane.cell_centre(column, line)
        self._draw_lines(self._train())

    def action_draw(self, label: float) -> None:
        self._ask("add", label)

    def action_erase(self) -> None:
        self._ask("remove", None)

    def _ask(self, kind: str, label: float | None) -> None:
        at, cell = self.cursor, self.cursor_cell
        if at is None or cell is None:
            return
        on_top = self._training_point_in(*cell) if kind == "add" else None
        self.post_message(PointEdit(kind, at, label, on_top))

    def _training_point_in(self, column: int, line: int) -> int | None:
        """The training point drawn in this cell (the one drawn on top), if any."""
        plane, snap = self._grid.plane, self._latest
        if plane is None or snap is None:
            return None
        found = None
        for i, (x, y) in enumerate(snap.inputs):
            pixel = plane.pixel_of(x, y)
            if pixel is not None and pixel[0] == column and pixel[1] // 2 == line:
                found = i
        return found

    def _train(self) -> tuple[Point, ...]:
        snap = self._latest
        return () if snap is None else _points(snap.inputs, snap.targets)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if y < len(self._lines):
            return self._lines[y].crop_extend(0, width, self.rich_style)
        return Strip.blank(width, self.rich_style)

    def on_click(self, event) -> None:
        """Draw mode: a click asks for a point (left +1, right -1, middle removes).
        Otherwise a click on (or next to) a training point asks for that sample's graph."""
        offset = event.get_content_offset(self)
        if self._drawing:
            event.stop()
            self._click_to_draw(event, offset)
            return
        sample = None if offset is None else self.sample_at(offset.x, offset.y)
        if sample is not None:
            event.stop()
            self.post_message(SamplePicked(sample))
        elif offset is not None and self._grid.plane is not None:
            self.notify(
                f"Click a training point ({TRAIN_GLYPH}) to open its graph, "
                "or press d to draw your own points.",
                timeout=3,
            )

    def _click_to_draw(self, event, offset) -> None:
        plane = self._grid.plane
        if plane is None:
            return
        if offset is None or not (0 <= offset.x < plane.columns and 0 <= offset.y < plane.lines):
            self.notify("Click inside the plot to draw a point there.", timeout=3)
            return
        self._cursor = plane.cell_centre(offset.x, offset.y)
        self._draw_lines(self._train())
        if event.button == MIDDLE or event.ctrl:
            self._ask("remove", None)
        elif event.button == RIGHT or event.meta:
            self._ask("add", -1.0)
        elif event.button == LEFT:
            self._ask("add", 1.0)

    def sample_at(self, column: int, line: int) -> int | None:
        """The training sample drawn nearest to this cell, if one is within a cell of it."""
        plane, snap = self._grid.plane, self._latest
        if plane is None or snap is None or not 0 <= column < plane.columns:
            return None
        if not 0 <= 2 * line < plane.rows:
            return None
        # A line of text holds two pixel rows: its centre is between them.
        x, top = plane.centre(column, 2 * line)
        bottom = plane.centre(column, min(2 * line + 1, plane.rows - 1))[1]
        y = (top + bottom) / 2
        per_pixel = (plane.x_range[1] - plane.x_range[0]) / plane.columns
        reach = 2.0 * per_pixel  # a cell is one pixel wide and two tall
        best, best_distance = None, reach
        for i, point in enumerate(snap.inputs):
            distance = math.hypot(point[0] - x, point[1] - y)
            if distance <= best_distance:
                best, best_distance = i, distance
        return best

    @property
    def is_behind(self) -> bool:
        """Whether a newer snapshot waits for its turn, or its grid is being evaluated."""
        return self._due is not None or self._computing is not None

    @property
    def plane(self) -> Plane | None:
        """The part of the plane drawn last (None before the first 2-D draw)."""
        return self._plane
