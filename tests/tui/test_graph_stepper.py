"""The chain-rule stepper: it replays backward()'s events, so it ends where backward() ended."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inspect.expr import EXAMPLES, ExprError
from engine.inspect.graph import GradEvent, Graph, GraphNode, expression_graph
from tests.support.expressions import EXPRESSIONS, LEAF_VALUES
from tui.graphview.stepper import BACKWARD, FORWARD, SEED, START, Stepper, fmt

ENGINE_BUGS = ("overwrite-grad", "forward-order-backward", "tanh-derivative")


def example(name: str, *bugs: str) -> Stepper:
    ex = EXAMPLES[name]
    return Stepper(expression_graph(ex.source, ex.values, frozenset(bugs)))


def panel_text(stepper: Stepper) -> str:
    return "\n".join(line.text for line in stepper.panel())


def index_of(stepper: Stepper, name: str) -> int:
    return stepper.names.index(name)


def step_where(stepper: Stepper, phase: str, node_name: str) -> int:
    node = index_of(stepper, node_name)
    return next(i for i, s in enumerate(stepper.steps) if s.phase == phase and s.node == node)


def test_the_neuron_ends_on_the_lecture_numbers() -> None:
    stepper = example("neuron")
    stepper.end()
    assert stepper.position == stepper.forward_end  # End: first to the end of the forward pass
    o = index_of(stepper, "o")
    assert stepper.has_data(o) and not stepper.has_grad(o)
    stepper.end()
    assert stepper.position == stepper.last
    grads = {name: stepper.grads[i] for i, name in enumerate(stepper.names)}
    assert fmt(stepper.graph.nodes[o].data) == "0.7071"
    assert grads["o"] == 1.0
    assert grads["n"] == pytest.approx(0.5)
    assert grads["x1"] == pytest.approx(-1.5)
    assert grads["w1"] == pytest.approx(1.0)
    assert grads["x2"] == pytest.approx(0.5)
    assert grads["w2"] == pytest.approx(0.0)
    assert grads["b"] == pytest.approx(0.5)


def test_forward_fills_data_in_topological_order_and_back_undoes_it() -> None:
    stepper = example("first")
    e, d, big_l = (index_of(stepper, n) for n in ("e", "d", "L"))
    assert stepper.phase == START
    assert not stepper.has_data(e) and stepper.has_data(index_of(stepper, "a"))
    stepper.go(stepper.position + 1)
    assert stepper.phase == FORWARD and stepper.step.node == e
    assert "e.data = 2.0 × -3.0 = -6.0" in panel_text(stepper)
    stepper.go(stepper.position + 1)
    assert stepper.step.node == d and not stepper.has_data(big_l)
    stepper.go(stepper.position - 1)
    assert stepper.has_data(e) and not stepper.has_data(d)


def test_backward_line_shows_the_numbers_plugged_in() -> None:
    stepper = example("neuron")
    stepper.go(step_where(stepper, BACKWARD, "x1w1"))
    text = panel_text(stepper)
    assert "w1.grad += x1.data × x1w1.grad  →  0.0 + 2.0 × 0.5 = 1.0" in text
    assert "x1.grad += w1.data × x1w1.grad  →  0.0 + -3.0 × 0.5 = -1.5" in text
    stepper.go(step_where(stepper, BACKWARD, "o"))
    assert "n.grad += (1 − o.data²) × o.grad  →  0.0 + 0.5 × 1.0 = 0.5" in panel_text(stepper)


def test_the_seed_step_sets_the_output_grad_and_home_returns_there() -> None:
    stepper = example("neuron")
    stepper.go(stepper.seed)
    assert stepper.phase == SEED
    assert stepper.grads[stepper.graph.output] == 1.0
    assert sum(abs(g) for g in stepper.grads) == 1.0
    stepper.go(stepper.last)
    stepper.home()
    assert stepper.position == stepper.seed
    assert stepper.grads[stepper.graph.output] == 1.0 and sum(map(abs, stepper.grads)) == 1.0
    stepper.home()
    assert stepper.position == 0 and not any(stepper.grads)


def test_a_value_used_twice_lists_each_contribution_and_the_running_sum() -> None:
    stepper = example("reuse")
    stepper.go(stepper.last)
    a = index_of(stepper, "a")
    assert stepper.grads[a] == 2.0
    text = panel_text(stepper)
    assert text.count("a.grad += 1 × b.grad") == 2
    assert "0.0 + 1.0 × 1.0 = 1.0" in text and "1.0 + 1.0 × 1.0 = 2.0" in text
    assert "a is used 2 times: a.grad 0.0 → 1.0 → 2.0" in text


def test_overwrite_grad_shows_the_equals_that_discards_a_contribution() -> None:
    stepper = example("reuse", "overwrite-grad")
    stepper.go(stepper.last)
    assert stepper.grads[index_of(stepper, "a")] == 1.0
    text = panel_text(stepper)
    assert "a.grad = 1 × b.grad  →  1.0 × 1.0 = 1.0" in text
    assert "overwrite-grad: '=' discards the 1.0 already in a.grad (+= would give 2.0)" in text
    assert "a.grad 0.0 → 1.0 → 1.0" in text


def test_forward_order_backward_starts_at_the_leaves_with_nothing_to_pass() -> None:
    stepper = example("neuron", "forward-order-backward")
    stepper.go(stepper.seed + 1)  # the first visit that makes an update
    step = stepper.step
    assert step.phase == BACKWARD and stepper.names[step.node] == "x1w1"
    assert all(event.node_grad == 0 for event in step.events)
    assert "x1w1.grad is still 0" in panel_text(stepper)
    assert "receives" in panel_text(stepper) and "× 0" in panel_text(stepper)
    stepper.go(stepper.last)
    leaves = [n.id for n in stepper.graph.nodes if not n.op]
    assert all(stepper.grads[leaf] == 0 for leaf in leaves)


def test_tanh_derivative_shows_one_minus_t_beside_one_minus_t_squared() -> None:
    stepper = example("neuron", "tanh-derivative")
    stepper.go(step_where(stepper, BACKWARD, "o"))
    text = panel_text(stepper)
    assert "n.grad += (1 − o.data) × o.grad  →  0.0 + 0.2929 × 1.0 = 0.2929" in text
    assert "tanh-derivative: 1 − t = 0.2929, but d tanh/dx is 1 − t² = 0.5" in text


def test_hand_built_records_drive_the_stepper() -> None:
    """b = a * a by hand: two events into a, each local grad a.data = 3."""
    nodes = (
        GraphNode(0, "a", "", 3.0, 6.0, (), ()),
        GraphNode(1, "b", "*", 9.0, 1.0, (0, 0), (3.0, 3.0)),
    )
    events = (GradEvent(1, 0, 3.0, 1.0, 0.0, 3.0), GradEvent(1, 0, 3.0, 1.0, 3.0, 6.0))
    stepper = Stepper(Graph(nodes, 1, events, frozenset(), {0: 6.0}))
    assert [s.phase for s in stepper.steps] == [START, FORWARD, SEED, BACKWARD]
    stepper.end()
    stepper.end()
    assert stepper.grads == [6.0, 1.0]
    text = panel_text(stepper)
    assert "a.grad += a.data × b.grad  →  0.0 + 3.0 × 1.0 = 3.0" in text
    assert "a.grad += a.data × b.grad  →  3.0 + 3.0 × 1.0 = 6.0" in text
    assert "a 6.0 vs 6.0 ✓" in text
    stepper.go(stepper.position - 1)
    assert stepper.grads == [0.0, 1.0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    expr=EXPRESSIONS,
    values=LEAF_VALUES,
    bugs=st.sets(st.sampled_from(ENGINE_BUGS)),
    stops=st.lists(st.integers(0, 400), max_size=6),
)
def test_replay_ends_where_backward_ended(expr, values, bugs, stops) -> None:
    text = expr[0]
    try:
        graph = expression_graph(text, values, frozenset(bugs))
    except (ExprError, ValueError):  # e.g. log of a negative number
        return
    stepper = Stepper(graph)
    for stop in stops:  # wander first: moving back must undo exactly
        stepper.go(stop)
    stepper.go(stepper.last)
    expected = [node.grad for node in graph.nodes]
    got = stepper.grads
    assert all(g == e or (math.isnan(g) and math.isnan(e)) for g, e in zip(got, expected))
    stepper.go(stepper.seed - 1)
    assert not any(stepper.grads)
