"""What the Graph screen draws for one graph: its boxes, their names, widths and layout.

A value is a record ``label │ data │ grad`` with its op in a small node on its
left, as in ``draw_dot``. In a model's graph each neuron (its weights, bias,
products, sums and activation) can collapse into one box,
``h1.3  Σ wx + b → tanh │ data │ grad``, so one moons sample's ~1,000 values
fit on a few screens; Enter expands it. Pure Python (no Textual).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine.inspect.graph import Graph, GraphNode
from engine.training.health import Health
from tui.graphview.layout import Item, Layout, layout
from tui.graphview.stepper import fmt, name_of

Group = tuple[int, int]
PARAMETER = re.compile(r"layer (\d+), neuron (\d+), (?:from [xh](\d+)|bias)")
ACTIVATIONS = {"tanh": "tanh", "ReLU": "relu", "relu": "relu", "sigmoid": "sigmoid"}


def model_names(graph: Graph, groups: dict[Group, list[int]]) -> list[str]:
    """Short names for a model's values: w2.1.3 (layer 2, neuron 1, from h3), b2.1, h2.1."""
    names = [name_of(node) for node in graph.nodes]
    outputs = {members[-1]: group for group, members in groups.items()}
    last_layer = max((group[0] for group in groups), default=0)
    for node in graph.nodes:
        match = PARAMETER.fullmatch(node.label)
        if match:
            layer, neuron, source = match.groups()
            names[node.id] = f"w{layer}.{neuron}.{source}" if source else f"b{layer}.{neuron}"
        elif node.id in outputs and not node.label.startswith(("score", "loss")):
            layer, neuron = outputs[node.id]
            if layer < last_layer or not node.label:
                names[node.id] = f"h{layer}.{neuron}"
    return names


def neuron_groups(graph: Graph) -> dict[Group, list[int]]:
    """Each neuron's values, in topological order; a leaf only its neuron uses joins it."""
    group_of: dict[int, Group] = {n.id: n.group for n in graph.nodes if n.group is not None}
    parents: dict[int, list[int]] = {}
    for node in graph.nodes:
        for child in node.children:
            parents.setdefault(child, []).append(node.id)
    for node in graph.nodes:
        if node.group is None and not node.op and node.kind not in ("input", "target"):
            owners = {group_of.get(p) for p in parents.get(node.id, [])}
            if len(owners) == 1 and None not in owners:
                group_of[node.id] = owners.pop()
    groups: dict[Group, list[int]] = {}
    for node in graph.nodes:
        if node.id in group_of:
            groups.setdefault(group_of[node.id], []).append(node.id)
    # The neuron's output is its last value; a group without a computed value is no neuron.
    return {g: members for g, members in groups.items() if graph.nodes[members[-1]].op}


@dataclass(frozen=True, slots=True)
class Box:
    """One drawn box: a value, or a collapsed neuron (shown by its output value)."""

    key: int  # the value it shows (a neuron: its output)
    op: str  # drawn in the small node on the left; "" for a leaf or a neuron
    label: str
    data_width: int
    grad_width: int
    neuron: Group | None = None  # set for a collapsed neuron
    formula: str = ""
    health: str = ""  # a collapsed neuron's health: "dead", "saturated" or ""

    @property
    def op_width(self) -> int:
        return len(self.op) + 2 if self.op else 0  # "(op)", touching its box

    @property
    def width(self) -> int:
        return self.op_width + self.box_width

    @property
    def box_width(self) -> int:
        head = len(self.label) + (len(self.formula) + 2 if self.formula else 0)
        head += 2 if self.health else 0  # " ✕" after the label
        return 1 + head + 3 + self.data_width + 3 + self.grad_width + 1


class Picture:
    """The boxes and layout of ``graph`` with the neurons in ``expanded`` opened."""

    def __init__(
        self, graph: Graph, expanded: Iterable[Group] = (), health: dict[Group, str] | None = None
    ) -> None:
        """``health``: a state per neuron (``health_by_group``), marked on its collapsed box."""
        self.graph = graph
        self.groups = neuron_groups(graph)
        self.names = (
            model_names(graph, self.groups) if self.groups else [name_of(n) for n in graph.nodes]
        )
        self.expanded = set(expanded) & set(self.groups)
        group_of = {m: g for g, members in self.groups.items() for m in members}
        self.group_of = group_of
        outputs = {g: members[-1] for g, members in self.groups.items()}
        # Which box shows each value: itself, or its collapsed neuron.
        self.box_of: dict[int, int] = {}
        for node in graph.nodes:
            group = group_of.get(node.id)
            self.box_of[node.id] = (
                outputs[group] if group is not None and group not in self.expanded else node.id
            )
        grad_widths = self._grad_widths()
        self.boxes: dict[int, Box] = {}
        items: list[Item] = []
        for node in graph.nodes:
            group = group_of.get(node.id)
            collapsed = group is not None and group not in self.expanded
            if collapsed and node.id != outputs[group]:
                continue
            # A layer's collapsed neurons share a column (an expanded one spreads out).
            align = ("layer", group[0]) if collapsed else None
            if collapsed:
                children = []
                for member in self.groups[group]:
                    for child in graph.nodes[member].children:
                        box = self.box_of[child]
                        if box != node.id and box not in children:
                            children.append(box)
                box = Box(
                    node.id,
                    "",
                    self.names[node.id],
                    len(fmt(node.data)),
                    grad_widths[node.id],
                    group,
                    neuron_formula(graph, self.groups[group]),
                    (health or {}).get(group, ""),
                )
            else:
                children = list(dict.fromkeys(self.box_of[c] for c in node.children))
                box = Box(
                    node.id,
                    node.op,
                    self.names[node.id],
                    len(fmt(node.data)),
                    grad_widths[node.id],
                )
            self.boxes[node.id] = box
            items.append(Item(node.id, box.width, tuple(children), align))
        self.layout: Layout = layout(items)
        self.edge_rows = self.layout.lines()
        # Reading order for ↑/↓: column by column, top to bottom.
        self.order = sorted(self.boxes, key=lambda k: (self.layout.x[k], self.layout.y[k]))

    def _grad_widths(self) -> dict[int, int]:
        widths = {n.id: max(len(fmt(n.grad)), len(fmt(0.0))) for n in self.graph.nodes}
        widths[self.graph.output] = max(widths[self.graph.output], len(fmt(1.0)))
        for event in self.graph.events:
            widths[event.child] = max(widths[event.child], len(fmt(event.after)))
        # A collapsed neuron shows its output's grad: already counted.
        return widths

    def lit_cells(self, keys: Iterable[int]) -> dict[int, set[int]]:
        """The edge cells touching the boxes ``keys`` (drawn brighter)."""
        return self.layout.edges_of(keys)


def health_by_group(health: Health | None) -> dict[Group, str]:
    """Each dead or saturated neuron's state, by its graph group ((layer, neuron) from 1)."""
    if health is None:
        return {}
    marks = {(layer + 1, neuron + 1): "dead" for layer, neuron in health.dead}
    marks |= {(layer + 1, neuron + 1): "saturated" for layer, neuron in health.saturated}
    return marks


def neuron_formula(graph: Graph, members: list[int]) -> str:
    node: GraphNode = graph.nodes[members[-1]]
    activation = ACTIVATIONS.get(node.op)
    return f"Σ wx + b → {activation}" if activation else "Σ wx + b"
