"""TrainingSession: the presets train, runs repeat, bugs show their symptoms,
divergence stops the run, snapshots are immutable and consistent across threads."""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest

import datasets
from engine import MLP, Value, bugs
from engine.losses import LOSSES, l2_penalty
from engine.training.divergence import BLOW_UP, blow_up
from engine.training.presets import PRESETS
from engine.training.records import SessionConfig, Snapshot
from engine.training.session import BACKENDS, SessionDiverged, TrainingSession

TUTORIAL = datasets.make("tutorial")


def tutorial_session(bug_ids=(), backend: str = "fast", **overrides) -> TrainingSession:
    config = dataclasses.replace(PRESETS["tutorial"], **overrides)
    return TrainingSession(config, TUTORIAL.xs, TUTORIAL.ys, bug_ids, backend=backend)


def run(session: TrainingSession, steps: int) -> Snapshot:
    for _ in range(steps):
        session.step()
    return session.snapshot()


# -- the presets train ---------------------------------------------------------------


def test_moons_preset_reaches_full_training_accuracy_within_100_steps(gc_paused):
    data = datasets.make("moons")
    session = TrainingSession(PRESETS["moons"], data.xs, data.ys)
    with gc_paused():
        for _ in range(100):
            if session.step().accuracy == 1.0:
                break
    assert session.snapshot().history.accuracy[-1] == 1.0


def test_tutorial_preset_reaches_loss_below_0_05_within_100_steps():
    session = tutorial_session()
    for _ in range(100):
        if session.step().loss < 0.05:
            break
    assert session.snapshot().history.loss[-1] < 0.05


# -- reset and reproducibility ---------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_reset_restores_the_initial_weights_exactly(backend):
    session = tutorial_session(backend=backend, seed=3)
    initial = session.snapshot()
    first_run = run(session, 10)
    assert first_run.parameters != initial.parameters
    session.reset()
    again = session.snapshot()
    assert again.parameters == initial.parameters
    assert again.step == 0 and len(again.history) == 0
    assert again.parameters == tutorial_session(backend=backend, seed=3).snapshot().parameters
    assert run(session, 10).history == first_run.history


