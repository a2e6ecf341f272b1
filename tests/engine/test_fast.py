"""engine/fast gives the readable Value engine's numbers: losses, scores and
gradients equal (==), for every architecture, loss and bug, from any starting
gradient. (Equal as floats: at most the sign of a zero gradient may differ.)"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datasets
from engine import bugs
from engine.fast import CompiledNet, codegen, compiled
from engine.fast.codegen import BackwardMode
from engine.fast.compiled import net_shape
from engine.losses import LOSSES, l2_penalty
from engine.nn import ACTIVATIONS, MLP

DEFAULT_LOOPS_FROM = compiled.LOOPS_FROM

# Every test here runs on both forms of generated code (unrolled lines, loops).
pytestmark = pytest.mark.usefixtures("codegen_form")

BACKWARD_BUGS = (bugs.OVERWRITE_GRAD, bugs.FORWARD_ORDER_BACKWARD, bugs.TANH_DERIVATIVE)


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_same(ours, theirs, what: str) -> None:
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs), what
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if not same(a, b)]
    assert not bad, f"{what}: {len(bad)} differ, first (index, fast, reference): {bad[:3]}"


def twin_models(nin, sizes, activation, output_activation=None, seed=0):
    return (
        MLP(nin, sizes, activation, output_activation, seed),
        MLP(nin, sizes, activation, output_activation, seed),
    )


def value_loss(model, loss, l2, xs, ys):
    scores = [model(x) for x in xs]
    total = LOSSES[loss](scores, ys)
    if l2:
        total = total + l2_penalty(model.parameters(), l2)
    return total, scores


def compare_one_pass(reference, fast, loss, l2, xs, ys, bug_ids=(), grads=None):
    """Forward + backward on both engines from the same weights and starting .grad."""
    net = CompiledNet(fast, loss, l2, xs, ys)
    ref_params, fast_params = reference.parameters(), fast.parameters()
    for p, q in zip(ref_params, fast_params):
        q.data = p.data
    if grads is not None:
        for p, q, g in zip(ref_params, fast_params, grads):
            p.grad = q.grad = g
    with bugs.injected(bug_ids):
        expected, scores = value_loss(reference, loss, l2, xs, ys)
        expected.backward()
        got = net.forward()
        got.backward()
    assert same(got.data, expected.data), f"loss {got.data!r} != {expected.data!r}"
    assert_same(got.predictions, [s.data for s in scores], "scores")
    assert_same([p.grad for p in fast_params], [p.grad for p in ref_params], "gradients")
    return net


# -- the three workloads' shapes, clean and with every bug ----------------------------------

WORKLOAD_SHAPES = {
    # W1: the lecture; W2: micrograd's moons demo; W3: the spiral net, fewer points.
    "W1": (datasets.make("tutorial"), [4, 4, 1], "tanh", "sse", 0.0),
    "W2": (datasets.make("moons", 100), [16, 16, 1], "relu", "hinge", 1e-4),
    "W3": (datasets.make("spiral", 24), [32, 32, 1], "relu", "hinge", 0.0),
}


@pytest.mark.parametrize("workload", sorted(WORKLOAD_SHAPES))
@pytest.mark.parametrize("bug_id", [None, *BACKWARD_BUGS])
def test_workload_shapes_match_the_value_engine(workload, bug_id):
    data, sizes, activation, loss, l2 = WORKLOAD_SHAPES[workload]
    reference, fast = twin_models(len(data.xs[0]), sizes, activation, seed=3)
    rng = random.Random(5)
    grads = [rng.uniform(-1, 1) for _ in reference.parameters()]  # as under skip-zero-grad
    bug_ids = () if bug_id is None else (bug_id,)
    compare_one_pass(reference, fast, loss, l2, data.xs, data.ys, bug_ids, grads)


def test_every_loss_and_activation_with_each_backward_bug_and_their_combination():
    data = datasets.make("moons", 12, seed=2)
    combos = [(), *[(b,) for b in BACKWARD_BUGS], tuple(BACKWARD_BUGS)]
    for loss in LOSSES:
        for activation in ACTIVATIONS:
            for bug_ids in combos:
                reference, fast = twin_models(2, [5, 3, 1], activation, seed=1)
                compare_one_pass(reference, fast, loss, 1e-3, data.xs, data.ys, bug_ids)


def test_bce_takes_both_branches_of_softplus():
    # Scores of both signs against both labels: z = -y * s is positive and negative.
    data = datasets.make("blobs", 30, noise=2.0, seed=4)
    for bug_ids in [(), (bugs.OVERWRITE_GRAD,)]:
        reference, fast = twin_models(2, [4, 1], "tanh", "linear", seed=2)
        for p in reference.parameters():
            p.data *= 3
        compare_one_pass(reference, fast, "bce", 0.0, data.xs, data.ys, bug_ids)


# -- skipping zero work is exact, and switched off where it could not be -------------------


def test_skipping_met_margins_and_dead_relus_changes_nothing(monkeypatch):
    modes = []
    original = compiled._backward_function

    def spy(shape, mode):
        modes.append(mode)
        return original(shape, mode)

    monkeypatch.setattr(compiled, "_backward_function", spy)
    data = datasets.make("moons", 40, seed=1)
    reference, fast = twin_models(2, [8, 8, 1], "relu", seed=0)
    for p in reference.parameters():
        p.data *= 4  # wide margins: many samples pass back 0, many relus are off
    net = compare_one_pass(reference, fast, "hinge", 0.0, data.xs, data.ys)
    assert net.values_bounded([p.data for p in fast.parameters()])
    assert modes == [BackwardMode(skip_zeros=True)]  # the skipping backward ran


@pytest.mark.parametrize("poison", [1e200, math.inf, math.nan])
def test_huge_or_non_finite_weights_give_the_same_infs_and_nans(poison):
    data = datasets.make("moons", 10, seed=1)
    for bug_ids in [(), (bugs.FORWARD_ORDER_BACKWARD,), (bugs.OVERWRITE_GRAD,)]:
        for loss in LOSSES:
            reference, fast = twin_models(2, [4, 4, 1], "relu", seed=0)
            reference.layers[0].neurons[1].w[0].data = poison
            reference.layers[1].neurons[2].b.data = -poison
            net = compare_one_pass(reference, fast, loss, 1e-4, data.xs, data.ys, bug_ids)
            assert not net.values_bounded([p.data for p in fast.parameters()])


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e6, 1e9])
def test_deep_relu_nets_with_huge_gradients_match(scale):
    # Deep and wide-weighted: values of both passes near (or past) overflow,
    # where the bound must send the backward to the path that skips nothing.
    data = datasets.make("moons", 8, seed=3)
    for loss in ("hinge", "sse"):
        reference, fast = twin_models(2, [3] * 10 + [1], "relu", seed=7)
        for p in reference.parameters():
            p.data *= scale
        compare_one_pass(reference, fast, loss, 0.0, data.xs, data.ys)


def test_the_generated_source_can_be_read(codegen_form):
    net = CompiledNet(MLP(3, [4, 4, 1], "tanh"), "sse", 0.0, [[1.0, 2.0, 3.0]], [1.0])
    clean, buggy = net.source(), net.source(tanh_bug=True, mode=BackwardMode(overwrite=True))
    if codegen_form == "unrolled":
        assert "q0_0 = 1 - h0_0**2" in clean and "g0 += x0 * d0_0" in clean
        assert "q0_0 = 1 - h0_0  # tanh-derivative" in buggy and "g0 = x0 * d0_0" in buggy
    else:
        assert "H0 = [tanh(sum(map(mul, w, X), b)) for w, b in L0]" in clean
        assert "Q0 = [1 - h**2 for h in H0]" in clean
        assert "[sum(map(mul, xc, dc), g) for xc, g in zip(XC, G[k:k + 3])]" in clean
        assert "Q0 = [1 - h for h in H0]  # tanh-derivative" in buggy
        assert "G[k:k + 3] = [xc[0] * dc[0] for xc in XC]" in buggy


def test_wide_layers_compile_to_code_of_a_fixed_size():
    # Unrolled code grows with the parameters; loops do not (the switch is by measurement).
    def source_lines(width: int) -> int:
        net = CompiledNet(MLP(2, [width, width, 1], "relu"), "hinge", 1e-4, [[1.0, 2.0]], [1.0])
        return len(net.source().splitlines())

    if compiled.LOOPS_FROM == 0:
        assert source_lines(16) == source_lines(256)
        assert net_shape(MLP(2, [64, 64, 1]), "sse", False).loops
    else:
        assert source_lines(256) > 100 * source_lines(8)


@pytest.mark.parametrize("poison", [math.inf, math.nan])
def test_non_finite_inputs_give_the_same_infs_and_nans(poison):
    xs = [[0.5, -1.0], [poison, 0.3], [1.0, 2.0]]
    ys = [1.0, -1.0, 1.0]
    for loss in LOSSES:
        reference, fast = twin_models(2, [4, 1], "relu", seed=1)
        net = compare_one_pass(reference, fast, loss, 0.0, xs, ys)
        assert not net.values_bounded([p.data for p in fast.parameters()])


def test_nets_switch_to_loops_past_the_measured_size():
    # The codegen_form fixture forces a form; restore the default switch point.
    compiled.LOOPS_FROM = DEFAULT_LOOPS_FROM
    assert not net_shape(MLP(2, [16, 16, 1]), "hinge", True).loops  # W2
    assert not net_shape(MLP(2, [32, 32, 1]), "hinge", True).loops  # W3
    assert not net_shape(MLP(2, [64, 64, 1]), "hinge", True).loops  # 4,417 parameters
    assert net_shape(MLP(2, [256, 256, 1]), "hinge", True).loops == codegen.SUM_ADDS_IN_ORDER


def test_the_fast_path_rejects_what_it_cannot_mirror():
    model = MLP(2, [3, 2], "tanh")
    with pytest.raises(ValueError, match="single output"):
        net_shape(model, "sse", False)
    with pytest.raises(ValueError, match="no loss"):
        net_shape(MLP(2, [3, 1]), "huber", False)


# -- hypothesis: random small nets, losses, bugs, data and starting gradients ---------------


@st.composite
def problems(draw):
    nin = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    activation = draw(st.sampled_from(list(ACTIVATIONS)))
    output_activation = draw(st.sampled_from((None, *ACTIVATIONS)))
    loss = draw(st.sampled_from(sorted(LOSSES)))
    l2 = draw(st.sampled_from([0.0, 1e-4, 0.5]))
    n = draw(st.integers(1, 6))
    coordinate = st.floats(-3, 3, allow_nan=False)
    xs = [[draw(coordinate) for _ in range(nin)] for _ in range(n)]
    ys = [draw(st.sampled_from([-1.0, 1.0])) for _ in range(n)]
    bug_ids = draw(st.sets(st.sampled_from(BACKWARD_BUGS)))
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([1.0, 0.01, 5.0]))
    start = draw(st.sampled_from(["zero", "random"]))
    return nin, hidden, activation, output_activation, loss, l2, xs, ys, bug_ids, seed, scale, start


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(problems())
def test_random_problems_match_the_value_engine(problem):
    nin, hidden, activation, out_act, loss, l2, xs, ys, bug_ids, seed, scale, start = problem
    reference, fast = twin_models(nin, [*hidden, 1], activation, out_act, seed)
    rng = random.Random(seed)
    for p in reference.parameters():
        p.data *= scale
    grads = None
    if start == "random":
        grads = [rng.uniform(-2, 2) for _ in reference.parameters()]
    compare_one_pass(reference, fast, loss, l2, xs, ys, tuple(bug_ids), grads)
