"""A ``Value`` graph as plain records, and the events of one backward pass.

:func:`trace` runs ``backward()`` with an observer and keeps what it reported:
every ``child.grad`` update, in the order the engine made it. A stepper that
replays those events cannot disagree with the engine, and an engine bug shows
in them because it acted there: ``overwrite-grad``'s ``=``,
``forward-order-backward``'s order, ``tanh-derivative``'s local gradient.

Beside each leaf's backprop gradient, :func:`trace` keeps a numerical one:
the output recomputed with that leaf nudged by ``h`` either way (central
differences; ``h = 1e-6``, scaled up for leaves bigger than 1), as the
lecture's first part does by hand. With a bug on the two disagree.

:func:`expression_graph` builds a graph from the expression language
(``engine/inspect/expr.py``); :func:`model_graph` builds one training sample's graph,
from its inputs to its term of the loss, with the nodes ``Value`` builds in
the session's reference forward pass, labelled as the dashboard names them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from engine import bugs as engine_bugs
from engine.inspect.expr import parse
from engine.losses import LOSSES
from engine.nn import MLP
from engine.value import Value, ieee_exp, ieee_pow

# The bugs that act inside backward() or an op; the others live in the training loop.
ENGINE_BUGS = engine_bugs.BACKWARD_BUGS
LOOP_BUGS = engine_bugs.LOOP_BUGS

NUDGE = 1e-6  # the numerical gradient's h, for a leaf of size up to 1
NUDGE_TEXT = "1e-6"  # how messages write it
# A leaf's backprop and numerical gradients "differ" past this relative error (central
# differences with h = NUDGE agree to about 1e-8 on smooth graphs).
DIFFERS = 1e-4


def differs(backprop: float, numerical: float) -> bool:
    """Whether backprop's gradient and the numerical one disagree: the one rule for the
    graph command and the Graph screen's stepper."""
    if math.isnan(numerical) or math.isnan(backprop):
        return math.isnan(numerical) != math.isnan(backprop)
    scale = max(abs(backprop), abs(numerical), 1e-3)
    return abs(backprop - numerical) > DIFFERS * scale


class GraphError(ValueError):
    """A graph that cannot be built as asked (a loop bug, a sample out of range, ...)."""


@dataclass(frozen=True, slots=True)
class GraphNode:
    id: int  # index in Graph.nodes
    label: str  # "a", "w1", "n", "o"; model: "layer 2, neuron 1, from h1"
    op: str  # "" for a leaf; else Value._op ("+", "*", "**2", "tanh", ...)
    data: float
    grad: float  # after backward()
    children: tuple[int, ...]  # ids, in the Value's child order
    local_grads: tuple[float, ...]  # d(node)/d(child), as the op recorded it (bugs included)
    group: tuple[int, int] | None = None  # model graphs: (layer, neuron), 1-based
    kind: str = ""  # model graphs: input weight bias target constant neuron loss


@dataclass(frozen=True, slots=True)
class GradEvent:
    """One chain-rule update backward() made: child.grad (+)= local_grad * node_grad."""

    node: int  # the parent whose grad flows back
    child: int
    local_grad: float
    node_grad: float  # node.grad at that moment
    before: float  # child.grad before
    after: float  # child.grad after


@dataclass(frozen=True)
class Graph:
    nodes: tuple[GraphNode, ...]  # topological: children before parents, output last
    output: int
    events: tuple[GradEvent, ...]
    bugs: frozenset[str]  # engine bugs that were on during forward/backward
    numerical: dict[int, float] = field(default_factory=dict)  # leaf id -> numerical grad

    @property
    def leaves(self) -> tuple[GraphNode, ...]:
        return tuple(node for node in self.nodes if not node.op)


@dataclass(frozen=True)
class Difference:
    """Where a buggy backward() first writes a .grad that a correct one does not."""

    event: int  # index in the buggy graph's events: the write, in backward()'s order
    node: int  # the child whose .grad was written
    buggy: float  # child.grad after the buggy write
    correct: float  # child.grad after the same write of a correct backward()


