"""backward()'s observer, graphs as records, numerical gradients, one sample's model graph."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datasets
from engine import Value, bugs
from engine.inspect.expr import EXAMPLES, ExprError, parse
from engine.inspect.graph import (
    ENGINE_BUGS,
    LOOP_BUGS,
    Graph,
    GraphError,
    expression_graph,
    model_graph,
    trace,
)
from engine.losses import LOSSES
from engine.training.presets import PRESETS
from engine.training.records import SessionConfig
from engine.training.session import TrainingSession
from tests.support.expressions import EXPRESSIONS, LEAF_VALUES

ALL_ENGINE_BUG_SETS = [
    frozenset(c)
    for r in range(len(ENGINE_BUGS) + 1)
    for c in itertools.combinations(ENGINE_BUGS, r)
]


def replay(graph: Graph) -> list[float]:
    """Every node's grad, from zero, by applying the recorded events in order."""
    grads = [0.0] * len(graph.nodes)
    grads[graph.output] = 1.0  # backward() seeds the output, then makes the updates
    overwrite = bugs.OVERWRITE_GRAD in graph.bugs
    for event in graph.events:
        assert same(event.before, grads[event.child])
        assert same(event.node_grad, grads[event.node])
        assert event.child in graph.nodes[event.node].children
        update = event.local_grad * event.node_grad
        expected = update if overwrite else event.before + update
        assert same(event.after, expected)
        grads[event.child] = event.after
    return grads


def same(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))


# -- the observer ------------------------------------------------------------------------


def test_observer_sees_each_update_in_order_with_before_and_after():
    a = Value(3.0, label="a")
    b = a + a
    c = b * Value(2.0)
    seen = []
    c.backward(lambda node, child, g, before, after: seen.append((node, child, g, before, after)))
    assert [(n is c, ch is b, g, x, y) for n, ch, g, x, y in seen[:2]] == [
        (True, True, 2.0, 0.0, 2.0),
        (True, False, 6.0, 0.0, 6.0),
    ]
    # a is used twice: two updates, the second adds to the first
    assert [(ch is a, g, x, y) for n, ch, g, x, y in seen[2:]] == [
        (True, 1.0, 0.0, 2.0),
        (True, 1.0, 2.0, 4.0),
    ]


@pytest.mark.parametrize(
    "bug_ids", ALL_ENGINE_BUG_SETS, ids=lambda s: "+".join(sorted(s)) or "none"
)
def test_observed_backward_gives_the_same_grads_as_unobserved(bug_ids):
    source, values = EXAMPLES["neuron-exp"].source, EXAMPLES["neuron-exp"].values
    grads = []
    for observer in (None, lambda *args: None):
        with bugs.injected(bug_ids):
            out, _ = parse(source + "; q = o * n + b * b").build(values)
            out.backward(observer)
        grads.append([v.grad for v in out.topological_order()])
    assert grads[0] == grads[1]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, LEAF_VALUES, st.sampled_from(ALL_ENGINE_BUG_SETS))
def test_events_applied_from_zero_reproduce_every_grad_for_every_engine_bug(expr, values, bug_ids):
    try:
        graph = expression_graph(f"out = {expr[0]}", values, bug_ids)
    except ExprError:  # log of a non-positive number
        return
    grads = replay(graph)
    assert all(same(g, node.grad) for g, node in zip(grads, graph.nodes))
    assert graph.bugs == bug_ids


@pytest.mark.parametrize(
    "bug_ids", ALL_ENGINE_BUG_SETS, ids=lambda s: "+".join(sorted(s)) or "none"
)
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_replays_for_every_engine_bug(name, bug_ids):
    graph = expression_graph(EXAMPLES[name].source, EXAMPLES[name].values, bug_ids)
    assert replay(graph) == [node.grad for node in graph.nodes]


# -- graphs as records -------------------------------------------------------------------


