"""Which graph the Graph screen shows (its source), and building it: no Textual here.

Three sources: one of the lecture's examples, an expression the learner typed, or the
model's graph for one training sample. The model's is built from a ``Snapshot`` (the
weights, data, rate and step of one moment of the run), so everything the screen says
about it (the step in its title, the rate in its update line) is of those same weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from engine import bugs as bug_catalogue
from engine.inspect.expr import EXAMPLES
from engine.inspect.graph import Difference, Graph, expression_graph, first_difference, model_graph
from engine.training.records import Snapshot
from tui.graphview.picture import Group

START_EXAMPLE = "neuron"
EXAMPLE_NAMES = tuple(EXAMPLES)


class Source(str, Enum):
    EXAMPLE = "example"
    YOURS = "yours"
    MODEL = "model"


@dataclass
class GraphState:
    """What the screen keeps between visits (the app holds it)."""

    source: Source = Source.EXAMPLE
    example: str = START_EXAMPLE
    expression: str = ""
    values: str = ""
    sample: int = 0
    bugs: set[str] = field(default_factory=set)
    expanded: set[Group] = field(default_factory=set)
    position: int = 0

    def engine_bugs(self) -> frozenset[str]:
        """The graph's bugs that act in an op or in backward(): the graph runs them."""
        return frozenset(b for b in self.bugs if b in bug_catalogue.BACKWARD_BUGS)

    def loop_bugs(self) -> frozenset[str]:
        """The graph's bugs that act in the training loop: the stepper describes them."""
        return frozenset(b for b in self.bugs if b in bug_catalogue.LOOP_BUGS)


def parse_values(text: str) -> dict[str, float]:
    """``a=2, b=-3`` -> {"a": 2.0, "b": -3.0}; a ValueError names the bad part."""
    values: dict[str, float] = {}
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        name, eq, number = part.partition("=")
        if not eq or not name.strip().isidentifier():
            raise ValueError(f"values: {part!r} is not name=number")
        try:
            values[name.strip()] = float(number)
        except ValueError:
            raise ValueError(f"values: {number.strip()!r} (for {name.strip()}) is not a number")
    return values


def format_values(values: dict[str, float]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in values.items())


def build_graph(state: GraphState, snapshot: Snapshot) -> Graph:
    """The graph ``state`` names; the model's at ``snapshot``'s weights (the sample kept
    within its data)."""
    if state.source is Source.MODEL:
        state.sample = max(0, min(state.sample, len(snapshot.inputs) - 1))
        return model_graph(
            snapshot.config,
            snapshot.parameters,
            snapshot.inputs,
            snapshot.targets,
            state.sample,
            state.engine_bugs(),
            # The numerical gradients of ~340 leaves would take most of the time
            # to open it; the screen shows them for expressions only.
            numerical=False,
        )
    if state.source is Source.YOURS:
        return expression_graph(state.expression, parse_values(state.values), state.engine_bugs())
    example = EXAMPLES[state.example]
    return expression_graph(example.source, example.values, state.engine_bugs())


def where_it_differs(state: GraphState, snapshot: Snapshot, graph: Graph) -> Difference | None:
    """Where ``graph`` (built with ``state``'s bugs) first parts from the same graph with a
    correct backward(); None without an engine bug, or where the two agree."""
    if not graph.bugs:
        return None
    correct = build_graph(replace(state, bugs=set(), sample=state.sample), snapshot)
    return first_difference(graph, correct)


def typed_difference(graph: Graph, expression: str, values: dict[str, float]):
    """``where_it_differs`` for a typed expression's graph."""
    if not graph.bugs:
        return None
    return first_difference(graph, expression_graph(expression, values, numerical=False))


def no_difference(state: GraphState, name_bugs: bool = True) -> str:
    """What ``n`` says when this graph's backward() has no step that differs."""
    loop = sorted(state.loop_bugs())
    if state.engine_bugs():
        return (
            "With these bugs this graph's backward() writes what a correct one writes: "
            "the graph never exercises them (x: another example)."
        )
    if loop and not name_bugs:
        return "This graph's backward() writes what a correct one writes."
    if loop:
        where = bug_catalogue.BUGS[loop[0]].where
        return (
            f"{loop[0]} acts in the training loop ({where}), not in backward(): no node "
            "of this graph differs from a correct backward()."
        )
    return "No bug is on in this graph: its backward() is a correct one (1-6)."


def describe(state: GraphState, snapshot: Snapshot) -> str:
    """What the title says the graph is."""
    if state.source is Source.MODEL:
        return (
            f"model · sample {state.sample + 1} of {len(snapshot.inputs)}"
            f" · weights of step {snapshot.step}"
        )
    if state.source is Source.YOURS:
        return "scratchpad · your expression"
    return f"scratchpad · {state.example}"
