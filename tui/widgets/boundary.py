"""The decision boundary: the model's output over the input plane, for 2-D data.

Each character cell is two pixels, one above the other: ``▀`` with the upper
pixel's colour in front and the lower pixel's behind. A pixel is coloured by
the sign of the model's output at its centre (blue positive, orange
negative, as everywhere in the dashboard), brighter where the output is
nearer ±1; so the boundary is where the colours meet. The training points sit
on top in their class colours (``●``), held-out test points as ``○``.

The output is evaluated with ``engine.inference`` (plain floats, no graph), at
most once per snapshot step and pane size. While training runs the grid is
recomputed at most every ``cost / BUDGET`` seconds (and at least every
``MAX_INTERVAL``), so the pane takes about ``BUDGET`` of the time and keeps
updating several times a second; the newest snapshot is always drawn in the
end.
"""

from __future__ import annotations

import math
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from engine.inference import PlainMLP, grid, pixel_centres
from engine.session import Snapshot
from tui import format as fmt

UPPER_HALF = "▀"
TRAIN_GLYPH = "●"
TEST_GLYPH = "○"
MARGIN = 0.1  # of the data's span, added on every side
LEVELS = 8  # colour steps for |output| from 0 to 1, on each side of the boundary
HEAT = 0.45  # the brightest the heat map gets (blend strength), so points stand out
POINT_TINT = 0.7  # points: their class colour, lightened toward white by this much (0..1: none..some)
NAN_COLOUR = "#b00020"
BUDGET = 0.15  # the share of time the pane may spend evaluating grids while training
MAX_INTERVAL = 0.4  # seconds: the pane redraws at least this often while snapshots arrive

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
        # One data unit per pixel in both directions: widen the tighter axis.
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
    level = round(min(abs(value), 1.0) * LEVELS)
    return fmt.blend(fmt.sign_colour(value), HEAT * level / LEVELS)


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
) -> list[list[Segment]]:
    """Two pixel rows of ``values`` per line, with the points drawn over them.

    A point takes its whole cell; its background is the colour of the pixel it
    falls in. Test points are drawn first, so a training point in the same
    cell wins; among points of one kind the later wins.
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
            if mark is None:
                segments.append(Segment(UPPER_HALF, styles(upper[column], lower[column])))
            else:
                glyph, fg, bg = mark
                segments.append(Segment(glyph, styles(fg, bg, bold=True)))
        lines.append(segments)
    return lines


def _points(xs: Sequence[Sequence[float]], ys: Sequence[float]) -> tuple[Point, ...]:
    return tuple((float(x[0]), float(x[1]), float(y)) for x, y in zip(xs, ys))


class DecisionBoundary(Widget):
    """The model's output over the plane of a 2-D dataset, with the data on top."""

    BORDER_TITLE = "Decision boundary"

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

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self._latest: Snapshot | None = None  # the newest snapshot shown
        self._drawn: Snapshot | None = None  # the one the heat map is (to be) drawn from
        self._test: tuple[Point, ...] = ()
        self._due: Timer | None = None
        self._next_grid_at = 0.0  # monotonic time the grid may be recomputed
        self._grid_key: tuple | None = None
        self._grid: list[list[float]] = []
        self._plane: Plane | None = None
        self._lines: list[Strip] = []
        self._lines_key: tuple | None = None
        self._prepared_for: tuple | None = None  # (snapshot, test points, width, height)
        self._styles = _Styles()
        self.grid_seconds = 0.0  # how long the last grid took to evaluate

    # -- data --------------------------------------------------------------------

    def show(
        self, snapshot: Snapshot, test_points: Iterable[tuple[Sequence[float], float]] | None = None
    ) -> None:
        """Draw this snapshot's model; ``test_points`` are (features, label) pairs."""
        self._latest = snapshot
        self._test = tuple((float(x[0]), float(x[1]), float(y)) for x, y in test_points or () if len(x) == 2)
        wait = self._next_grid_at - time.monotonic()
        if wait <= 0 or not self._needs_grid(snapshot) or self._changes_run(snapshot):
            if self._due is not None:
                self._due.stop()
            self._adopt()
        elif self._due is None:  # else a redraw is on its way, and will take the newest
            self._due = self.set_timer(wait, self._adopt)

    def _adopt(self) -> None:
        self._due = None
        self._drawn = self._latest
        self._update_subtitle()
        self.refresh()

    def _needs_grid(self, snapshot: Snapshot) -> bool:
        """Would drawing this snapshot evaluate a new grid?"""
        drawn = self._drawn
        return drawn is None or (drawn.weights, drawn.biases, drawn.config) != (
            snapshot.weights,
            snapshot.biases,
            snapshot.config,
        )

    def _changes_run(self, snapshot: Snapshot) -> bool:
        drawn = self._drawn
        return drawn is None or drawn.inputs is not snapshot.inputs or snapshot.step < drawn.step

    def _update_subtitle(self) -> None:
        snap = self._drawn
        if snap is None or not self._is_2d(snap):
            self.border_subtitle = ""
            return
        legend = f"{TRAIN_GLYPH} train" + (f"  {TEST_GLYPH} test" if self._test else "")
        self.border_subtitle = f"{legend} · step {snap.step}"

    @staticmethod
    def _is_2d(snapshot: Snapshot) -> bool:
        return snapshot.layer_sizes[0] == 2

    # -- drawing -------------------------------------------------------------------

    def _evaluate(self, snap: Snapshot, columns: int, rows: int) -> None:
        """The grid for this snapshot and size, from the cache when nothing changed."""
        train = _points(snap.inputs, snap.targets)
        plane = Plane.around([(x, y) for x, y, _ in train + self._test], columns, rows)
        key = (snap.step, plane, snap.weights, snap.biases, snap.config)
        if key != self._grid_key:
            started = time.perf_counter()
            self._grid = grid(PlainMLP.from_snapshot(snap), plane.x_range, plane.y_range, columns, rows)
            self.grid_seconds = time.perf_counter() - started
            self._grid_key = key
            self._next_grid_at = time.monotonic() + min(self.grid_seconds / BUDGET, MAX_INTERVAL)
        self._plane = plane
        lines_key = (key, train, self._test)
        if lines_key != self._lines_key:
            segments = heat_map_lines(self._grid, plane, train, self._test, self._styles)
            self._lines = [Strip(line, plane.columns) for line in segments]
            self._lines_key = lines_key

    def _message_lines(self, snap: Snapshot | None, width: int, height: int) -> list[Strip]:
        if snap is None:
            return []
        paragraphs = [
            f"The decision boundary needs data with two features; this data has {snap.layer_sizes[0]}.",
            "Try moons, xor, circles, spiral or blobs.",
        ]
        text = []
        for paragraph in paragraphs:
            text += [""] * bool(text) + textwrap.wrap(paragraph, max(width - 2, 10))
        top = max((height - len(text)) // 2, 0)
        base = self.rich_style
        lines = [Strip.blank(width, base)] * top
        for t in text:
            left = max((width - len(t)) // 2, 0)
            line = Strip([Segment(" " * left, base), Segment(t, base + Style(dim=True))])
            lines.append(line.crop(0, width))
        return lines

    def _prepare(self, width: int, height: int) -> list[Strip]:
        """The lines for the drawn snapshot at this size (once per change, not per line)."""
        snap, test = self._drawn, self._test
        done = self._prepared_for
        if done is not None and done[0] is snap and done[1] is test and done[2:] == (width, height):
            return self._lines
        if snap is None or width < 1 or height < 1:
            self._lines = []
        elif not self._is_2d(snap):
            self._lines = self._message_lines(snap, width, height)
            self._lines_key = None
        else:
            self._evaluate(snap, width, 2 * height)
        self._prepared_for = (snap, test, width, height)
        return self._lines

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        lines = self._prepare(width, height)
        if y < len(lines):
            return lines[y].extend_cell_length(width, self.rich_style)
        return Strip.blank(width, self.rich_style)

    @property
    def is_behind(self) -> bool:
        """Whether a newer snapshot is waiting for its turn to be drawn."""
        return self._due is not None

    @property
    def plane(self) -> Plane | None:
        """The part of the plane drawn last (None before the first 2-D draw)."""
        return self._plane
