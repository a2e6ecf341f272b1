"""TrainingSession on the fast backend trains exactly like the reference backend,
bugs included, step after step; its history stays bounded; start-up stays light."""

from __future__ import annotations

import dataclasses
import math
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datasets
from engine import MLP, bugs, nn
from engine.fast import MIRRORED_BUGS, CompiledNet
from engine.optim import SGD
from engine.training.history import HISTORY_POINTS, RECENT_POINTS, History, HistoryRecorder
from engine.training.presets import PRESETS
from engine.training.records import SessionConfig, Snapshot
from engine.training.session import BACKENDS, TrainingSession

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = datasets.make("tutorial")
MOONS_SMALL = datasets.make("moons", 30, seed=1)
MOONS_SMALL_CONFIG = dataclasses.replace(PRESETS["moons"], hidden=(6, 5), seed=2)


def twins(config: SessionConfig, data, bug_ids=()) -> tuple[TrainingSession, TrainingSession]:
    return tuple(TrainingSession(config, data.xs, data.ys, bug_ids, backend=b) for b in BACKENDS)


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_same_floats(ours, theirs, what: str) -> None:
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs), what
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if not same(a, b)]
    assert not bad, f"{what}: first differences (index, fast, reference): {bad[:3]}"


def assert_same_snapshots(fast: Snapshot, ref: Snapshot, step: int) -> None:
    assert fast.step == ref.step
    assert_same_floats([fast.loss, fast.accuracy], [ref.loss, ref.accuracy], f"step {step} loss")
    assert_same_floats(fast.predictions, ref.predictions, f"step {step} predictions")
    assert_same_floats(fast.parameters, ref.parameters, f"step {step} weights")
    assert_same_floats(fast.gradients, ref.gradients, f"step {step} gradients")
    for field in dataclasses.fields(History):
        ours, theirs = getattr(fast.history, field.name), getattr(ref.history, field.name)
        assert_same_floats(ours, theirs, f"step {step} history.{field.name}")
    assert fast.diverged_at == ref.diverged_at
    assert fast.diverged_reason == ref.diverged_reason


def train_both(
    fast: TrainingSession, ref: TrainingSession, steps: int, engine: str = "fast"
) -> None:
    """Step both; every step equal, the fast session's on ``engine`` (so the test tests it)."""
    for step in range(1, steps + 1):
        assert fast.step() == ref.step() or math.isnan(ref.snapshot().loss)
        assert (fast.last_backend, ref.last_backend) == (engine, "reference")
        assert_same_snapshots(fast.snapshot(), ref.snapshot(), step)
        if ref.diverged_at is not None:
            break


ALL_BUGS = [b.id for b in bugs.CATALOGUE]
BUG_SETS = [
    (),
    *[(b,) for b in ALL_BUGS],
    (bugs.SKIP_ZERO_GRAD, bugs.OVERWRITE_GRAD),
    (bugs.SKIP_ZERO_GRAD, bugs.FORWARD_ORDER_BACKWARD),
    (bugs.SKIP_ZERO_GRAD, bugs.TANH_DERIVATIVE),
    (bugs.OVERWRITE_GRAD, bugs.TANH_DERIVATIVE, bugs.GRADIENT_ASCENT),
    (bugs.OVERWRITE_GRAD, bugs.FORWARD_ORDER_BACKWARD, bugs.ZERO_GRAD_AFTER_BACKWARD),
]


@pytest.mark.usefixtures("codegen_form")
@pytest.mark.parametrize("bug_ids", BUG_SETS, ids=lambda ids: "+".join(ids) or "clean")
def test_tutorial_trajectory_is_the_same_on_both_backends(bug_ids):
    train_both(*twins(PRESETS["tutorial"], TUTORIAL, bug_ids), steps=8)


@pytest.mark.usefixtures("codegen_form")
@pytest.mark.parametrize("bug_ids", BUG_SETS, ids=lambda ids: "+".join(ids) or "clean")
def test_relu_hinge_l2_trajectory_is_the_same_on_both_backends(bug_ids):
    train_both(*twins(MOONS_SMALL_CONFIG, MOONS_SMALL, bug_ids), steps=5)


