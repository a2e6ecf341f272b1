"""A layered, left-to-right layout of a computation graph, in terminal cells.

Like karpathy's ``draw_dot`` (Graphviz ``rankdir=LR``): inputs on the left, the
output on the right, each value one box, edges drawn with box-drawing
characters. The steps are the classic layered (Sugiyama) ones, kept small:

1. columns: the longest path from the inputs; a leaf moves right, next to the
   first node that uses it; items sharing an ``align`` key (a model's layer)
   share a column;
2. a pass-through point in every column an edge crosses, so edges never run
   through a box;
3. order within a column by the mean position of the neighbours (a few sweeps);
4. rows: each box beside the middle of its inputs, never overlapping;
5. edges: between two columns each target gets its own vertical lane where
   their spans overlap, and the lines merge into ┬ ┴ ├ ┤ ┼ where they meet.

Why our own and not netext or grandalf: see docs/graph-layout.md (measured).
Pure Python; knows nothing of Textual, of values or of the engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

UP, DOWN, LEFT, RIGHT = 1, 2, 4, 8
LINE_CHARS = {
    LEFT | RIGHT: "─",
    UP | DOWN: "│",
    DOWN | RIGHT: "╭",
    DOWN | LEFT: "╮",
    UP | RIGHT: "╰",
    UP | LEFT: "╯",
    UP | DOWN | RIGHT: "├",
    UP | DOWN | LEFT: "┤",
    DOWN | LEFT | RIGHT: "┬",
    UP | LEFT | RIGHT: "┴",
    UP | DOWN | LEFT | RIGHT: "┼",
    LEFT: "╴",
    RIGHT: "╶",
    UP: "╵",
    DOWN: "╷",
}
ROW_GAP = 1  # empty rows between two boxes of a column
SWEEPS = 4


@dataclass(frozen=True, slots=True)
class Item:
    """One box to place: its width in cells and the items it takes its inputs from."""

    key: int
    width: int
    children: tuple[int, ...]
    align: Hashable | None = None


@dataclass(slots=True)
class Edge:
    """One drawn edge, as its cells: ``{(x, y): direction bits}``."""

    child: int
    parent: int
    cells: dict[tuple[int, int], int] = field(default_factory=dict)


@dataclass(slots=True)
class Layout:
    """Where every item sits (its left cell), and every edge's cells."""

    x: dict[int, int]
    y: dict[int, int]
    column: dict[int, int]
    width: int
    height: int
    edges: list[Edge]
    rows: dict[int, list[int]]  # y -> the items on that row, left to right
    _touching: dict[int, list[Edge]] | None = None

    def lines(self) -> dict[int, str]:
        """Each row's edge characters (rows without edges are missing)."""
        grid: dict[int, dict[int, int]] = {}
        for edge in self.edges:
            for (x, y), bits in edge.cells.items():
                row = grid.setdefault(y, {})
                row[x] = row.get(x, 0) | bits
        strings: dict[int, str] = {}
        for y, row in grid.items():
            chars = [" "] * (max(row) + 1)
            for x, bits in row.items():
                chars[x] = LINE_CHARS[bits]
            strings[y] = "".join(chars)
        return strings

    def edges_of(self, keys: Iterable[int]) -> dict[int, set[int]]:
        """The cells of the edges into or out of ``keys``, by row (drawn brighter)."""
        lit = set(keys)
        marked: dict[int, set[int]] = {}
        for key in lit:
            for edge in self.touching.get(key, ()):
                for x, y in edge.cells:
                    marked.setdefault(y, set()).add(x)
        return marked

    @property
    def touching(self) -> dict[int, list[Edge]]:
        if self._touching is None:
            self._touching = {}
            for edge in self.edges:
                self._touching.setdefault(edge.child, []).append(edge)
                self._touching.setdefault(edge.parent, []).append(edge)
        return self._touching