def test_first_example_as_records():
    graph = expression_graph(EXAMPLES["first"].source, EXAMPLES["first"].values)
    by_label = {node.label: node for node in graph.nodes}
    assert [n.label for n in graph.nodes] == ["a", "b", "e", "c", "d", "f", "L"]
    assert graph.output == len(graph.nodes) - 1 and graph.nodes[graph.output].label == "L"
    for node in graph.nodes:
        assert all(child < node.id for child in node.children)  # children before parents
    assert by_label["a"].op == "" and by_label["e"].op == "*" and by_label["d"].op == "+"
    assert by_label["e"].children == (by_label["a"].id, by_label["b"].id)
    assert by_label["e"].local_grads == (-3.0, 2.0)  # d(a*b)/da = b, d(a*b)/db = a
    assert {n.label: n.grad for n in graph.leaves} == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    assert len(graph.events) == 6 and graph.bugs == frozenset()


def test_numerical_gradients_agree_with_backprop_on_every_example():
    for example in EXAMPLES.values():
        graph = expression_graph(example.source, example.values)
        assert set(graph.numerical) == {n.id for n in graph.leaves}
        for leaf in graph.leaves:
            assert graph.numerical[leaf.id] == pytest.approx(leaf.grad, abs=1e-6), example.name


def test_with_a_bug_numerical_gradients_disagree_where_backprop_went_wrong():
    graph = expression_graph("b = a + a", {"a": 3.0}, {bugs.OVERWRITE_GRAD})
    (a,) = graph.leaves
    assert a.grad == 1.0 and graph.numerical[a.id] == pytest.approx(2.0)
    # the events show why: the second path's update replaced the first's
    assert [(e.before, e.after) for e in graph.events] == [(0.0, 1.0), (1.0, 1.0)]

    neuron = EXAMPLES["neuron"]
    graph = expression_graph(neuron.source, neuron.values, {bugs.TANH_DERIVATIVE})
    o = graph.nodes[graph.output]
    assert o.local_grads == (pytest.approx(1 - math.sqrt(0.5)),)  # 1 - t, not 1 - t**2
    x1 = next(n for n in graph.leaves if n.label == "x1")
    assert graph.numerical[x1.id] == pytest.approx(-1.5)
    assert x1.grad == pytest.approx(-1.5 * (1 - math.sqrt(0.5)) / 0.5)

    graph = expression_graph(neuron.source, neuron.values, {bugs.FORWARD_ORDER_BACKWARD})
    assert {n.label: n.grad for n in graph.leaves} == dict.fromkeys(neuron.values, 0.0)
    assert graph.numerical[x1.id] == pytest.approx(-1.5)
    # it visits the leaves first: their events pass on the 0 they hold
    assert graph.events[0].node_grad == 0.0


def test_trace_zeroes_grads_so_tracing_twice_gives_the_same_graph():
    out, labels = parse("b = a * a").build({"a": 2.0})
    first, second = trace(out, labels), trace(out, labels)
    assert first == second and first.nodes[0].grad == 4.0


@pytest.mark.parametrize("bug_id", LOOP_BUGS)
def test_loop_bugs_are_refused_with_where_they_live(bug_id):
    with pytest.raises(GraphError) as err:
        expression_graph("b = a + a", {"a": 1.0}, {bug_id})
    assert f"bug {bug_id} lives in the training loop" in str(err.value)
    assert bugs.BUGS[bug_id].where in str(err.value)


def test_unknown_bug_is_refused():
    with pytest.raises(GraphError, match="unknown bug nope"):
        expression_graph("b = a + a", {"a": 1.0}, {"nope"})


# -- one training sample of a model ----------------------------------------------------


def session_for(config: SessionConfig, dataset: str = "tutorial") -> TrainingSession:
    data = datasets.make(dataset, None, None, config.seed)
    return TrainingSession(config, data.xs, data.ys, backend="reference")