def first_difference(buggy: Graph, correct: Graph) -> Difference | None:
    """The first chain-rule write where ``buggy``'s backward() parts from ``correct``'s.

    Both are the same graph (the same nodes, built the same way), ``correct`` without
    the bugs. Walk ``buggy``'s writes in the order the buggy engine made them (as the
    stepper shows them); match each to the correct pass's write along the same edge
    (the k-th write from a node to a child to the k-th), and compare what each left in
    ``child.grad``. The first that differs is the first step a learner can see go
    wrong: for ``overwrite-grad`` on ``b = a + a`` the second write to ``a`` (1.0,
    correct 2.0); for ``tanh-derivative`` the write into the tanh's input. None when
    every write agrees (no engine bug, or one this graph never exercises).
    """
    if [n.op for n in buggy.nodes] != [n.op for n in correct.nodes]:
        raise GraphError("the two graphs differ in shape: build them from the same source")
    expected: dict[tuple[int, int], list[float]] = {}
    for event in correct.events:
        expected.setdefault((event.node, event.child), []).append(event.after)
    seen: dict[tuple[int, int], int] = {}
    for index, event in enumerate(buggy.events):
        edge = (event.node, event.child)
        k = seen.get(edge, 0)
        seen[edge] = k + 1
        writes = expected.get(edge, [])
        right = writes[k] if k < len(writes) else math.nan
        same = event.after == right or (math.isnan(event.after) and math.isnan(right))
        if not same:
            return Difference(index, event.child, event.after, right)
    return None


def check_bugs(ids) -> frozenset[str]:
    """The engine bugs among ``ids``; GraphError for an unknown or a training-loop bug."""
    try:
        ids = engine_bugs.validate(ids)
    except ValueError as err:
        raise GraphError(str(err)) from None
    for bug_id in sorted(ids):
        if bug_id in LOOP_BUGS:
            where = engine_bugs.BUGS[bug_id].where
            raise GraphError(
                f"bug {bug_id} lives in the training loop ({where}), not in an op or "
                f"backward(); a graph takes only {', '.join(ENGINE_BUGS)}"
            )
    return ids


def trace(
    output: Value,
    labels: Mapping[int, str] | None = None,
    bugs=frozenset(),
    *,
    kinds: Mapping[int, str] | None = None,
    groups: Mapping[int, tuple[int, int]] | None = None,
    numerical: bool = True,
) -> Graph:
    """Zero the grads, run ``output.backward()`` with ``bugs`` on, and record it all.

    A bug that acts in an op (``tanh-derivative``) must already have been on
    when the graph was built: :func:`expression_graph` and :func:`model_graph`
    see to that. ``labels``, ``kinds`` and ``groups`` are keyed by ``id(Value)``;
    a Value without a label keeps its own ``.label``. ``numerical=False`` skips
    the numerical gradients (they cost one forward pass per leaf, twice).
    """
    bugs = check_bugs(bugs)
    labels, kinds, groups = labels or {}, kinds or {}, groups or {}
    topo = output.topological_order()
    index = {id(value): i for i, value in enumerate(topo)}
    for value in topo:
        value.grad = 0.0
    events: list[GradEvent] = []

    def observe(node: Value, child: Value, local_grad: float, before: float, after: float):
        events.append(
            GradEvent(index[id(node)], index[id(child)], local_grad, node.grad, before, after)
        )

    with engine_bugs.injected(bugs):
        output.backward(observe)
    nodes = tuple(
        GraphNode(
            id=i,
            label=labels.get(id(value), value.label),
            op=value._op,
            data=value.data,
            grad=value.grad,
            children=tuple(index[id(child)] for child in value._prev),
            local_grads=tuple(value._local_grads),
            group=groups.get(id(value)),
            kind=kinds.get(id(value), ""),
        )
        for i, value in enumerate(topo)
    )
    numbers = numerical_gradients(nodes) if numerical else {}
    return Graph(nodes, len(nodes) - 1, tuple(events), bugs, numbers)