@pytest.mark.usefixtures("codegen_form")
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hidden=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    activation=st.sampled_from(["tanh", "relu", "sigmoid", "linear"]),
    loss=st.sampled_from(["sse", "mse", "hinge", "bce"]),
    l2=st.sampled_from([0.0, 1e-3]),
    lr=st.sampled_from([0.01, 0.3]),
    bug_ids=st.sets(st.sampled_from(ALL_BUGS)),
    seed=st.integers(0, 1000),
)
def test_random_sessions_with_random_bugs_match(hidden, activation, loss, l2, lr, bug_ids, seed):
    config = SessionConfig(
        hidden=tuple(hidden), activation=activation, loss=loss, l2=l2, lr=lr, seed=seed
    )
    data = datasets.make("blobs", 6, seed=seed)
    train_both(*twins(config, data, tuple(bug_ids)), steps=3)


@pytest.mark.usefixtures("codegen_form")
def test_bce_sigmoid_trajectory_with_skip_zero_grad_and_overwrite():
    config = SessionConfig(hidden=(4, 3), activation="sigmoid", loss="bce", lr=0.5, seed=4)
    train_both(*twins(config, MOONS_SMALL, (bugs.SKIP_ZERO_GRAD, bugs.OVERWRITE_GRAD)), steps=5)


@pytest.mark.usefixtures("codegen_form")
def test_moons_demo_w2_full_batch_is_the_same_on_both_backends():
    data = datasets.make("moons", 100)
    train_both(*twins(PRESETS["moons"], data), steps=3)


@pytest.mark.usefixtures("codegen_form")
def test_spiral_w3_shape_is_the_same_on_both_backends():
    config = SessionConfig(hidden=(32, 32), activation="relu", loss="hinge", lr=0.1, seed=1)
    train_both(*twins(config, datasets.make("spiral", 20)), steps=2)


@pytest.mark.usefixtures("codegen_form")
def test_bugs_switched_mid_run_keep_the_backends_together():
    fast, ref = twins(PRESETS["tutorial"], TUTORIAL)
    schedule = [
        (),
        (bugs.OVERWRITE_GRAD,),
        (bugs.SKIP_ZERO_GRAD,),
        (bugs.SKIP_ZERO_GRAD, bugs.FORWARD_ORDER_BACKWARD),
        (bugs.TANH_DERIVATIVE,),
        (),
    ]
    for step, bug_ids in enumerate(schedule, start=1):
        fast.set_bugs(bug_ids)
        ref.set_bugs(bug_ids)
        train_both(fast, ref, steps=2)
    assert fast.snapshot().bug_events == ref.snapshot().bug_events


# -- a bug the fast path does not mirror runs on the reference engine ----------------------

UNLISTED = "doubled-tanh-input"


@pytest.fixture
def unlisted_bug(monkeypatch) -> str:
    """A new bug, not in engine.fast.MIRRORED_BUGS: tanh neurons see twice their input."""
    bug = bugs.Bug(
        UNLISTED,
        "Doubled tanh input",
        "engine/nn.py · Neuron.__call__",
        bugs.IN_OP,
        "",
        "",
        "",
        "",
    )
    monkeypatch.setitem(bugs.BUGS, UNLISTED, bug)
    tanh = nn.ACTIVATIONS["tanh"]
    doubled = lambda act: tanh(act * 2) if bugs.is_on(UNLISTED) else tanh(act)
    monkeypatch.setitem(nn.ACTIVATIONS, "tanh", doubled)
    return UNLISTED


def test_every_mirrored_bug_is_in_the_catalogue_and_runs_fast():
    assert MIRRORED_BUGS.keys() <= bugs.BUGS.keys()
    for bug_id in MIRRORED_BUGS:
        train_both(*twins(PRESETS["tutorial"], TUTORIAL, (bug_id,)), steps=2, engine="fast")


def test_a_bug_the_fast_path_does_not_mirror_runs_on_the_reference_engine(unlisted_bug):
    assert unlisted_bug not in MIRRORED_BUGS
    fast, ref = twins(PRESETS["tutorial"], TUTORIAL)
    clean = TrainingSession(PRESETS["tutorial"], TUTORIAL.xs, TUTORIAL.ys)
    train_both(fast, ref, steps=2, engine="fast")
    for session in (fast, ref):
        session.set_bugs([unlisted_bug, bugs.SKIP_ZERO_GRAD])
    train_both(fast, ref, steps=3, engine="reference")  # fell back, and equal
    for _ in range(5):
        clean.step()
    assert fast.snapshot().loss != clean.snapshot().loss  # the bug acted
    for session in (fast, ref):
        session.set_bugs([])
    train_both(fast, ref, steps=2, engine="fast")  # back on the fast path once it is off
    assert fast.snapshot().bug_events == ref.snapshot().bug_events


