"""Drawn points: the run trains on them from the next step, on every engine, twin and check."""

from __future__ import annotations

import dataclasses

import pytest

from engine.persist.session_file import load_session, save_session
from engine.training.drawing import TEST, TRAIN, DrawnPoints, DrawRefused
from engine.training.presets import PRESETS
from engine.training.records import SessionConfig
from engine.training.session import TrainingSession

BLANK = ([(-1.0, -1.0), (1.0, 1.0)], [-1.0, 1.0])
CONFIG = PRESETS["blank"]


def exact(snapshot) -> str:
    """Every float by its repr (nan == nan here); the bugs sorted."""
    return repr(dataclasses.replace(snapshot, bugs=tuple(sorted(snapshot.bugs)), trace=None))


def drawing_run(backend: str, bug: str | None = None, config: SessionConfig = CONFIG):
    """3 steps, a +1 point, 2 steps (a bug on from here, if given), a -1 point, 3 steps."""
    session = TrainingSession(config, *BLANK, backend=backend)
    drawn = DrawnPoints(session)
    for _ in range(3):
        session.step()
    drawn.add((0.5, -0.5), 1.0)
    if bug:
        session.set_bugs({bug})
    for _ in range(2):
        session.step()
    drawn.add((-0.5, 0.5), -1.0)
    for _ in range(3):
        session.step()
    return session


def test_the_next_step_trains_on_the_new_points():
    session = TrainingSession(CONFIG, *BLANK)
    for _ in range(3):
        session.step()
    before = session.evaluate()[0]
    DrawnPoints(session).add((0.5, -0.5), 1.0)
    assert session.xs == ((-1.0, -1.0), (1.0, 1.0), (0.5, -0.5))
    assert session.ys == (-1.0, 1.0, 1.0)
    after = session.evaluate()[0]  # at the same weights, on three points
    assert after != before
    assert session.step().loss == after  # the step's forward pass saw the new point
    snap = session.snapshot()
    assert snap.inputs == session.xs and len(snap.predictions) == 3


def test_predictions_match_the_new_points_before_the_next_step():
    session = TrainingSession(CONFIG, *BLANK)
    session.step()
    DrawnPoints(session).add((0.0, 0.5), -1.0)
    snap = session.snapshot()
    assert len(snap.predictions) == len(snap.inputs) == 3
    assert session.step_count == 1  # no step taken by drawing


@pytest.mark.parametrize("bug", [None, "overwrite-grad", "skip-zero-grad", "tanh-derivative"])
def test_fast_path_equals_the_reference_engine_after_drawn_points(bug):
    fast, reference = drawing_run("fast", bug), drawing_run("reference", bug)
    assert fast.last_backend == "fast" and reference.last_backend == "reference"
    assert exact(fast.snapshot()) == exact(reference.snapshot())


def test_mini_batches_draw_from_the_new_points():
    config = dataclasses.replace(CONFIG, batch_size=2)
    fast, reference = drawing_run("fast", config=config), drawing_run("reference", config=config)
    assert exact(fast.snapshot()) == exact(reference.snapshot())
    assert max(fast.batch(9)) < 4 and fast.batch(100) != fast.batch(101)


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_the_clean_twin_trains_on_the_same_points_from_the_same_step(backend):
    buggy = drawing_run(backend, "overwrite-grad")
    clean = drawing_run(backend)  # the same drawing, no bug
    twin = buggy.snapshot().twin_history
    assert twin is not None and twin == clean.snapshot().history
    assert buggy._twin.xs == clean.xs == buggy.xs
    assert buggy._twin.snapshot().parameters == clean.snapshot().parameters


def test_a_twin_started_after_drawing_replays_the_points_as_they_were():
    """Bug on only after both points: the twin must not train on them from step 0."""
    buggy = TrainingSession(CONFIG, *BLANK)
    clean = TrainingSession(CONFIG, *BLANK)
    for session in (buggy, clean):
        drawn = DrawnPoints(session)
        session.step()
        drawn.add((0.5, -0.5), 1.0)
        session.step()
        session.step()
        drawn.remove(TRAIN, 0)
    buggy.set_bugs({"gradient-ascent"})
    for session in (buggy, clean):
        for _ in range(4):
            session.step()
    assert buggy.snapshot().twin_history == clean.snapshot().history
    assert buggy.snapshot().history != clean.snapshot().history


