"""A saved run keeps its past: the timeline in the session file (``session.timeline``).

A loaded run views and rewinds to any step from 0 exactly as the run that was saved
(and as a straight run making the same changes at the same steps); a file from before
time travel still loads, reaching back to its saved step; a hand-edited timeline that
does not fit the run is one SessionFileError naming the field.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import datasets
from engine import bugs
from engine.persist.session_file import SessionFileError, load_session, save_session
from engine.training.presets import PRESETS
from engine.training.records import Snapshot
from engine.training.session import TrainingSession
from tests.support.session_fuzz import FUZZ, load_or_refuse, mutate

STEPS = 30
SAVED_AT = 24


def make_run() -> tuple[TrainingSession, datasets.Dataset]:
    """moons with a test split: the test points ride along in every stretch's points."""
    data = datasets.make("moons", seed=3)
    train, test = datasets.split(data, 0.25, 3)
    config = dataclasses.replace(PRESETS["moons"], seed=3)
    return TrainingSession(config, train.xs, train.ys, (), "fast", test.xs, test.ys), train


def changes(session: TrainingSession, step: int, train: datasets.Dataset) -> None:
    """What the run changes right after update ``step``: a bug on at 6, fewer points at 11
    (the test points kept), a slower rate at 15, the bug off at 19."""
    if step in (6, 19):
        session.toggle_bug(bugs.SKIP_ZERO_GRAD)
    if step == 11:
        session.set_data(train.xs[:40], train.ys[:40])
    if step == 15:
        session.set_learning_rate(session.learning_rate / 2)


def advance(session: TrainingSession, train, until: int, seen: dict | None = None) -> None:
    """Step ``session`` on to ``until``, making ``changes`` on the way; ``seen``: each
    step's snapshot, taken right after its update."""
    while session.step_count < until:
        changes(session, session.step_count, train)
        session.step()
        if seen is not None:
            seen[session.step_count] = session.snapshot()


def state(snap: Snapshot) -> str:
    """What a pane shows of one step, every float by its repr."""
    return repr(
        (
            snap.step,
            snap.parameters,
            snap.gradients,
            snap.predictions,
            snap.loss,
            snap.accuracy,
            snap.test_loss,
            snap.test_accuracy,
            snap.true_gradients,
            sorted(snap.bugs),
            snap.inputs,
            snap.test_inputs,
        )
    )


def save(session: TrainingSession, path: Path) -> Path:
    save_session(str(path), session)
    return path