CONFIGS = [
    replace(PRESETS["tutorial"], loss=loss, activation=activation)
    for loss in LOSSES
    for activation in ("tanh", "relu", "sigmoid", "linear")
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.loss}-{c.activation}")
def test_sample_terms_add_up_to_the_loss_and_their_grads_to_the_gradient(config):
    session = session_for(config)
    snapshot = session.snapshot()
    graphs = [
        model_graph(config, snapshot.parameters, session.xs, session.ys, i)
        for i in range(len(session.xs))
    ]
    result = session.step()
    total = 0.0
    for graph in graphs:
        total += graph.nodes[graph.output].data
    assert total == pytest.approx(result.loss, rel=1e-12)
    if config.loss == "sse":
        assert total == result.loss  # the same terms, summed in the same order
    per_parameter: dict[str, float] = {}
    for graph in graphs:
        for node in graph.nodes:
            if node.kind in ("weight", "bias"):
                per_parameter[node.label] = per_parameter.get(node.label, 0.0) + node.grad
    labels = parameter_labels(snapshot.layer_sizes)
    assert sorted(per_parameter) == sorted(labels)
    for label, grad in zip(labels, session.snapshot().gradients):
        assert per_parameter[label] == pytest.approx(grad, rel=1e-9, abs=1e-15), label


def parameter_labels(layer_sizes) -> list[str]:
    """The dashboard's names, in MLP.parameters() order (as dashboard/widgets/parameter_grid.py)."""
    labels = []
    for layer, (nin, nout) in enumerate(itertools.pairwise(layer_sizes)):
        source = "x" if layer == 0 else "h"
        for neuron in range(nout):
            where = f"layer {layer + 1}, neuron {neuron + 1}"
            labels += [f"{where}, from {source}{i + 1}" for i in range(nin)] + [f"{where}, bias"]
    return labels


def test_model_graph_kinds_groups_and_labels():
    config = PRESETS["tutorial"]
    session = session_for(config)
    graph = model_graph(config, session.snapshot().parameters, session.xs, session.ys, 0)
    kinds = {}
    for node in graph.nodes:
        kinds.setdefault(node.kind, []).append(node)
    assert [n.label for n in kinds["input"]] == ["x1", "x2", "x3"]
    assert [n.data for n in kinds["input"]] == list(session.xs[0])
    assert len(kinds["weight"]) + len(kinds["bias"]) == 41  # 3-4-4-1
    assert all(n.group == (int(n.label[6]), int(n.label[16])) for n in kinds["weight"])
    (target,) = kinds["target"]
    assert target.label == "-target" and target.data == -session.ys[0]
    neurons = {n.group for n in kinds["neuron"]}
    assert neurons == {(1, j) for j in range(1, 5)} | {(2, j) for j in range(1, 5)} | {(3, 1)}
    outputs = [n for n in kinds["neuron"] if n.op == "tanh"]
    assert [n.label for n in outputs] == ["h1", "h2", "h3", "h4"] * 2 + ["ypred"]
    out = graph.nodes[graph.output]
    assert out.label == "loss term" and out.op == "**2" and out.kind == "loss"
    ypred = next(n for n in outputs if n.label == "ypred")
    assert out.data == (ypred.data - session.ys[0]) ** 2


def test_model_graph_follows_the_given_weights_not_the_seed():
    config = PRESETS["tutorial"]
    session = session_for(config)
    for _ in range(3):
        session.step()
    snap = session.snapshot()
    graph = model_graph(config, snap.parameters, session.xs, session.ys, 2)
    weights = [n.data for n in graph.nodes if n.kind in ("weight", "bias")]
    assert sorted(weights) == sorted(snap.parameters)
    assert graph.nodes[graph.output].data == pytest.approx(
        (session.passes.value_forward()[1][2].data - session.ys[2]) ** 2
    )


