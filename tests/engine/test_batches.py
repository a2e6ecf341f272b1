"""Mini-batches: drawn from the run's seed, the same for its clean twin and after a resume,
equal on both engines; the full training loss every few steps."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

import datasets
from engine import bugs
from engine.persist.session_file import load_session, save_session
from engine.training.presets import PRESETS
from engine.training.session import FULL_LOSS_EVERY, TrainingSession

DATA = datasets.make("moons", 60, seed=1)
BATCHED = replace(PRESETS["moons"], batch_size=8, seed=3)


def run(config=BATCHED, bug_ids=(), backend="fast", steps=0) -> TrainingSession:
    session = TrainingSession(config, DATA.xs, DATA.ys, bug_ids, backend)
    for _ in range(steps):
        session.step()
    return session


def test_each_step_draws_a_batch_from_the_seed_alone():
    session = run()
    batches = [session.batch(k) for k in range(20)]
    assert all(len(b) == 8 and len(set(b)) == 8 and list(b) == sorted(b) for b in batches)
    assert all(0 <= i < len(DATA.xs) for b in batches for i in b)
    assert len(set(batches)) == 20  # a fresh draw each step
    assert batches == [run().batch(k) for k in range(20)]  # same seed, same batches
    other = run(replace(BATCHED, seed=4))
    assert batches != [other.batch(k) for k in range(20)]
    assert run(replace(BATCHED, batch_size=None)).batch(0) is None
    assert run(replace(BATCHED, batch_size=60)).batch(0) is None  # all of them: full batch


def test_same_seed_same_run_and_the_batch_changes_the_result():
    a, b = run(steps=15), run(steps=15)
    assert a.snapshot().history == b.snapshot().history
    assert a.snapshot().parameters == b.snapshot().parameters
    full = run(replace(BATCHED, batch_size=None), steps=15)
    assert a.snapshot().parameters != full.snapshot().parameters


def test_the_history_keeps_batch_loss_and_every_few_steps_the_full_loss():
    session = run(steps=25)
    history = session.snapshot().history
    evaluated = [s for s, v in zip(history.steps, history.full_loss) if not math.isnan(v)]
    assert evaluated == list(range(1, 26, FULL_LOSS_EVERY))
    # The full loss is the loss on every sample at that step's weights.
    check = run()
    full = {}
    for k in range(25):
        if k % FULL_LOSS_EVERY == 0:
            full[k + 1] = check.evaluate()[0]
        check.step()
    assert {s: history.full_loss[s - 1] for s in evaluated} == full
    assert history.loss[0] != history.full_loss[0]  # the batch's loss is another number
    no_batches = run(replace(BATCHED, batch_size=None), steps=3).snapshot().history
    assert all(math.isnan(v) for v in no_batches.full_loss)


@pytest.mark.parametrize(
    "bug_ids", [(), (bugs.OVERWRITE_GRAD,), (bugs.SKIP_ZERO_GRAD, bugs.TANH_DERIVATIVE)]
)
@pytest.mark.usefixtures("codegen_form")
def test_batches_train_the_same_on_the_fast_path_and_the_reference(bug_ids):
    for config in (BATCHED, replace(PRESETS["tutorial"], batch_size=5, hidden=(4, 4))):
        fast = run(config, bug_ids, "fast")
        ref = run(config, bug_ids, "reference")
        for _ in range(12):
            assert fast.step() == ref.step()
        assert fast.snapshot().parameters == ref.snapshot().parameters
        assert fast.snapshot().history == ref.snapshot().history


def test_the_clean_twin_trains_on_the_run_s_batches():
    buggy = run(bug_ids=(bugs.SKIP_ZERO_GRAD,), steps=12)
    clean = run(steps=12)
    assert buggy.snapshot().twin_history == clean.snapshot().history


def test_a_resumed_run_draws_the_batches_it_would_have_drawn(tmp_path):
    whole = run(bug_ids=(bugs.OVERWRITE_GRAD,), steps=17)
    first = run(bug_ids=(bugs.OVERWRITE_GRAD,), steps=7)
    path = tmp_path / "run.json"
    save_session(path, first)
    resumed = load_session(path).session
    assert resumed.config.batch_size == 8
    for _ in range(10):
        resumed.step()
    assert resumed.snapshot().parameters == whole.snapshot().parameters
    assert resumed.snapshot().history == whole.snapshot().history
    assert resumed.snapshot().twin_history == whole.snapshot().twin_history