def _columns(items: Sequence[Item]) -> dict[int, int]:
    """Longest path from the inputs; leaves next to their first user; aligned items together."""
    parents: dict[int, list[int]] = {item.key: [] for item in items}
    for item in items:
        for child in item.children:
            parents[child].append(item.key)
    aligned: dict[Hashable, int] = {}
    column: dict[int, int] = {}
    for _ in range(len(items) + 1):  # settles in (number of align groups + 1) rounds
        for item in items:  # items come children first
            level = 1 + max((column[c] for c in item.children), default=-1)
            if item.align is not None:
                level = max(level, aligned.get(item.align, 0))
            column[item.key] = level
        settled = True
        for item in items:
            if item.align is not None and column[item.key] > aligned.get(item.align, -1):
                aligned[item.align] = column[item.key]
                settled = False
        if settled:
            break
    for item in reversed(items):  # parents first: a leaf moves right, next to its first user
        if not item.children and parents[item.key]:
            column[item.key] = min(column[p] for p in parents[item.key]) - 1
    low = min(column.values(), default=0)
    return {key: level - low for key, level in column.items()}


def layout(items: Sequence[Item], row_gap: int = ROW_GAP, min_gap: int = 2) -> Layout:
    """Place ``items`` (children before parents) left to right; see the module docstring."""
    if not items:
        return Layout({}, {}, {}, 0, 0, [], {})
    column = _columns(items)
    widths = {item.key: item.width for item in items}
    # Pass-through points (negative keys) wherever an edge skips columns: one chain per
    # parent, shared by all its far children (they merge into it, like a bus).
    links: list[tuple[int, int]] = []  # (child point, parent point), adjacent columns
    routes: dict[tuple[int, int], list[int]] = {}  # real edge -> its points, child to parent
    next_dummy = -1
    for item in items:
        far = [c for c in dict.fromkeys(item.children) if column[item.key] - column[c] > 1]
        chain: dict[int, int] = {}  # column -> pass-through point
        if far:
            for level in range(min(column[c] for c in far) + 1, column[item.key]):
                column[next_dummy] = level
                widths[next_dummy] = 0
                chain[level] = next_dummy
                next_dummy -= 1
            points = [chain[level] for level in sorted(chain)] + [item.key]
            links.extend(itertools.pairwise(points))
        for child in dict.fromkeys(item.children):
            start = column[child] + 1
            path = [child] + [chain[level] for level in sorted(chain) if level >= start]
            path.append(item.key)
            routes[(child, item.key)] = path
            links.append((child, path[1]))
    n_cols = max(column.values()) + 1
    cols: list[list[int]] = [[] for _ in range(n_cols)]
    for item in items:
        cols[column[item.key]].append(item.key)
    for key in range(-1, next_dummy, -1):
        cols[column[key]].append(key)
    ins: dict[int, list[int]] = {key: [] for key in column}
    outs: dict[int, list[int]] = {key: [] for key in column}
    for child, parent in links:
        ins[parent].append(child)
        outs[child].append(parent)

    # Order within columns: barycentre sweeps, stable for ties (keeps a layer's neuron order).
    pos = {key: i for col in cols for i, key in enumerate(col)}

    def sweep(sequence: Iterable[int], neighbours: dict[int, list[int]]) -> None:
        for c in sequence:
            col = cols[c]

            def centre(key: int, col: list[int] = col) -> float:
                near = neighbours[key]
                return sum(pos[n] for n in near) / len(near) if near else pos[key]

            col.sort(key=centre)
            for i, key in enumerate(col):
                pos[key] = i

    for _ in range(SWEEPS // 2):
        sweep(range(1, n_cols), ins)
        sweep(range(n_cols - 2, -1, -1), outs)

    # Rows: beside the middle of the neighbours, in column order, never overlapping.
    y: dict[int, int] = {}
    for c, col in enumerate(cols):
        bottom = -1 - row_gap
        for key in col:
            y[key] = bottom = bottom + 1 + row_gap
    for _ in range(2):
        for sequence, near in ((range(n_cols), ins), (range(n_cols - 1, -1, -1), outs)):
            for c in sequence:
                bottom = -1 - row_gap
                for key in cols[c]:
                    wanted = y[key]
                    if near[key]:
                        rows = sorted(y[n] for n in near[key])
                        wanted = (rows[0] + rows[-1]) // 2
                    y[key] = bottom = max(wanted, bottom + 1 + row_gap)

    top = min(y.values())
    y = {key: row - top for key, row in y.items()}

    # Columns' x: widest box, then a gap wide enough for its lanes.
    lanes: list[dict[int, int]] = []  # per gap: parent point -> lane index
    for c in range(n_cols - 1):
        spans: list[tuple[int, int, int]] = []
        for key in cols[c + 1]:
            rows = [y[n] for n in ins[key]] + [y[key]]
            if min(rows) != max(rows):
                spans.append((min(rows), max(rows), key))
        taken: list[int] = []  # per lane, the last row it is used to
        lane_of: dict[int, int] = {}
        for top, bottom, key in sorted(spans):
            for lane, end in enumerate(taken):
                if end < top:
                    taken[lane] = bottom
                    lane_of[key] = lane
                    break
            else:
                lane_of[key] = len(taken)
                taken.append(bottom)
        lanes.append(lane_of)
    col_width = [max((widths[k] for k in col), default=0) for col in cols]
    col_x: list[int] = []
    x_at = 0
    for c in range(n_cols):
        col_x.append(x_at)
        gap = max(min_gap, 1 + (max(lanes[c].values()) + 1 if c < n_cols - 1 and lanes[c] else 0))
        x_at += col_width[c] + gap
    width = x_at - max(min_gap, 0) if n_cols else 0
    x = {key: col_x[column[key]] for key in column}
    for key in column:  # a pass-through point spans its column
        if key < 0:
            widths[key] = col_width[column[key]]

    def path_cells(child: int, parent: int, cells: dict[tuple[int, int], int]) -> None:
        c = column[child]
        start = x[child] + widths[child]
        end = x[parent] - 1
        lane = lanes[c].get(parent)
        y0, y1 = y[child], y[parent]
        if lane is None or y0 == y1:
            _hline(cells, start, end, y0)
        else:
            lx = col_x[c] + col_width[c] + lane
            _hline(cells, start, lx, y0)
            _vline(cells, lx, y0, y1)
            _hline(cells, lx, end, y1)
        # The ends touch the boxes: whole lines there, not half ones.
        cells[(start, y0)] |= LEFT
        cells[(end, y1)] |= RIGHT

    edges: list[Edge] = []
    for (child, parent), path in routes.items():
        edge = Edge(child, parent)
        for a, b in itertools.pairwise(path):
            path_cells(a, b, edge.cells)
        for point in path[1:-1]:
            _hline(edge.cells, x[point], x[point] + widths[point], y[point])
            edge.cells[(x[point], y[point])] |= LEFT
        edges.append(edge)
    rows: dict[int, list[int]] = {}
    for item in sorted(items, key=lambda it: x[it.key]):
        rows.setdefault(y[item.key], []).append(item.key)
    height = max(y.values()) + 1
    real = {item.key for item in items}
    return Layout(
        {k: v for k, v in x.items() if k in real},
        {k: v for k, v in y.items() if k in real},
        {k: v for k, v in column.items() if k in real},
        width,
        height,
        edges,
        rows,
    )


def _hline(cells: dict[tuple[int, int], int], x0: int, x1: int, y: int) -> None:
    if x1 < x0:
        x0, x1 = x1, x0
    if x0 == x1:
        cells[(x0, y)] = cells.get((x0, y), 0) | LEFT | RIGHT
        return
    for x in range(x0, x1 + 1):
        bits = (LEFT if x > x0 else 0) | (RIGHT if x < x1 else 0)
        cells[(x, y)] = cells.get((x, y), 0) | bits


def _vline(cells: dict[tuple[int, int], int], x: int, y0: int, y1: int) -> None:
    if y1 < y0:
        y0, y1 = y1, y0
    for y in range(y0, y1 + 1):
        bits = (UP if y > y0 else 0) | (DOWN if y < y1 else 0)
        cells[(x, y)] = cells.get((x, y), 0) | bits