@pytest.mark.parametrize(
    "bug_ids", ALL_ENGINE_BUG_SETS, ids=lambda s: "+".join(sorted(s)) or "none"
)
def test_model_graph_events_replay_and_bugs_act_there(bug_ids):
    config = PRESETS["tutorial"]
    session = session_for(config)
    graph = model_graph(config, session.snapshot().parameters, session.xs, session.ys, 1, bug_ids)
    assert all(same(g, node.grad) for g, node in zip(replay(graph), graph.nodes))
    params = [n for n in graph.nodes if n.kind in ("weight", "bias")]
    if bugs.FORWARD_ORDER_BACKWARD in bug_ids:
        assert all(n.grad == 0.0 for n in params)
    elif not bug_ids:
        for n in params:
            assert graph.numerical[n.id] == pytest.approx(n.grad, rel=1e-5, abs=1e-9), n.label


def test_model_graph_refuses_bad_samples_and_parameter_counts():
    config = PRESETS["tutorial"]
    session = session_for(config)
    params = session.snapshot().parameters
    with pytest.raises(GraphError, match="sample 4 is out of range: 0 to 3"):
        model_graph(config, params, session.xs, session.ys, 4)
    with pytest.raises(GraphError, match="sample -1 is out of range"):
        model_graph(config, params, session.xs, session.ys, -1)
    with pytest.raises(GraphError, match="the model has 41 parameters, 40 were given"):
        model_graph(config, params[:-1], session.xs, session.ys, 0)
    with pytest.raises(GraphError, match="lives in the training loop"):
        model_graph(config, params, session.xs, session.ys, 0, {bugs.SKIP_ZERO_GRAD})


def test_model_graph_on_a_generated_dataset_with_two_hidden_layers_of_relu():
    config = replace(PRESETS["moons"], hidden=(3, 2), loss="hinge")
    session = session_for(config, "moons")
    graph = model_graph(config, session.snapshot().parameters, session.xs, session.ys, 7)
    n = len(session.xs)
    out = graph.nodes[graph.output]
    assert out.label == f"loss term (sample loss / {n})"
    assert graph.nodes[out.children[1]].data == 1.0 / n
    assert [n.label for n in graph.nodes if n.kind == "input"] == ["x1", "x2"]


def test_numerical_gradients_can_be_skipped_and_nothing_else_changes():
    config = PRESETS["tutorial"]
    session = session_for(config)
    args = (config, session.snapshot().parameters, session.xs, session.ys, 0)
    full, bare = model_graph(*args), model_graph(*args, numerical=False)
    assert bare.numerical == {} and len(full.numerical) == len(full.leaves)
    assert (bare.nodes, bare.events) == (full.nodes, full.events)
    example = EXAMPLES["first"]
    assert expression_graph(example.source, example.values, numerical=False).numerical == {}


def test_the_nudge_is_written_as_it_is():
    from engine.inspect.graph import NUDGE, NUDGE_TEXT

    assert float(NUDGE_TEXT) == NUDGE


@pytest.mark.parametrize(
    "bug, name, node, buggy_correct",
    [
        ("overwrite-grad", "reuse", "a", (1.0, 2.0)),
        ("tanh-derivative", "neuron", "n", None),
        ("forward-order-backward", "neuron", "x1", None),
    ],
)
def test_the_first_difference_is_the_first_write_a_correct_backward_does_not_make(
    bug, name, node, buggy_correct
):
    from engine.inspect.graph import first_difference

    example = EXAMPLES[name]
    buggy = expression_graph(example.source, example.values, {bug})
    correct = expression_graph(example.source, example.values)
    diff = first_difference(buggy, correct)
    assert buggy.nodes[diff.node].label == node
    assert diff.buggy == buggy.events[diff.event].after != diff.correct
    if buggy_correct:
        assert (diff.buggy, diff.correct) == buggy_correct
    # every write before it is the correct pass's own
    assert all(e.after == c.after for e, c in zip(buggy.events[: diff.event], correct.events))
    assert first_difference(correct, correct) is None


def test_a_bug_the_graph_never_exercises_has_no_first_difference():
    from engine.inspect.graph import first_difference

    example = EXAMPLES["neuron"]  # no value feeds two others: overwriting loses nothing
    buggy = expression_graph(example.source, example.values, {"overwrite-grad"})
    assert first_difference(buggy, expression_graph(example.source, example.values)) is None