# -- numerical gradients: the graph's forward pass again, in floats --------------------


def _forward_function(node: GraphNode) -> Callable[[list[float]], float]:
    """The node's data from everyone's data, as its op in engine/value.py computes it."""
    op, c = node.op, node.children
    if op == "+":
        return lambda d: d[c[0]] + d[c[1]]
    if op == "*":
        return lambda d: d[c[0]] * d[c[1]]
    x = c[0]
    if op.startswith("**"):
        n = float(op[2:])
        return lambda d: ieee_pow(d[x], n)
    if op == "exp":
        return lambda d: ieee_exp(d[x])
    if op == "log":
        return lambda d: math.log(d[x]) if d[x] > 0 else math.nan
    if op == "tanh":
        return lambda d: math.tanh(d[x])
    if op == "ReLU":
        return lambda d: d[x] if d[x] > 0 else 0.0
    if op == "sigmoid":
        return lambda d: 1.0 / (1.0 + ieee_exp(-d[x]))
    raise ValueError(f"no forward rule for op {op!r}")


def numerical_gradients(nodes: Sequence[GraphNode]) -> dict[int, float]:
    """d(output)/d(leaf) for every leaf, by central differences (NaN where undefined).

    Each nudge recomputes only the nodes downstream of that leaf.
    """
    if not nodes:
        return {}
    forward = [_forward_function(node) if node.op else None for node in nodes]
    parents: list[set[int]] = [set() for _ in nodes]
    for node in nodes:
        for child in node.children:
            parents[child].add(node.id)
    base = [node.data for node in nodes]
    output = len(nodes) - 1
    numerical = {}
    for leaf in (node for node in nodes if not node.op):
        downstream: set[int] = set()
        stack = [leaf.id]
        while stack:
            for parent in parents[stack.pop()]:
                if parent not in downstream:
                    downstream.add(parent)
                    stack.append(parent)
        if output not in downstream and leaf.id != output:
            numerical[leaf.id] = 0.0
            continue
        cone = sorted(downstream)  # ids are topological: children before parents
        h = NUDGE * max(1.0, abs(leaf.data))
        outputs = []
        try:
            for x in (leaf.data + h, leaf.data - h):
                data = base.copy()
                data[leaf.id] = x
                for i in cone:
                    data[i] = forward[i](data)
                outputs.append(data[output])
            numerical[leaf.id] = (outputs[0] - outputs[1]) / (2 * h)
        except (ValueError, OverflowError, ZeroDivisionError):
            numerical[leaf.id] = math.nan
    return numerical


# -- expressions -------------------------------------------------------------------------


def expression_graph(
    source: str, values: Mapping[str, float], bugs=frozenset(), *, numerical: bool = True
) -> Graph:
    """Parse ``source``, build it with ``values`` for its leaves, run backward, record.

    Raises ExprError (a ValueError) for text outside the language or a missing
    value, GraphError for a bug that lives in the training loop.
    """
    bugs = check_bugs(bugs)
    program = parse(source)
    with engine_bugs.injected(bugs):  # tanh-derivative acts when the op runs
        output, labels = program.build(values)
    return trace(output, labels, bugs, numerical=numerical)


# -- one training sample of a model ----------------------------------------------------


def _claim(root: Value, kind: str, group, kinds: dict, groups: dict) -> None:
    """Give ``kind``/``group`` to every node under ``root`` that has no kind yet."""
    stack = [root]
    while stack:
        value = stack.pop()
        if id(value) in kinds:
            continue
        kinds[id(value)] = kind if value._op else "constant"
        if group is not None:
            groups[id(value)] = group
        stack.extend(value._prev)


def _sample_term(loss: Value) -> tuple[Value, bool]:
    """The one-sample loss's term, and whether the loss is a mean (``* (1/n)``).

    engine/losses.py sums the terms from ``Value(0.0)``, then a mean loss
    multiplies by ``1/n``: one sample's loss is ``(0 + term) [* 1]``.
    """
    mean = loss._op == "*" and not loss._prev[1]._op
    total = loss._prev[0] if mean else loss
    start = total._prev[0] if total._op == "+" else None
    if start is None or start._op or start.data != 0.0:
        raise RuntimeError("engine/losses.py no longer sums its terms from Value(0.0)")
    return total._prev[1], mean