def test_test_points_change_with_the_data_and_the_test_loss_follows():
    session = TrainingSession(CONFIG, *BLANK, test_xs=[(0.0, 1.0)], test_ys=[1.0])
    drawn = DrawnPoints(session)
    session.step()
    first_test_loss = session.test_metrics[0]
    drawn.remove(TEST, 0)
    assert session.test_xs == () and len(session.snapshot().test_inputs) == 0
    session.step()
    assert session.test_metrics[0] != session.test_metrics[0]  # nan: no test points
    drawn.undo()
    assert session.test_xs == ((0.0, 1.0),)
    assert len(session.snapshot().predictions) == 2
    session.step()
    assert session.test_metrics[0] == session.test_metrics[0] != first_test_loss


def test_gradcheck_sees_the_drawn_points():
    session = TrainingSession(CONFIG, *BLANK)
    session.step()
    before = session.passes.gradcheck()
    DrawnPoints(session).add((0.5, -0.5), 1.0)
    after = session.passes.gradcheck()
    fresh = TrainingSession.from_state(session.export_state())  # built on the new data
    assert after == fresh.passes.gradcheck()
    assert after != before


def test_undo_and_redo_walk_the_edits_back_and_forth():
    session = TrainingSession(CONFIG, *BLANK)
    drawn = DrawnPoints(session)
    original = (session.xs, session.ys)
    drawn.add((0.5, -0.5), 1.0)
    drawn.relabel(0)
    drawn.remove(TRAIN, 1)
    edited = (session.xs, session.ys)
    assert edited == (((-1.0, -1.0), (0.5, -0.5)), (1.0, 1.0))
    assert [drawn.undo().kind for _ in range(3)] == ["remove", "relabel", "add"]
    assert (session.xs, session.ys) == original
    assert drawn.undo() is None  # nothing left to undo
    for _ in range(3):
        drawn.redo()
    assert (session.xs, session.ys) == edited
    assert drawn.redo() is None
    drawn.undo()
    drawn.add((0.0, 0.0), -1.0)  # a new edit forgets what was undone
    assert drawn.redo() is None
    assert [drawn.undo().kind for _ in range(3)] == ["add", "relabel", "add"]
    assert drawn.undo() is None


def test_the_last_training_point_cannot_be_removed():
    session = TrainingSession(CONFIG, [(0.0, 0.0)], [1.0])
    drawn = DrawnPoints(session)
    with pytest.raises(DrawRefused, match="last training point"):
        drawn.remove(TRAIN, 0)
    assert session.xs == ((0.0, 0.0),) and drawn.undo() is None


def test_nearest_looks_at_training_and_test_points():
    session = TrainingSession(CONFIG, *BLANK, test_xs=[(0.9, 0.0)], test_ys=[-1.0])
    drawn = DrawnPoints(session)
    assert drawn.nearest((0.8, 0.1))[:2] == (TEST, 0)
    assert drawn.nearest((-0.8, -0.9))[:2] == (TRAIN, 0)


def test_non_finite_points_are_refused():
    drawn = DrawnPoints(TrainingSession(CONFIG, *BLANK))
    with pytest.raises(DrawRefused, match="finite"):
        drawn.add((float("nan"), 0.0), 1.0)


def test_a_saved_run_keeps_its_drawn_points_and_continues_exactly(tmp_path):
    session = drawing_run("fast", "overwrite-grad")
    path = tmp_path / "run.json"
    save_session(path, session)
    loaded = load_session(path).session
    assert loaded.xs == session.xs and loaded.ys == session.ys
    assert loaded._twin.xs == session.xs
    for run in (session, loaded):
        DrawnPoints(run).add((0.25, 0.25), -1.0)
        for _ in range(3):
            run.step()
    assert exact(loaded.snapshot()) == exact(session.snapshot())


def test_a_run_saved_right_after_drawing_loads():
    """Predictions were evaluated again, so the saved state's lengths fit its data."""
    session = TrainingSession(CONFIG, *BLANK, test_xs=[(0.0, 1.0)], test_ys=[1.0])
    session.step()
    DrawnPoints(session).add((0.5, -0.5), 1.0)
    restored = TrainingSession.from_state(session.export_state())
    assert restored.snapshot().predictions == session.snapshot().predictions
