"""The bug lab on the lecture's run: each bug's symptom, the gradient check, the clean
twin and the true gradients (issue 4's "tests that must hold").

Every run here is the tutorial preset (MLP(3, [4, 4, 1]) tanh, sse, lr 0.05) on the
lecture's four points with seed 0, on both backends, and is trained twice: the two runs
must give the same numbers before any symptom is checked.
"""

from __future__ import annotations

import dataclasses
import math
from itertools import pairwise

import pytest

import datasets
from engine import bugs
from engine.losses import LOSSES
from engine.training.presets import PRESETS
from engine.training.records import Snapshot
from engine.training.session import BACKENDS, TrainingSession

TUTORIAL = datasets.make("tutorial")
SEED = 0


def tutorial_session(bug_ids=(), backend: str = "fast", **overrides) -> TrainingSession:
    config = dataclasses.replace(PRESETS["tutorial"], seed=SEED, **overrides)
    return TrainingSession(config, TUTORIAL.xs, TUTORIAL.ys, bug_ids, backend=backend)


def train(session: TrainingSession, steps: int) -> Snapshot:
    for _ in range(steps):
        session.step()
    return session.snapshot()


def train_twice(bug_ids, backend: str, steps: int) -> Snapshot:
    """Train two fresh sessions alike; they must agree number for number."""
    first = train(tutorial_session(bug_ids, backend), steps)
    second = train(tutorial_session(bug_ids, backend), steps)
    for column in ("loss", "accuracy", "grad_norm", "weight_norm", "lr"):
        assert getattr(first.history, column) == getattr(second.history, column), column
    assert first.parameters == second.parameters
    assert first.gradients == second.gradients
    assert first.true_gradients == second.true_gradients
    return first


def initial_parameters() -> tuple[float, ...]:
    return tutorial_session().snapshot().parameters


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


# -- each bug's symptom ---------------------------------------------------------------------


def test_zero_grad_after_backward_leaves_the_loss_exactly_flat(backend):
    snap = train_twice([bugs.ZERO_GRAD_AFTER_BACKWARD], backend, 50)
    history = snap.history
    assert len(history) == 50
    assert set(history.loss) == {history.loss[0]}  # exactly flat, not merely close
    assert set(history.grad_norm) == {0.0}  # every applied gradient is 0
    assert snap.gradients == (0.0,) * len(snap.gradients)
    assert snap.parameters == initial_parameters()  # so the weights never moved
    # ...although there was something to learn: the correct gradient is far from 0
    assert max(abs(g) for g in snap.true_gradients) > 0.1


def test_forward_order_backward_gives_all_zero_gradients_and_a_flat_loss(backend):
    session = tutorial_session([bugs.FORWARD_ORDER_BACKWARD], backend)
    for _ in range(30):
        session.step()
        snap = session.snapshot()
        assert snap.gradients == (0.0,) * len(snap.gradients), f"step {snap.step}"
        assert max(abs(g) for g in snap.true_gradients) > 0.1
    snap = train_twice([bugs.FORWARD_ORDER_BACKWARD], backend, 30)
    assert set(snap.history.loss) == {snap.history.loss[0]}
    assert set(snap.history.grad_norm) == {0.0}
    assert snap.parameters == initial_parameters()


def test_gradient_ascent_climbs_the_loss(backend):
    loss = train_twice([bugs.GRADIENT_ASCENT], backend, 50).history.loss
    assert loss[-1] > loss[0] * 1.5
    # with the lecture's small rate each step goes up the slope: no step lowers the loss
    assert all(later > earlier for earlier, later in pairwise(loss))


def test_tanh_derivative_fails_gradcheck_yet_lowers_the_loss_erratically(backend):
    # The gradient check catches it at the very first weights...
    buggy = tutorial_session([bugs.TANH_DERIVATIVE], backend)
    check = buggy.passes.gradcheck()
    assert not check.passed and check.max_rel_error > 0.1
    assert tutorial_session(backend=backend).passes.gradcheck().passed  # the same weights, clean

    # ...while the loss does go down: far below where it began at some point,
    loss = train_twice([bugs.TANH_DERIVATIVE], backend, 60).history.loss
    assert min(loss) < loss[0] / 10
    # but not steadily: it jumps back up, which the clean run's loss never does here.
    assert max(later - earlier for earlier, later in pairwise(loss)) > 1.0
    clean = train(tutorial_session(backend=backend), 60).history.loss
    assert all(later < earlier for earlier, later in pairwise(clean))