@pytest.mark.parametrize(
    "bug_ids",
    [
        (),
        (bugs.OVERWRITE_GRAD,),
        (bugs.SKIP_ZERO_GRAD,),
        (bugs.OVERWRITE_GRAD, bugs.SKIP_ZERO_GRAD),
    ],
    ids=["clean", "overwrite", "skip-zero", "both"],
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_history_bugs_included(bug_ids, backend):
    first = run(tutorial_session(bug_ids, backend, seed=5), 20)
    second = run(tutorial_session(bug_ids, backend, seed=5), 20)
    assert first.history == second.history
    assert first.parameters == second.parameters
    assert first.gradients == second.gradients
    assert run(tutorial_session(bug_ids, backend, seed=6), 20).history != first.history


# -- the bugs' symptoms -----------------------------------------------------------------


def test_overwrite_grad_keeps_only_the_last_path():
    a = Value(3.0)
    with bugs.injected([bugs.OVERWRITE_GRAD]):
        (a + a).backward()
    assert a.grad == 1.0
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_overwrite_grad_trains_clearly_worse_on_the_tutorial(backend):
    clean = tutorial_session(backend=backend)
    buggy = tutorial_session([bugs.OVERWRITE_GRAD], backend)
    run(clean, 30)
    run(buggy, 30)
    clean_loss, _ = clean.evaluate()
    buggy_loss, _ = buggy.evaluate()
    assert buggy_loss > 10 * clean_loss


def fresh_gradient(config: SessionConfig, xs, ys, parameters) -> list[float]:
    """The correct gradient at these weights, computed apart from any session."""
    model = MLP(len(xs[0]), [*config.hidden, 1], config.activation, config.output_activation)
    for p, value in zip(model.parameters(), parameters, strict=True):
        p.data = value
    loss = LOSSES[config.loss]([model(x) for x in xs], ys)
    if config.l2:
        loss = loss + l2_penalty(model.parameters(), config.l2)
    loss.backward()
    return [p.grad for p in model.parameters()]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bug_ids", [(), (bugs.SKIP_ZERO_GRAD,)], ids=["clean", "skip-zero"])
def test_applied_gradient_is_fresh_or_the_running_sum(bug_ids, backend):
    session = tutorial_session(bug_ids, backend)
    config = session.config
    running = [0.0] * len(session.model.parameters())
    for _ in range(30):
        before = session.snapshot()
        fresh = fresh_gradient(config, TUTORIAL.xs, TUTORIAL.ys, before.parameters)
        running = [r + g for r, g in zip(running, fresh)] if bug_ids else fresh
        session.step()
        after = session.snapshot()
        assert after.gradients == pytest.approx(running, rel=1e-9, abs=1e-12)
        expected = [w - before.lr * g for w, g in zip(before.parameters, running)]
        assert after.parameters == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_skip_zero_grad_gradient_norm_stays_high_and_weights_keep_growing(backend):
    clean = run(tutorial_session(backend=backend), 30).history
    buggy = run(tutorial_session([bugs.SKIP_ZERO_GRAD], backend), 30).history
    assert clean.grad_norm[-1] < clean.grad_norm[0] / 5  # the clean run's decays
    assert buggy.grad_norm[-1] > 10 * clean.grad_norm[-1]
    # the first updates may shrink the weights; then the stale sum keeps pushing them out
    growing = buggy.weight_norm[10:]
    assert all(later > earlier for earlier, later in pairwise(growing))
    assert buggy.weight_norm[-1] > 3 * clean.weight_norm[-1]


# -- divergence --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_marks_the_step_and_refuses_further_steps(backend):
    # moons, mse, lr 0.78: still finite, the loss passes 10^6 times step 1's at step 3
    config = SessionConfig(hidden=(16, 16), activation="relu", loss="mse", lr=0.78, lr_end=0.1)
    data = datasets.make("moons", seed=0)
    session = TrainingSession(config, data.xs, data.ys, backend=backend)
    before = result = None
    for _ in range(100):
        before = session.snapshot()
        result = session.step()
        if result.diverged:
            break
    assert result is not None and result.diverged
    n = result.step
    first = session.snapshot().history.loss[0]
    assert math.isfinite(result.loss) and result.loss > BLOW_UP * first
    assert all(loss <= BLOW_UP * first for loss in session.snapshot().history.loss[:-1])
    assert session.diverged_reason == (
        f"diverged at step {n}: the loss {result.loss:.3g} is over 10^6 times step 1's "
        f"({first:.3g})"
    )
    snap = session.snapshot()
    assert session.diverged_at == snap.diverged_at == n
    assert str(n) in snap.diverged_reason
    assert len(snap.history) == n
    assert all(math.isfinite(loss) for loss in snap.history.loss[:-1])
    # no update at the step that diverged: the weights that produced it are kept
    assert list(map(repr, snap.parameters)) == list(map(repr, before.parameters))

    with pytest.raises(SessionDiverged) as err:
        session.step()
    assert str(err.value) == snap.diverged_reason
    assert session.step_count == n
    assert len(session.snapshot().history) == n

    session.reset()  # reset clears it and the run can start again
    assert session.diverged_at is None
    assert math.isfinite(session.step().loss)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_parameter_past_a_million_is_a_blow_up_after_its_update(backend):
    session = tutorial_session(backend=backend, activation="relu", loss="mse", lr=1e10)
    result = session.step()
    assert result.diverged and session.diverged_at == 1 and math.isfinite(result.loss)
    largest = max(abs(p) for p in session.snapshot().parameters)
    assert largest > BLOW_UP
    assert session.diverged_reason == (
        f"diverged at step 1: a parameter reached {largest:.3g} (over 10^6 in size)"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_inf_or_nan_loss_is_still_divergence_with_no_update(backend):
    session = tutorial_session(backend=backend)
    session.step()
    session.model.parameters()[0].data = math.nan
    before = session.snapshot()
    result = session.step()
    assert result.diverged and math.isnan(result.loss)
    assert session.diverged_reason == "diverged at step 2: the loss became nan"
    after = session.snapshot()
    assert list(map(repr, after.parameters)) == list(map(repr, before.parameters))


def test_the_blow_up_rule() -> None:
    assert blow_up(math.inf, 1.0, 0.0) == "the loss became inf"
    assert blow_up(1e6, 1.0, 1.0) is None  # at the line is not past it
    assert blow_up(1.1e6, 1.0, 1.0) is not None
    assert blow_up(5.0, 1.0, 1e6) is None and blow_up(5.0, 1.0, 2e6) is not None
    assert blow_up(5.0, 1.0, math.nan) is not None
    # A first loss of exactly 0 leaves only the parameter rule: later losses are not blow-ups.
    assert blow_up(0.3, 0.0, 1.0) is None


def test_a_loss_that_reaches_zero_does_not_make_later_losses_blow_ups() -> None:
    """skip-zero-grad drives the tutorial loss to exactly 0; climbing back is no blow-up."""
    session = tutorial_session(("skip-zero-grad",))
    losses = [session.step().loss for _ in range(100)]
    assert losses[-1] == 0.0
    session.set_bugs([])
    output_bias = session.model.parameters()[-1]
    output_bias.data = -1e5  # every output -1: the net is off its perfect fit
    later = session.step().loss
    assert later > 0.1  # infinitely many times the lowest loss so far, but no blow-up
    assert session.diverged_at is None


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_trains_1000_clean_steps_without_blowing_up(name) -> None:
    data = datasets.make(name, seed=0)
    session = TrainingSession(PRESETS[name], data.xs, data.ys)
    for _ in range(1000):
        assert not session.step().diverged, session.diverged_reason
    assert session.diverged_at is None


# -- snapshots -------------------------------------------------------------------------------


def _assert_no_mutable_containers(value, path="snapshot"):
    assert not isinstance(value, (list, dict, set, bytearray)), path
    if isinstance(value, tuple):
        for i, item in enumerate(value):
            _assert_no_mutable_containers(item, f"{path}[{i}]")
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _assert_no_mutable_containers(getattr(value, f.name), f"{path}.{f.name}")


def test_snapshot_is_an_immutable_copy():
    session = tutorial_session()
    run(session, 3)
    snap = session.snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.step = 99
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.history.loss = ()
    _assert_no_mutable_containers(snap)
    kept = (snap.parameters, snap.gradients, snap.history, snap.predictions, snap.step)
    run(session, 3)
    assert (snap.parameters, snap.gradients, snap.history, snap.predictions, snap.step) == kept


def _assert_consistent(snap: Snapshot) -> None:
    assert len(snap.history) == snap.step
    for series in (snap.history.accuracy, snap.history.grad_norm, snap.history.weight_norm):
        assert len(series) == snap.step
    if snap.step:
        assert snap.loss == snap.history.loss[-1]
        norm = math.sqrt(math.fsum(w * w for w in snap.parameters))
        assert norm == snap.history.weight_norm[-1]
        grad_norm = math.sqrt(math.fsum(g * g for g in snap.gradients))
        assert grad_norm == snap.history.grad_norm[-1]


def test_snapshots_are_consistent_while_another_thread_trains():
    session = tutorial_session([bugs.OVERWRITE_GRAD])

    def train():
        for _ in range(300):
            session.step()

    snapshots = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        worker = pool.submit(train)
        while not worker.done():
            snapshots.append(session.snapshot())
            # the worker's bug is injected in its thread only
            a = Value(1.0)
            (a + a).backward()
            assert a.grad == 2.0
        worker.result()  # re-raises anything the worker raised
    snapshots.append(session.snapshot())

    assert snapshots[-1].step == 300
    steps = [s.step for s in snapshots]
    assert steps == sorted(steps)
    for snap in snapshots:
        _assert_consistent(snap)
    last = snapshots[-1].history
    for snap in snapshots:  # every earlier snapshot is a prefix of the final history
        assert snap.history.loss == last.loss[: snap.step]