def test_the_compiled_net_refuses_a_bug_it_does_not_mirror(unlisted_bug):
    model = MLP(3, [4, 4, 1], seed=0)
    net = CompiledNet(model, "sse", 0.0, TUTORIAL.xs, TUTORIAL.ys)
    with bugs.injected([unlisted_bug]), pytest.raises(ValueError, match=unlisted_bug):
        net.forward()


@pytest.mark.usefixtures("codegen_form")
def test_divergence_happens_at_the_same_step_on_both_backends():
    config = SessionConfig(hidden=(4, 4), activation="relu", loss="mse", lr=1e10, seed=0)
    fast, ref = twins(config, TUTORIAL)
    train_both(fast, ref, steps=20)
    assert fast.diverged_at is not None


@pytest.mark.usefixtures("codegen_form")
def test_evaluate_and_gradcheck_agree_across_backends():
    fast, ref = twins(MOONS_SMALL_CONFIG, MOONS_SMALL, (bugs.TANH_DERIVATIVE,))
    train_both(fast, ref, steps=2)
    assert fast.evaluate() == ref.evaluate()
    assert fast.passes.gradcheck(max_parameters=5) == ref.passes.gradcheck(max_parameters=5)
    assert_same_snapshots(fast.snapshot(), ref.snapshot(), 2)  # gradcheck left no trace


def test_the_backend_is_named_and_checked():
    assert TrainingSession(PRESETS["tutorial"], TUTORIAL.xs, TUTORIAL.ys).backend == "fast"
    with pytest.raises(ValueError, match="unknown backend"):
        TrainingSession(PRESETS["tutorial"], TUTORIAL.xs, TUTORIAL.ys, backend="numpy")


def test_reset_recompiles_for_the_new_model():
    fast, ref = twins(PRESETS["tutorial"], TUTORIAL)
    train_both(fast, ref, steps=3)
    fast.reset()
    ref.reset()
    train_both(fast, ref, steps=3)


def test_a_replaced_model_is_recompiled():
    fast, ref = twins(PRESETS["tutorial"], TUTORIAL)
    train_both(fast, ref, steps=2)
    for session in (fast, ref):  # as a loader restoring saved weights might do
        session.model = MLP(3, [4, 4, 1], "tanh", seed=9)
        session.optimizer = SGD(session.model.parameters(), session.config.schedule)
    train_both(fast, ref, steps=2)


# -- history: every step while short, thinned and bounded when long --------------------------


def record(recorder: HistoryRecorder, steps: range) -> None:
    for step in steps:
        recorder.append(step, float(step), 0.5, 2.0 * step, 3.0, 0.1)


def test_history_keeps_every_step_up_to_its_capacity():
    recorder = HistoryRecorder(capacity=16, recent=4)
    record(recorder, range(1, 17))
    history = recorder.view()
    assert history.steps == tuple(range(1, 17))
    assert history.loss == tuple(float(s) for s in range(1, 17))


def test_long_history_is_thinned_evenly_with_the_latest_steps_whole():
    recorder = HistoryRecorder(capacity=16, recent=4)
    record(recorder, range(1, 1001))
    history = recorder.view()
    assert len(history) <= 16 + 4
    assert history.steps[0] == 1
    assert history.steps[-4:] == (997, 998, 999, 1000)
    assert all(a < b for a, b in pairwise(history.steps))
    older = history.steps[:-4]
    strides = {b - a for a, b in pairwise(older)}
    assert len(strides) == 1  # evenly spaced
    # every column still belongs to its step
    assert history.loss == tuple(float(s) for s in history.steps)
    assert history.grad_norm == tuple(2.0 * s for s in history.steps)


def test_session_history_is_bounded_and_snapshots_stay_immutable():
    session = TrainingSession(PRESETS["tutorial"], TUTORIAL.xs, TUTORIAL.ys)
    for _ in range(50):
        session.step()
    early = session.snapshot()
    assert early.history.steps == tuple(range(1, 51))
    for _ in range(HISTORY_POINTS + RECENT_POINTS + 100):
        session.step()
    late = session.snapshot()
    assert early.history.steps == tuple(range(1, 51))  # untouched by later steps
    assert len(late.history) <= HISTORY_POINTS + RECENT_POINTS
    assert late.history.steps[-1] == late.step
    assert late.history.loss[-1] == late.loss
    assert session.snapshot().history is late.history  # no step since: nothing copied again
