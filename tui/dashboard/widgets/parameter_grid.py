"""Every layer's weights (or their gradients) as neuron-by-input matrices.

Small nets show the numbers, with as many digits as the pane's width allows; a
net taller than its pane sets its layers side by side (with fewer digits if need
be) when that shows all of it; a net too wide for its pane falls back to a heat
map, two characters a parameter. Either way a cursor (arrow keys when focused,
or the mouse) picks one parameter, and ``CursorMoved`` tells the app which, so
the weights and gradients panes can point at the same one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from engine.nn import layer_activations, parameter_name
from engine.training.health import DEAD, MARKS, SATURATED, Health
from engine.training.records import Snapshot
from tui.dashboard import actions
from tui.dashboard import format as fmt

Cursor = tuple[int, int, int]  # layer, neuron, column (column == fan-in: the bias)

# "+0.688812" where the pane is wide, "+0.6888", then "+0.69"; narrower: a heat map.
NUMBER_WIDTHS = (9, 7, 5)


@dataclass(frozen=True)
class ParameterRef:
    """Which parameter a cursor points at, in words."""

    layer: int
    neuron: int
    column: int
    fan_in: int

    def describe(self) -> str:
        return parameter_name(self.layer, self.neuron, self.column, self.fan_in)


# What a gradients grid can show: what the (possibly buggy) code computed, what
# correct code computes at the same weights, or the difference.
GRADIENT_VIEWS = ("backprop", "true", "difference")


def unflatten(flat, layer_sizes: tuple[int, ...]):
    """Flat values in ``MLP.parameters()`` order -> (weights[l][n][i], biases[l][n])."""
    weights, biases, i = [], [], 0
    for nin, nout in itertools.pairwise(layer_sizes):
        layer_w, layer_b = [], []
        for _ in range(nout):
            layer_w.append(tuple(flat[i : i + nin]))
            layer_b.append(flat[i + nin])
            i += nin + 1
        weights.append(tuple(layer_w))
        biases.append(tuple(layer_b))
    return tuple(weights), tuple(biases)


def matrices(snapshot: Snapshot, what: str):
    """(weights, biases)-shaped values: "weights", or one of GRADIENT_VIEWS."""
    if what == "weights":
        return snapshot.weights, snapshot.biases
    true = snapshot.true_gradients
    if what == "backprop" or (what == "true" and true is None):
        return snapshot.weight_grads, snapshot.bias_grads
    if what == "true":
        return unflatten(true, snapshot.layer_sizes)
    if true is None:  # the last step ran clean: backprop is the true gradient
        return unflatten([0.0] * len(snapshot.gradients), snapshot.layer_sizes)
    diff = [g - t for g, t in zip(snapshot.gradients, true)]
    return unflatten(diff, snapshot.layer_sizes)


def parameter_value(snapshot: Snapshot, cursor: Cursor, what: str) -> float:
    layer, neuron, column = cursor
    weights, biases = matrices(snapshot, what)
    row = weights[layer][neuron]
    return biases[layer][neuron] if column == len(row) else row[column]


# Colours are quantised to this many steps of magnitude, so styles can be cached.
_LEVELS = 32
_BOLD = Style(bold=True)
_DIM = Style(dim=True)


@cache
def _style(definition: str) -> Style:
    return Style.parse(definition)


@cache
def _number_style(positive: bool, level: int) -> Style:
    colour = fmt.POSITIVE if positive else fmt.NEGATIVE
    return Style.parse(fmt.blend(colour, level / _LEVELS, (60, 60, 60)))


@cache
def _swatch(positive: bool, level: int) -> Style:
    colour = fmt.POSITIVE if positive else fmt.NEGATIVE
    return Style.parse(f"white on {fmt.blend(colour, level / _LEVELS)}")


@dataclass
class _Block:
    """One layer drawn: its lines, the parameter under each cell, its width."""

    lines: list[list[Segment]]
    spans: dict[int, list[tuple[int, int, Cursor]]]  # line -> (x0, x1, cursor)
    width: int


def _pack(blocks: list[_Block], width: int, side_by_side: bool) -> list[list[_Block]]:
    """Layers into rows of blocks: each under the last, or beside it while they fit ``width``."""
    rows: list[list[_Block]] = [[]]
    used = 0
    for block in blocks:
        if side_by_side and rows[-1] and used + 2 + block.width <= width:
            rows[-1].append(block)
            used += 2 + block.width
        elif not rows[-1]:
            rows[-1].append(block)
            used = block.width
        else:
            rows.append([block])
            used = block.width
    return rows


class ParameterGrid(ScrollView, can_focus=True):
    """Weights or gradients of every layer, numbers or heat map, with a cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        *actions.TRAVEL_KEYS,
    ]

    DEFAULT_CSS = """
    ParameterGrid { height: 1fr; scrollbar-size-vertical: 1; }
    """

    cursor: reactive[Cursor] = reactive((0, 0, 0))

    class CursorMoved(Message):
        def __init__(self, grid: ParameterGrid, cursor: Cursor) -> None:
            super().__init__()
            self.grid = grid
            self.cursor = cursor

    def __init__(self, gradients: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gradients = gradients
        self.view = "backprop" if gradients else "weights"
        self._snapshot: Snapshot | None = None
        self._lines: list[Strip] = []
        self._cells: dict[int, list[tuple[int, int, Cursor]]] = {}  # line -> (x0, x1, cursor)
        self._cursor_line: dict[Cursor, int] = {}
        self.heat_map = False
        self.number_width = NUMBER_WIDTHS[0]

    # -- data --------------------------------------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        layout_changed = (
            self._snapshot is None or self._snapshot.layer_sizes != snapshot.layer_sizes
        )
        self._snapshot = snapshot
        if layout_changed:
            self.cursor = (0, 0, 0)
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild()

    def watch_cursor(self) -> None:
        self._rebuild()
        line = self._cursor_line.get(self.cursor)
        if line is not None:
            self.scroll_to_region(Region(0, max(line - 1, 0), 1, 3), animate=False)

    def action_move(self, dx: int, dy: int) -> None:
        if self._snapshot is None:
            return
        sizes = self._snapshot.layer_sizes
        layer, neuron, column = self.cursor
        if dx:
            column = min(max(column + dx, 0), sizes[layer])  # sizes[layer] = fan-in: the bias
        if dy:
            neuron += dy
            if neuron < 0 and layer > 0:
                layer -= 1
                neuron = sizes[layer + 1] - 1
            elif neuron >= sizes[layer + 1] and layer < len(sizes) - 2:
                layer += 1
                neuron = 0
            neuron = min(max(neuron, 0), sizes[layer + 1] - 1)
            column = min(column, sizes[layer])
        self._set_cursor((layer, neuron, column))

    def _set_cursor(self, cursor: Cursor) -> None:
        if cursor != self.cursor:
            self.cursor = cursor
            self.post_message(self.CursorMoved(self, cursor))

    def on_mouse_move(self, event) -> None:
        line = event.y + int(self.scroll_offset.y)
        x = event.x + int(self.scroll_offset.x)
        for x0, x1, cursor in self._cells.get(line, ()):
            if x0 <= x < x1:
                self._set_cursor(cursor)
                return

    def on_click(self, event) -> None:
        self.focus()

    # -- drawing -------------------------------------------------------------------

    def _number_width(self, width: int) -> int | None:
        """The widest number format whose matrices fit, or None for a heat map."""
        assert self._snapshot is not None
        label = self._label_width()
        for number_width in NUMBER_WIDTHS:
            cell = number_width + (2 if self.gradients else 1)
            if all(
                label + (nin + 1) * cell - 1 <= width for nin in self._snapshot.layer_sizes[:-1]
            ):
                return number_width
        return None

    def _label_width(self) -> int:
        assert self._snapshot is not None
        return len(f"n{max(self._snapshot.layer_sizes[1:])}") + 1

    def _rebuild(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        width = max(self.scrollable_content_region.width, 20)
        number_width = self._number_width(width)
        self.heat_map = number_width is None
        self.number_width = number_width or NUMBER_WIDTHS[0]
        weights, biases = matrices(snap, self.view)
        finite = [
            abs(v)
            for layer_w, layer_b in zip(weights, biases)
            for row, b in zip(layer_w, layer_b)
            for v in (*row, b)
            if math.isfinite(v)
        ]
        scale = max(finite, default=0.0) or 1.0

        def layer_blocks() -> list[_Block]:
            return [
                self._layer_block(snap, li, layer_w, layer_b, scale)
                for li, (layer_w, layer_b) in enumerate(zip(weights, biases))
            ]

        # Numbers: one layer under another. Heat map: side by side while they fit.
        blocks = layer_blocks()
        rows = _pack(blocks, width, side_by_side=self.heat_map)
        height = self.scrollable_content_region.height
        if not self.heat_map and 0 < height < sum(len(block.lines) for block in blocks):
            # Taller than the pane: the layers side by side, with fewer digits if need
            # be, when that shows the whole net (xor's 8-8 net at 200x50: +0.69, all of it).
            for narrower in [w for w in NUMBER_WIDTHS if w <= self.number_width]:
                self.number_width = narrower
                packed = _pack(layer_blocks(), width, side_by_side=True)
                if sum(max(len(block.lines) for block in row) for row in packed) <= height:
                    rows = packed
                    break
            else:
                self.number_width = number_width or NUMBER_WIDTHS[0]

        lines: list[list[Segment]] = []
        cells: dict[int, list[tuple[int, int, Cursor]]] = {}
        cursor_line: dict[Cursor, int] = {}
        for row in rows:
            height = max(len(block.lines) for block in row)
            for y in range(height):
                line: list[Segment] = []
                x = 0
                spans = []
                for bi, block in enumerate(row):
                    if bi:
                        line.append(Segment("  "))
                        x += 2
                    part = block.lines[y] if y < len(block.lines) else []
                    line.extend(part)
                    part_width = sum(len(segment.text) for segment in part)
                    for sx0, sx1, cursor in block.spans.get(y, ()):
                        spans.append((x + sx0, x + sx1, cursor))
                        cursor_line[cursor] = len(lines)
                    if bi < len(row) - 1:
                        line.append(Segment(" " * (block.width - part_width)))
                    x += block.width
                if spans:
                    cells[len(lines)] = spans
                lines.append(line)
        self._cells = cells
        self._cursor_line = cursor_line
        self._lines = [Strip(segments) for segments in lines]
        self.virtual_size = Size(max((s.cell_length for s in self._lines), default=0), len(lines))
        self.refresh()

    def _layer_block(self, snap: Snapshot, li: int, layer_w, layer_b, scale: float) -> _Block:
        nin = snap.layer_sizes[li]
        activation = self._activations(snap)[li]
        label_width = self._label_width()
        if self.heat_map:
            title = f"L{li + 1} {activation} {len(layer_w)}×({nin}+b)"
        else:
            title = f"layer {li + 1} · {activation} · {len(layer_w)} × ({nin} in + bias)"
        lines: list[list[Segment]] = [[Segment(title, _BOLD)]]
        if not self.heat_map:
            source = "x" if li == 0 else "h"
            cell_w = self.number_width + (2 if self.gradients else 1)
            header = " " * label_width
            for c in range(nin):
                header += f"{source}{c + 1}".rjust(cell_w - 1) + " "
            header += "b".rjust(cell_w - 1)
            lines.append([Segment(header, _DIM)])
        spans: dict[int, list[tuple[int, int, Cursor]]] = {}
        cursor_style = "reverse" if self.has_focus or self.mouse_hover else "underline"
        health = snap.health
        for ni, (row, b) in enumerate(zip(layer_w, layer_b)):
            label = f"n{ni + 1}".rjust(label_width - 1) + " "
            state = health.state(li, ni) if health is not None else None
            if state is None:
                line = [Segment(label, _DIM)]
            else:  # the mark where the gap after the label was: healthy rows stay as they are
                mark = _style(fmt.HEALTH[state])
                line = [Segment(label[:-1], mark), Segment(MARKS[state], mark)]
            x = len(label)
            row_spans = []
            for ci, v in enumerate((*row, b)):
                here: Cursor = (li, ni, ci)
                cell = self._cell(v, scale, cursor_style if here == self.cursor else None)
                width = sum(len(segment.text) for segment in cell)
                line.extend(cell)
                row_spans.append((x, x + width, here))
                x += width
                if not self.heat_map and ci < len(row):
                    line.append(Segment(" "))
                    x += 1
            spans[len(lines)] = row_spans
            lines.append(line)
        width = max(sum(len(segment.text) for segment in line) for line in lines)
        return _Block(lines, spans, width)

    def _activations(self, snap: Snapshot) -> list[str]:
        cfg = snap.config
        return list(
            layer_activations(cfg.activation, cfg.output_activation, len(snap.layer_sizes) - 1)
        )

    def _cell(self, value: float, scale: float, cursor_style: str | None) -> list[Segment]:
        """One parameter as segments: a coloured number (and a bar), or a heat-map swatch."""
        finite = math.isfinite(value)
        level = round(min(abs(value) / scale, 1.0) * _LEVELS) if finite else _LEVELS
        positive = value >= 0
        if self.heat_map:
            if self.gradients and fmt.is_bad(value):
                return [Segment("!!", _style(fmt.BAD))]
            return [Segment("▐▌" if cursor_style else "  ", _swatch(positive, level))]
        bad = self.gradients and fmt.is_bad(value)
        style = _style(fmt.BAD) if bad else _number_style(positive, level)
        if cursor_style:
            style = style + _style(cursor_style)
        cell = [Segment(fmt.number(value, self.number_width), style)]
        if self.gradients:
            cell.append(Segment(fmt.bar(level / _LEVELS), _style(fmt.sign_colour(value))))
        return cell

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + int(scroll_y)
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._lines[index].crop(int(scroll_x), int(scroll_x) + width)
        return strip.extend_cell_length(width, self.rich_style).apply_style(self.rich_style)


def describe_parameter(snapshot: Snapshot, cursor: Cursor) -> str:
    """The parameter at ``cursor``: where it sits, its value and its gradients."""
    layer, neuron, column = cursor
    ref = ParameterRef(layer, neuron, column, snapshot.layer_sizes[layer])
    w = parameter_value(snapshot, cursor, "weights")
    g = parameter_value(snapshot, cursor, "backprop")
    text = f"{ref.describe()}: w {fmt.short(w)}, grad {fmt.short(g)}"
    if snapshot.true_gradients is not None:
        text += f", true grad {fmt.short(parameter_value(snapshot, cursor, 'true'))}"
    return text


def health_legend(health: Health | None) -> Text:
    """ "✕ 3 dead · ≈ 1 saturated" in the marks' colours; empty for a healthy net."""
    out = Text()
    for state, neurons in ((DEAD, health.dead), (SATURATED, health.saturated)) if health else ():
        if neurons:
            if out:
                out.append(" · ")
            out.append(f"{MARKS[state]} {len(neurons)} {state}", style=fmt.HEALTH[state])
    return out


# What the marks mean, for the panes' help paragraphs.
HEALTH_HELP = (
    f"A row marked {MARKS[DEAD]} (red) is a dead ReLU neuron: 0 on every training point, "
    f"so no point sends its weights a gradient; {MARKS[SATURATED]} (amber) a saturated "
    "tanh or sigmoid neuron: |t| > 0.99 (sigmoid within 0.01 of 0 or 1) on every point, so "
    "its local gradient is near 0 and it learns slowly. Measured at the weights shown, "
    "after the last step."
)


class ParameterPane(Vertical):
    """A pane holding a ``ParameterGrid`` and a ``.detail`` line: weights or gradients."""

    def subtitle(self, text: str, snapshot: Snapshot) -> str | Text:
        """``text``, then the health marks' legend when any neuron carries one."""
        legend = health_legend(snapshot.health)
        return Text(text + " · ") + legend if legend else text

    def show_detail(self, snapshot: Snapshot) -> None:
        """The detail line: the parameter under the grid's cursor, value and gradients."""
        cursor = self.query_one(ParameterGrid).cursor
        self.query_one(".detail", Static).update(describe_parameter(snapshot, cursor))