def test_overwrite_grad_gives_wrong_gradients_for_reused_nodes_and_stalls(backend):
    session = tutorial_session([bugs.OVERWRITE_GRAD], backend)
    for _ in range(5):
        session.step()
        snap = session.snapshot()
        # Every parameter feeds all four samples' forward passes, so every one is wrong.
        wrong = [
            not math.isclose(g, t, rel_tol=1e-6, abs_tol=1e-9)
            for g, t in zip(snap.gradients, snap.true_gradients, strict=True)
        ]
        assert all(wrong), f"step {snap.step}: {wrong.count(False)} gradients are right"

    loss = train_twice([bugs.OVERWRITE_GRAD], backend, 60).history.loss
    clean = train(tutorial_session(backend=backend), 60).history.loss
    assert loss[-1] > 100 * clean[-1]
    assert loss[-1] > 0.95 * loss[29]  # the last 30 steps barely move it: stalled


def test_skip_zero_grad_weights_grow_without_bound(backend):
    norm = train_twice([bugs.SKIP_ZERO_GRAD], backend, 120).history.weight_norm
    # After the first updates every step pushes the weights further out...
    assert all(later > earlier for earlier, later in pairwise(norm[3:]))
    # ...and the growth does not slow down, as it would if the norm were bounded:
    # the stale gradient sum keeps being applied even once the loss is 0.
    first_half, second_half = norm[59] - norm[0], norm[119] - norm[59]
    assert second_half > 0.9 * first_half > 0
    assert norm[-1] > 20 * norm[0]
    clean = train(tutorial_session(backend=backend), 120).history.weight_norm
    assert norm[-1] > 10 * clean[-1]


# -- the gradient check through the session ---------------------------------------------------
# tests/engine/test_gradcheck.py checks engine.inspect.gradcheck on a bare MLP with every
# activation and loss; these go through TrainingSession.gradcheck, which the dashboard's
# `g` and `train --gradcheck` use (finite differences on the session's own forward pass).


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_session_gradcheck_passes_on_the_clean_engine(activation, loss, backend):
    session = tutorial_session(backend=backend, activation=activation, loss=loss)
    train(session, 3)  # not only at the initial weights
    result = session.passes.gradcheck()
    assert result.passed, (result.max_abs_error, result.max_rel_error)
    assert len(result.checks) == result.total_parameters == 41
    assert max(abs(c.backprop) for c in result.checks) > 1e-3  # not a trivial check


def test_session_gradcheck_passes_with_l2_in_the_loss(backend):
    session = tutorial_session(backend=backend, l2=0.01)
    train(session, 3)
    assert session.passes.gradcheck().passed


@pytest.mark.parametrize(
    ("bug", "passes"),
    [
        (bugs.OVERWRITE_GRAD, False),
        (bugs.TANH_DERIVATIVE, False),
        (bugs.FORWARD_ORDER_BACKWARD, False),
        # These three break the training loop, not backprop: the check has nothing to catch.
        (bugs.SKIP_ZERO_GRAD, True),
        (bugs.ZERO_GRAD_AFTER_BACKWARD, True),
        (bugs.GRADIENT_ASCENT, True),
    ],
)
def test_session_gradcheck_catches_exactly_the_backprop_bugs(bug, passes, backend):
    session = tutorial_session([bug], backend)
    train(session, 3)
    before = session.snapshot()
    result = session.passes.gradcheck()
    assert result.passed is passes, result.max_rel_error
    if not passes:
        assert result.max_rel_error > 1e-2
    # the check leaves the run as it was
    after = session.snapshot()
    assert (after.parameters, after.gradients) == (before.parameters, before.gradients)


# -- the clean twin -------------------------------------------------------------------------


def clean_run(steps: int, backend: str, lr_changes: dict[int, float] | None = None, **overrides):
    """A separate clean session, with the learning rate set to lr_changes[n] after n steps."""
    lr_changes = lr_changes or {}
    session = tutorial_session(backend=backend, **overrides)
    for n in range(steps):
        if n in lr_changes:
            session.set_learning_rate(lr_changes[n])
        session.step()
    return session.snapshot().history


def assert_twin_is_the_clean_run(snap: Snapshot, clean) -> None:
    twin = snap.twin_history
    assert twin is not None
    assert twin.loss == clean.loss  # exactly, step for step
    assert twin.lr == clean.lr
    assert twin.weight_norm == clean.weight_norm
    assert len(twin) == snap.step