def document(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def straight() -> dict[int, Snapshot]:
    """A straight run's snapshot after each update, from step 0 to STEPS."""
    session, train = make_run()
    seen = {0: session.snapshot()}
    advance(session, train, STEPS, seen)
    return seen


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """The run saved at SAVED_AT, its bug, data and rate changes behind it."""
    session, train = make_run()
    advance(session, train, SAVED_AT)
    return save(session, tmp_path_factory.mktemp("timeline") / "run.json")


def test_the_file_holds_the_stretches_once_per_set_of_points(saved_run):
    timeline = document(saved_run)["session"]["timeline"]
    assert timeline["stretches"] == [
        {"start": 0, "bugs": [], "points": 0},
        {"start": 6, "bugs": ["skip-zero-grad"], "points": 0},
        {"start": 11, "bugs": ["skip-zero-grad"], "points": None},  # the run's own data
        {"start": 19, "bugs": [], "points": None},
    ]
    (first,) = timeline["point_sets"]
    assert len(first["xs"]) == 75 and len(first["test_xs"]) == 25
    assert timeline["origin"] is None and timeline["ghost"] is None


def test_a_loaded_run_views_every_past_step_as_the_straight_run_had_it(saved_run, straight):
    loaded = load_session(str(saved_run)).session
    assert loaded.earliest_step == 0
    # In the order a learner might move: forward, then jumping back across stretches.
    for step in [*range(SAVED_AT + 1), 12, 3, 20, 7]:
        view = loaded.view(step)
        assert state(view) == state(straight[step]), step
        assert view.history == loaded.snapshot().history  # the whole run's, always


def test_rewinding_a_loaded_run_then_going_on_equals_the_straight_run(
    saved_run, straight, tmp_path
):
    expected = make_run()
    advance(*expected, STEPS)
    want = document(save(expected[0], tmp_path / "straight.json"))
    for step in (0, 5, 6, 11, 13, 19, 22):
        loaded = load_session(str(saved_run)).session
        loaded.rewind(step)
        assert state(loaded.snapshot()) == state(straight[step])
        advance(loaded, make_run()[1], STEPS)
        got = document(save(loaded, tmp_path / f"from-{step}.json"))
        ghost = got["session"]["timeline"]["ghost"]
        assert ghost["branch_step"] == step and ghost["steps"][-1] == SAVED_AT
        got["session"]["timeline"]["ghost"] = None
        # Weights, gradients, optimizer, history, clean twin and timeline: all the same.
        assert got == want, step


def test_the_ghost_and_the_branch_survive_a_save_and_load(saved_run, tmp_path):
    session = load_session(str(saved_run)).session
    session.rewind(9)
    for _ in range(4):
        session.step()
    again = load_session(str(save(session, tmp_path / "branched.json"))).session
    before, after = session.export_state().timeline, again.export_state().timeline
    assert after.ghost == before.ghost and after.ghost.branch_step == 9
    assert after.ghost.steps == tuple(range(10, SAVED_AT + 1))
    assert after.stretches == before.stretches
    assert [s.start for s in after.stretches] == [0, 6]  # cut at the branch
    assert again.view(12).step == 12 and again.snapshot().ghost == session.ghost
    # The ghost is saved again as it was, and nothing else changes either.
    assert (
        save(again, tmp_path / "a.json").read_bytes()
        == save(session, tmp_path / "b.json").read_bytes()
    )


def test_a_ghost_with_a_non_finite_loss_round_trips(tmp_path):
    session, _ = make_run()
    for _ in range(3):
        session.step()
    session.model.parameters()[0].data = math.inf  # as an overflowing update would leave it
    assert session.step().diverged  # the loss is not finite: diverged at step 4
    session.rewind(2)
    last = session.ghost.loss[-1]
    assert not math.isfinite(last)
    path = save(session, tmp_path / "diverged.json")
    # Written as the history writes it: a string JSON can hold.
    assert document(path)["session"]["timeline"]["ghost"]["loss"][-1] == str(last)
    loaded = load_session(str(path)).session
    assert repr(loaded.ghost) == repr(session.ghost)
    assert loaded.diverged_at is None and loaded.step_count == 2


def test_a_file_from_before_time_travel_reaches_back_to_its_step(saved_run, straight, tmp_path):
    old = document(saved_run)
    del old["session"]["timeline"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    loaded = load_session(str(path)).session
    assert loaded.earliest_step == SAVED_AT
    assert state(loaded.view(SAVED_AT)) == state(straight[SAVED_AT])
    with pytest.raises(ValueError, match=f"reaches steps {SAVED_AT} to {SAVED_AT}"):
        loaded.view(SAVED_AT - 1)

    # Saved again, it keeps its origin (the loaded step) and reaches back to it.
    advance(loaded, make_run()[1], STEPS)
    again_path = save(loaded, tmp_path / "again.json")
    origin = document(again_path)["session"]["timeline"]["origin"]
    assert origin["step"] == SAVED_AT
    again = load_session(str(again_path)).session
    assert again.earliest_step == SAVED_AT
    assert repr(again.timeline.checkpoint(SAVED_AT)) == repr(loaded.timeline.checkpoint(SAVED_AT))
    for step in range(SAVED_AT, STEPS + 1):
        assert state(again.view(step)) == state(straight[step]), step
    again.rewind(SAVED_AT + 2)
    assert state(again.snapshot()) == state(straight[SAVED_AT + 2])


# -- hand-edited timelines: one SessionFileError naming the field ----------------------------


def _set(path: str, value):
    def edit(timeline: dict) -> None:
        *parents, last = path.split(".")
        target = timeline
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    return edit


BAD_TIMELINES = {
    "start out of order": (
        _set("stretches.2.start", 4),
        "session.timeline.stretches[2]: start 4 is out of order",
    ),
    "start past the run": (
        _set("stretches.3.start", 99),
        (
            "session.timeline.stretches[3]: start 99 is out of order (stretches start in rising "
            "order, up to the run's step 24)"
        ),
    ),
    "unknown bug": (
        _set("stretches.1.bugs", ["off-by-one"]),
        "session.timeline.stretches[1].bugs: unknown bug off-by-one",
    ),
    "bugs the events did not switch": (
        _set("stretches.0.bugs", ["gradient-ascent"]),
        (
            "session.timeline.stretches[0].bugs: the bug events leave no bug on from step 0, "
            "but the stretch lists gradient-ascent"
        ),
    ),
    "a word for a start": (
        _set("stretches.1.start", "six"),
        "session.timeline.stretches[1].start: expected a whole number, found the string 'six'",
    ),
    "a number for the bugs": (
        _set("stretches.1.bugs", 3),
        "session.timeline.stretches[1].bugs: expected a list [...], found the number 3",
    ),
    "no such point set": (
        _set("stretches.1.points", 5),
        (
            "session.timeline.stretches[1].points: no point set 5 (session.timeline.point_sets "
            "holds 1)"
        ),
    ),
    "a point of another width": (
        _set("point_sets.0.xs.3", [0.5]),
        "session.timeline.stretches[0].points: every point needs 2 features",
    ),
    "a word for a point": (
        _set("point_sets.0.ys.2", "up"),
        "session.timeline.point_sets[0].ys[2]: expected a number, found the string 'up'",
    ),
    "stretches missing": (
        lambda t: t.pop("stretches"),
        "session.timeline.stretches: missing",
    ),
    "a list for an object": (
        _set("ghost", [10, [11], [0.5]]),
        "session.timeline.ghost: expected an object {...}, found a list",
    ),
    "ghost branch past the run": (
        _set("ghost", {"branch_step": 30, "steps": [31], "loss": [0.5]}),
        "session.timeline.ghost.branch_step: must be from 0 to the run's step 24",
    ),
    "ghost steps not after its branch": (
        _set("ghost", {"branch_step": 10, "steps": [9, 11], "loss": [0.5, 0.4]}),
        "session.timeline.ghost.steps: must rise from after the branch step 10",
    ),
    "ghost loss short": (
        _set("ghost", {"branch_step": 10, "steps": [11, 12], "loss": [0.5]}),
        "session.timeline.ghost.loss: expected one value per step (2)",
    ),
    "ghost loss a word": (
        _set("ghost", {"branch_step": 10, "steps": [11], "loss": ["low"]}),
        "session.timeline.ghost.loss[0]: expected a number, found the string 'low'",
    ),
    "origin at step 0": (
        _set("origin", {"step": 0, "data": []}),
        "session.timeline.origin.step: must be at least 1, found 0",
    ),
}


@pytest.mark.parametrize("case", BAD_TIMELINES)
def test_hand_edited_timelines_are_named(case, saved_run, tmp_path):
    edit, fragment = BAD_TIMELINES[case]
    bad = copy.deepcopy(document(saved_run))
    edit(bad["session"]["timeline"])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(SessionFileError) as caught:
        load_session(str(path))
    message = str(caught.value)
    assert message == f"{path}: {fragment}" or fragment in message, message
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_a_hand_edited_origin_must_fit_the_run(saved_run, tmp_path):
    """An origin checkpoint (a run first loaded from an older file) with a value too few."""
    old = document(saved_run)
    del old["session"]["timeline"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    session = load_session(str(path)).session
    session.step()
    good = document(save(session, tmp_path / "good.json"))
    count = len(session.model.parameters())
    for field, expected in (("data", count), ("grad", count), ("predictions", 40)):
        bad = copy.deepcopy(good)
        bad["session"]["timeline"]["origin"][field].pop()
        path.write_text(json.dumps(bad))
        with pytest.raises(SessionFileError) as caught:
            load_session(str(path))
        assert str(caught.value) == (
            f"{path}: session.timeline.origin.{field}: expected {expected} values, "
            f"found {expected - 1}"
        )


# -- hypothesis: a mutated timeline loads, or is refused with SessionFileError -------------


@pytest.fixture(scope="module")
def rich_document(saved_run, tmp_path_factory) -> dict:
    """A timeline with every part: an origin (first loaded from a file without one), a
    second set of points, and a ghost."""
    folder = tmp_path_factory.mktemp("rich")
    old = document(saved_run)
    del old["session"]["timeline"]
    (folder / "old.json").write_text(json.dumps(old))
    session = load_session(str(folder / "old.json")).session
    _, train = make_run()
    session.step()
    session.set_data(train.xs[:30], train.ys[:30])
    for _ in range(3):
        session.step()
    session.rewind(SAVED_AT + 2)
    session.step()
    rich = document(save(session, folder / "rich.json"))
    timeline = rich["session"]["timeline"]
    assert timeline["origin"] and timeline["point_sets"] and timeline["ghost"]
    return rich


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_timelines(rich_document, tmp_path, data):
    # Only the timeline is mutated (the rest stays valid); deleting it makes an older file.
    mutated = mutate({"timeline": rich_document["session"]["timeline"]}, data)
    session = {k: v for k, v in rich_document["session"].items() if k != "timeline"}
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps({**rich_document, "session": {**session, **mutated}}))
    load_or_refuse(str(path))