def model_graph(
    config,
    parameters: Sequence[float],
    xs: Sequence[Sequence[float]],
    ys: Sequence[float],
    sample: int,
    bugs=frozenset(),
    *,
    numerical: bool = True,
) -> Graph:
    """Training sample ``sample`` (0-based) through the model, to its term of the loss.

    ``config`` is an ``engine.training.session.SessionConfig``; ``parameters`` are the
    model's weights in ``MLP.parameters()`` order (a snapshot's
    ``parameters``). The graph is built fresh, never from a running session.
    The inputs are one shared leaf each (x1, x2, ...). The output is the
    sample's term of the loss: ``(ypred - target)**2`` for sse, and for a mean
    loss (mse, hinge, bce) the sample's term times ``1/n``, so the terms of
    all samples add up to the loss (without any L2 penalty, which belongs to
    no sample) and their gradients add up to the batch gradient.
    """
    bugs = check_bugs(bugs)
    if not xs or len(xs) != len(ys):
        raise GraphError(f"need matching, non-empty inputs and targets ({len(xs)} vs {len(ys)})")
    if not 0 <= sample < len(xs):
        raise GraphError(f"sample {sample} is out of range: 0 to {len(xs) - 1}")
    nin = len(xs[0])
    model = MLP(nin, list(config.hidden) + [1], config.activation, config.output_activation)
    params = model.parameters()
    if len(parameters) != len(params):
        raise GraphError(f"the model has {len(params)} parameters, {len(parameters)} were given")
    for p, value in zip(params, parameters):
        p.data = float(value)

    labels: dict[int, str] = {}
    kinds: dict[int, str] = {}
    groups: dict[int, tuple[int, int]] = {}
    inputs = [Value(float(x)) for x in xs[sample]]
    for i, x in enumerate(inputs):
        labels[id(x)], kinds[id(x)] = f"x{i + 1}", "input"
    for li, layer in enumerate(model.layers):
        source = "x" if li == 0 else "h"
        for ni, neuron in enumerate(layer.neurons):
            where = f"layer {li + 1}, neuron {ni + 1}"
            for wi, w in enumerate(neuron.w):
                labels[id(w)] = f"{where}, from {source}{wi + 1}"
                kinds[id(w)], groups[id(w)] = "weight", (li + 1, ni + 1)
            labels[id(neuron.b)] = f"{where}, bias"
            kinds[id(neuron.b)], groups[id(neuron.b)] = "bias", (li + 1, ni + 1)

    last = len(model.layers) - 1
    with engine_bugs.injected(bugs):  # tanh-derivative acts when the op runs
        x: list[Value] = inputs
        for li, layer in enumerate(model.layers):
            outs = [neuron(x) for neuron in layer.neurons]  # what Layer.__call__ does
            for ni, out in enumerate(outs):
                _claim(out, "neuron", (li + 1, ni + 1), kinds, groups)
                labels[id(out)] = "ypred" if li == last else f"h{ni + 1}"
            x = outs
        score = x[0]
        loss = LOSSES[config.loss]([score], [float(ys[sample])])
        term, mean = _sample_term(loss)
        output = term * (1.0 / len(xs)) if mean else term
    _claim(output, "loss", None, kinds, groups)
    consumer = next(
        (v for v in output.topological_order() if score in v._prev and v is not score), None
    )
    if consumer is not None:  # score - target, -target * score: the target's leaf
        target = next(c for c in consumer._prev if c is not score)
        if not target._op:
            labels[id(target)], kinds[id(target)] = "-target", "target"
    if mean:
        labels[id(term)] = "sample loss"
        labels[id(output)] = f"loss term (sample loss / {len(xs)})"
    else:
        labels[id(output)] = "loss term"
    return trace(output, labels, bugs, kinds=kinds, groups=groups, numerical=numerical)