@pytest.mark.parametrize("bug", bugs.BUGS)
def test_twin_equals_a_separate_clean_run_when_the_bug_is_on_from_the_start(bug, backend):
    snap = train(tutorial_session([bug], backend), 20)
    assert_twin_is_the_clean_run(snap, clean_run(20, backend))
    assert snap.history.loss != snap.twin_history.loss  # the bug did change the run


@pytest.mark.parametrize("bug", bugs.BUGS)
def test_twin_equals_a_separate_clean_run_when_the_bug_goes_on_mid_run(bug, backend):
    session = tutorial_session(backend=backend)
    train(session, 8)
    session.toggle_bug(bug)
    snap = train(session, 12)
    assert_twin_is_the_clean_run(snap, clean_run(20, backend))
    assert snap.history.loss[:8] == snap.twin_history.loss[:8]


@pytest.mark.parametrize(
    "schedule", [{}, {"lr_end": 0.01, "decay_steps": 20}], ids=["constant", "decaying"]
)
def test_twin_replays_learning_rates_changed_before_and_while_the_bug_is_on(schedule, backend):
    session = tutorial_session(backend=backend, **schedule)
    train(session, 5)
    session.set_learning_rate(0.1)  # before any bug: the twin does not exist yet
    train(session, 5)
    session.toggle_bug(bugs.OVERWRITE_GRAD)
    train(session, 5)
    session.set_learning_rate(0.02)  # while the twin trains in lockstep
    snap = train(session, 10)
    clean = clean_run(25, backend, {5: 0.1, 15: 0.02}, **schedule)
    assert len(set(clean.lr)) > 2  # the rates really changed
    assert_twin_is_the_clean_run(snap, clean)


def test_twin_catches_up_when_a_bug_goes_off_and_on_again(backend):
    session = tutorial_session([bugs.GRADIENT_ASCENT], backend)
    train(session, 5)
    session.toggle_bug(bugs.GRADIENT_ASCENT)
    train(session, 5)
    assert session.snapshot().twin_history is None
    session.toggle_bug(bugs.OVERWRITE_GRAD)
    snap = train(session, 5)
    assert_twin_is_the_clean_run(snap, clean_run(15, backend))


def test_no_twin_while_every_bug_is_off(backend):
    session = tutorial_session(backend=backend)
    assert train(session, 5).twin_history is None
    assert session.twin_loss is None
    session.toggle_bug(bugs.OVERWRITE_GRAD)
    assert train(session, 2).twin_history is not None
    session.toggle_bug(bugs.OVERWRITE_GRAD)  # every bug off again: the twin is hidden
    snap = train(session, 2)
    assert snap.twin_history is None and snap.true_gradients is None
    assert session.twin_loss is None


def test_twin_loss_is_the_twins_last_loss(backend):
    session = tutorial_session([bugs.OVERWRITE_GRAD], backend)
    clean = tutorial_session(backend=backend)
    for _ in range(10):
        session.step()
        assert session.twin_loss == clean.step().loss


# -- the true gradients ------------------------------------------------------------------------


def clean_gradients_at(parameters: tuple[float, ...], backend: str) -> tuple[float, ...]:
    """What a clean session computes in its next step, put at these weights."""
    session = tutorial_session(backend=backend)
    for p, value in zip(session.model.parameters(), parameters, strict=True):
        p.data = value
    session.step()
    return session.snapshot().gradients


@pytest.mark.parametrize("bug", bugs.BUGS)
def test_true_gradients_are_a_clean_sessions_at_the_same_weights(bug, backend):
    session = tutorial_session([bug], backend)
    for _ in range(6):
        before = session.snapshot().parameters  # the weights the step's backward sees
        session.step()
        snap = session.snapshot()
        assert snap.true_gradients == clean_gradients_at(before, backend)
    if bug != bugs.GRADIENT_ASCENT:  # the one bug that leaves backprop's numbers right
        assert snap.gradients != snap.true_gradients


def test_true_gradients_stay_with_the_buggy_gradients_until_the_next_clean_step(backend):
    session = tutorial_session([bugs.OVERWRITE_GRAD], backend)
    buggy = train(session, 5)
    session.toggle_bug(bugs.OVERWRITE_GRAD)
    off = session.snapshot()  # no step since: the gradients on show are the buggy ones
    assert off.gradients == buggy.gradients != buggy.true_gradients
    assert off.true_gradients == buggy.true_gradients
    clean = train(session, 1)  # a clean step: its gradients are the true ones
    assert clean.true_gradients is None
    assert clean.gradients == clean_gradients_at(off.parameters, backend)
