"""Save and resume: a loaded run continues bit for bit; a bad file is one clear error.

Exactness is checked two ways: ``repr()`` of the snapshots (every float by its
shortest round-tripping repr, so -0.0 and 0.0 differ; see ``exact``) and the
saved files byte for byte, which also covers the optimizer's lr log and the
clean twin.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import random
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import datasets
from engine import bugs
from engine.persist import session_file
from engine.persist.session_file import SessionFileError, history_csv, load_session, save_session
from engine.training.history import RECORDED, HistoryRecorder
from engine.training.presets import PRESETS
from engine.training.records import Snapshot
from engine.training.saved_state import SavedHistory
from engine.training.session import SessionDiverged, TrainingSession
from tests.support.session_fuzz import FUZZ, load_or_refuse, mutate


def make_session(
    dataset: str = "tutorial",
    bug_ids: tuple[str, ...] = (),
    test_fraction: float = 0.0,
    backend: str = "fast",
    **overrides,
) -> TrainingSession:
    config = dataclasses.replace(PRESETS[dataset], seed=3, **overrides)
    data = datasets.make(dataset, seed=3)
    if not test_fraction:
        return TrainingSession(config, data.xs, data.ys, bug_ids, backend)
    train, test = datasets.split(data, test_fraction, 3)
    return TrainingSession(config, train.xs, train.ys, bug_ids, backend, test.xs, test.ys)


def saved(tmp_path, session: TrainingSession, name: str = "run.json", run=None) -> str:
    path = str(tmp_path / name)
    save_session(path, session, run)
    return path


def exact(snapshot: Snapshot) -> str:
    """Every float by its repr, so that -0.0 and 0.0 differ; the bugs sorted (a set's
    order follows how it was built, not what it holds)."""
    return repr(dataclasses.replace(snapshot, bugs=tuple(sorted(snapshot.bugs))))


def same_state(a: TrainingSession, b: TrainingSession, tmp_path) -> None:
    assert exact(a.snapshot()) == exact(b.snapshot())
    assert (
        Path(saved(tmp_path, a, "a.json")).read_bytes()
        == Path(saved(tmp_path, b, "b.json")).read_bytes()
    )


def lr_change(session: TrainingSession) -> None:
    session.set_learning_rate(session.learning_rate * 0.5)


def toggle_overwrite(session: TrainingSession) -> None:
    session.toggle_bug(bugs.OVERWRITE_GRAD)


# Each case: how to build the run, and what happens at steps 4 and 12 (the save is at 10).
CASES = {
    "tutorial": ({}, None),
    "tutorial skip-zero-grad": ({"bug_ids": (bugs.SKIP_ZERO_GRAD,)}, None),
    "tutorial every bug": ({"bug_ids": tuple(bugs.BUGS)}, None),
    "tutorial lr change": ({}, lr_change),
    "tutorial bug on at 4, off at 12": ({}, toggle_overwrite),
    "tutorial reference backend": (
        {"bug_ids": (bugs.TANH_DERIVATIVE,), "backend": "reference"},
        None,
    ),
    "moons": ({"dataset": "moons"}, None),
    "moons skip-zero-grad": ({"dataset": "moons", "bug_ids": (bugs.SKIP_ZERO_GRAD,)}, None),
    "moons overwrite-grad, lr change": (
        {"dataset": "moons", "bug_ids": (bugs.OVERWRITE_GRAD,)},
        lr_change,
    ),
    "moons test split": ({"dataset": "moons", "test_fraction": 0.25}, None),
    "xor test split, gradient-ascent": (
        {"dataset": "xor", "test_fraction": 0.3, "bug_ids": (bugs.GRADIENT_ASCENT,)},
        lr_change,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_save_at_10_and_resume_for_5_equals_15_steps(case, tmp_path):
    build, event = CASES[case]

    def advance(session: TrainingSession, steps: range) -> None:
        for step in steps:
            if event is not None and step in (4, 12):
                event(session)
            session.step()

    straight = make_session(**build)
    advance(straight, range(15))

    first = make_session(**build)
    advance(first, range(10))
    loaded = load_session(saved(tmp_path, first)).session
    same_state(first, loaded, tmp_path)  # nothing lost, the clean twin included
    advance(loaded, range(10, 15))
    same_state(straight, loaded, tmp_path)
    assert loaded.snapshot().loss == straight.snapshot().loss


def test_skip_zero_grad_carries_the_accumulated_gradient(tmp_path):
    session = make_session(bug_ids=(bugs.SKIP_ZERO_GRAD,))
    for _ in range(3):
        session.step()
    loaded = load_session(saved(tmp_path, session)).session
    assert loaded.snapshot().gradients == session.snapshot().gradients
    assert any(g != 0.0 for g in loaded.snapshot().gradients)
    assert loaded.step() == session.step()


def test_the_clean_twin_is_restored_not_replayed(tmp_path):
    session = make_session(bug_ids=(bugs.OVERWRITE_GRAD,))
    for _ in range(6):
        session.step()
    loaded = load_session(saved(tmp_path, session)).session
    assert loaded.twin_loss == session.twin_loss is not None
    assert loaded.snapshot().twin_history == session.snapshot().twin_history
    assert loaded._twin is not None and loaded._twin.step_count == 6


def test_a_thinned_history_resumes_across_the_next_thinning(tmp_path):
    straight, first = make_session(), make_session()
    for _ in range(4000):
        straight.step()
        first.step()
    loaded = load_session(saved(tmp_path, first)).session
    for _ in range(300):  # the archive thins at step 4097
        straight.step()
        loaded.step()
    history = straight.snapshot().history
    assert len(history) < history.steps[-1]  # thinned
    same_state(straight, loaded, tmp_path)


def test_a_diverged_run_stays_diverged(tmp_path):
    session = make_session("moons", loss="mse", lr=100.0, lr_end=None)
    while not session.step().diverged:
        pass
    loaded = load_session(saved(tmp_path, session)).session
    assert loaded.diverged_at == session.diverged_at
    with pytest.raises(SessionDiverged, match=f"diverged at step {session.diverged_at}"):
        loaded.step()
    loaded.reset()
    assert loaded.step().step == 1


def test_a_step_0_session_and_the_run_info_round_trip(tmp_path):
    session = make_session()
    run = {"dataset": "tutorial", "data_path": None, "noise": math.inf, "samples": 7}
    loaded = load_session(saved(tmp_path, session, run=run))
    assert exact(loaded.session.snapshot()) == exact(session.snapshot())
    assert loaded.run == {**run, "noise": "inf"}  # returned as read; the caller checks it


def test_reset_after_loading_goes_back_to_the_seeds_weights(tmp_path):
    session = make_session()
    initial = session.snapshot()
    for _ in range(5):
        session.step()
    loaded = load_session(saved(tmp_path, session)).session
    loaded.reset()
    assert exact(loaded.snapshot()) == exact(initial)


def test_floats_round_trip_exactly_inf_nan_and_negative_zero_included(tmp_path):
    session = make_session()
    session.step()
    params = session.model.parameters()
    tricky = [-0.0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, math.inf, -math.inf, math.nan]
    for p, g in zip(params, tricky):
        p.grad = g
    loaded = load_session(saved(tmp_path, session)).session
    restored = [p.grad for p in loaded.model.parameters()][: len(tricky)]
    assert [repr(g) for g in restored] == [repr(g) for g in tricky]
    assert math.copysign(1.0, restored[0]) == -1.0
    text = Path(saved(tmp_path, session)).read_text(encoding="utf-8")
    assert '"inf"' in text and '"nan"' in text and "Infinity" not in text and "NaN" not in text


def test_the_file_is_readable_json_with_its_version(tmp_path):
    session = make_session(bug_ids=(bugs.SKIP_ZERO_GRAD,))
    for _ in range(3):
        session.step()
    path = saved(tmp_path, session, run={"dataset": "tutorial"})
    text = Path(path).read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["format"] == "micrograd-tui session" and document["version"] == 1
    assert document["session"]["step"] == 3
    assert document["session"]["bugs"] == ["skip-zero-grad"]
    assert len(document["session"]["parameters"]["data"]) == 41
    assert '    "step": 3,\n' in text  # one field a line, lists of numbers on one


# -- the history recorder ------------------------------------------------------------------


@pytest.mark.parametrize("before", [0, 1, 2, 3, 7, 8, 9, 16, 17, 33, 70])
def test_recorder_restore_continues_like_the_original(before):
    def fill(recorder, steps):
        for step in steps:
            recorder.append(step, *(step + i / 8 for i in range(len(RECORDED))))

    for after in (0, 1, 5, 40):
        straight = HistoryRecorder(capacity=8, recent=3)
        fill(straight, range(1, before + after + 1))
        first = HistoryRecorder(capacity=8, recent=3)
        fill(first, range(1, before + 1))
        SavedHistory(8, 3, first.view()).check(before)  # what a run of that length keeps
        restored = HistoryRecorder.resume(8, 3, first.view(), before)
        assert restored.view() == first.view() and restored._stride == first._stride
        assert (restored.capacity, restored.recent) == (first.capacity, first.recent)
        fill(restored, range(before + 1, before + after + 1))
        assert restored.view() == straight.view()
        assert restored._stride == straight._stride
        assert list(restored._steps) == list(straight._steps)
        assert list(restored._recent) == list(straight._recent)


def test_recorder_refuses_steps_a_run_would_not_keep():
    recorder = HistoryRecorder(capacity=8, recent=3)
    for step in range(1, 21):
        recorder.append(step, *[0.0] * len(RECORDED))
    kept = recorder.view()
    SavedHistory(8, 3, kept).check(20)
    shifted = dataclasses.replace(kept, steps=tuple(s + 1 for s in kept.steps))
    with pytest.raises(ValueError, match="every 4th step from 1, then 18 to 20"):
        SavedHistory(8, 3, shifted).check(20)


# -- the history as CSV ------------------------------------------------------------------


def test_history_csv_has_a_row_per_step_and_exact_values():
    session = make_session("xor", test_fraction=0.3)
    for _ in range(5):
        session.step()
    history = session.snapshot().history
    lines = history_csv(history, with_test=True).splitlines()
    header = "step,loss,accuracy,grad_norm,weight_norm,lr,test_loss,test_accuracy,full_loss"
    assert lines[0] == header
    rows = [line.split(",") for line in lines[1:]]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert [float(r[1]) for r in rows] == list(history.loss)
    assert [float(r[6]) for r in rows] == list(history.test_loss)


def test_history_csv_leaves_the_test_columns_empty_without_a_test_set(tmp_path):
    session = make_session()
    session.step()
    path = tmp_path / "h.csv"
    session_file.write_history_csv(path, session)
    assert path.read_text().splitlines()[1].endswith(",0.05,,,")  # and no full loss


# -- bad files: one error class, naming the file and the problem ------------------------


@pytest.fixture(scope="module")
def good_document(tmp_path_factory) -> dict:
    """A run with a bug, a test split, an lr change and a clean twin, as written."""
    session = make_session("xor", bug_ids=(bugs.SKIP_ZERO_GRAD,), test_fraction=0.25)
    for _ in range(3):
        session.step()
    lr_change(session)
    for _ in range(3):
        session.step()
    return json.loads(Path(saved(tmp_path_factory.mktemp("good"), session)).read_text())


def write(tmp_path, document, name="bad.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def refused(path, *fragments: str) -> str:
    with pytest.raises(SessionFileError) as caught:
        load_session(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message
    return message


def edited(document: dict, edit) -> dict:
    document = copy.deepcopy(document)
    edit(document["session"])
    return document


def test_the_good_document_loads(good_document, tmp_path):
    load_session(write(tmp_path, good_document))


def test_missing_file_and_directory(tmp_path):
    refused(str(tmp_path / "nope.json"), "no such file")
    refused(str(tmp_path), "is a directory")


def test_empty_truncated_and_not_json(good_document, tmp_path):
    refused(write(tmp_path, ""), "the file is empty")
    text = json.dumps(good_document)
    refused(write(tmp_path, text[: len(text) // 2]), "not valid JSON", "truncated or corrupted")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    refused(str(tmp_path / "binary.json"), "not UTF-8")
    refused(write(tmp_path, "[1, 2]"), "not a micrograd-tui session file")
    refused(write(tmp_path, {"format": "something else"}), "not a micrograd-tui session file")


def test_wrong_versions(good_document, tmp_path):
    refused(write(tmp_path, {**good_document, "version": 2}), "format version 2 is newer", "(1)")
    refused(write(tmp_path, {**good_document, "version": "1"}), "unknown format version '1'")
    refused(write(tmp_path, {**good_document, "version": 0}), "unknown format version 0")


HAND_EDITS = {
    "missing field": (lambda s: s.pop("step"), "session.step: missing"),
    "mistyped field": (lambda s: s.update(step="ten"), "session.step: expected a whole number"),
    "negative step": (lambda s: s.update(step=-1), "session.step: must be at least 0"),
    "a weight too few": (
        lambda s: s["parameters"]["data"].pop(),
        "session.parameters.data: MLP(2, [8, 8, 1]) has 105 parameters, found 104",
    ),
    "architecture changed": (
        lambda s: s["config"].update(hidden=[8, 9]),
        "session.parameters.data: MLP(2, [8, 9, 1])",
    ),
    "nan weight": (
        lambda s: s["parameters"]["data"].__setitem__(5, "nan"),
        "session.parameters.data[5]: nan is not a finite number",
    ),
    "a word for a weight": (
        lambda s: s["parameters"]["data"].__setitem__(5, "big"),
        "session.parameters.data[5]: expected a number, found the string 'big'",
    ),
    "unknown bug": (
        lambda s: s.update(bugs=["off-by-one"]),
        "session.bugs: unknown bug off-by-one",
    ),
    "bugs disagree with events": (
        lambda s: s.update(bugs=[]),
        "session.bug_events: they leave skip-zero-grad on, but bugs lists none",
    ),
    "event in the future": (
        lambda s: s["bug_events"][0].update(step=99),
        "session.bug_events[0]: step 99 is out of order",
    ),
    "unknown activation": (
        lambda s: s["config"].update(activation="softmax"),
        "session.config: unknown activation 'softmax'",
    ),
    "zero learning rate": (
        lambda s: s["config"].update(lr=0.0),
        "session.config: learning rate must be",
    ),
    "infinite learning rate": (
        lambda s: s["config"].update(lr="inf"),
        "session.config.lr: must be a finite number",
    ),
    "schedule disagrees": (
        lambda s: s["optimizer"]["schedule"].update(start=9.0),
        "session.optimizer.schedule: must equal",
    ),
    "lr log out of order": (
        lambda s: s["optimizer"]["lr_log"][1].update(from_update=50),
        "session.optimizer.lr_log[1]: from_update 50 is out of order",
    ),
    "history a step short": (
        lambda s: [s["history"][k].pop() for k in ("steps", "loss")],
        "session.history.steps: a run at step 6 keeps steps 1 to 6; found 5 steps, 1 to 5",
    ),
    "history column short": (
        lambda s: s["history"]["lr"].pop(),
        "session.history.lr: expected one value per kept step (6)",
    ),
    "marked diverged with a finite loss": (
        lambda s: s.update(diverged_at=6),
        "session.diverged_at: the run is marked diverged at step 6",
    ),
    "a nan loss not marked diverged": (
        lambda s: s["history"]["loss"].__setitem__(-1, "nan"),
        "session.diverged_at: at step 6 the loss became nan, so the run diverged at step 6",
    ),
    "predictions missing": (
        lambda s: s["last_step"].update(predictions=[]),
        "session.last_step.predictions: expected",
    ),
    "data of another width": (
        lambda s: s["data"]["xs"][0].append(1.0),
        "session.data.xs: every sample needs the same number",
    ),
    "twin with a bug": (
        lambda s: s["twin"].update(bugs=["gradient-ascent"]),
        "session.twin.bug_events: they leave no bug on, but bugs lists gradient-ascent",
    ),
    "twin ahead": (lambda s: s["twin"].update(step=7), "session.twin"),
    "twin of a twin": (
        lambda s: s["twin"].update(twin={}),
        "session.twin.twin: a clean twin has no twin of its own",
    ),
    "unknown backend": (
        lambda s: s.update(backend="gpu"),
        "session.backend: unknown backend 'gpu'",
    ),
    "list for an object": (lambda s: s.update(config=[]), "session.config: expected an object"),
}


@pytest.mark.parametrize("case", HAND_EDITS)
def test_hand_edited_inconsistencies_are_named(case, good_document, tmp_path):
    edit, fragment = HAND_EDITS[case]
    refused(write(tmp_path, edited(good_document, edit)), fragment)


def test_non_finite_weights_load_when_the_run_put_them_there(tmp_path):
    session = make_session()
    session.step()
    session.model.parameters()[0].data = math.inf  # as an update that overflowed would leave it
    session.step()  # tanh saturates: the loss stays finite, the weight norm does not
    assert session.snapshot().history.weight_norm[-1] == math.inf
    assert session.diverged_at == 2  # a parameter past 10^6 in size: blown up
    loaded = load_session(saved(tmp_path, session)).session
    assert exact(loaded.snapshot()) == exact(session.snapshot())


# -- hypothesis: a mutated file loads, or is refused with SessionFileError ------------------


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_fields(good_document, tmp_path, data):
    load_or_refuse(write(tmp_path, mutate(good_document, data)))


@FUZZ
@given(
    cut=st.integers(min_value=0),
    flips=st.lists(st.tuples(st.integers(0), st.integers(0, 255)), max_size=4),
)
def test_fuzz_truncated_and_corrupted_bytes(good_document, tmp_path, cut, flips):
    raw = bytearray(json.dumps(good_document, indent=1).encode())
    raw = raw[: cut % (len(raw) + 1)]
    for position, byte in flips:
        if raw:
            raw[position % len(raw)] = byte
    path = tmp_path / "fuzz.json"
    path.write_bytes(bytes(raw))
    load_or_refuse(str(path))


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzz_random_bytes(tmp_path, raw):
    path = tmp_path / "random.json"
    path.write_bytes(raw)
    load_or_refuse(str(path))


# -- atomic writes: a failure midway leaves the old file as it was ----------------------------


@pytest.fixture
def old_file(tmp_path):
    session = make_session()
    path = saved(tmp_path, session)
    before = Path(path).read_bytes()
    for _ in range(3):
        session.step()
    return path, before, session


def _leftovers(path) -> list[str]:
    return sorted(name for name in os.listdir(os.path.dirname(path)) if name.endswith(".tmp"))


def test_failed_rename_leaves_the_old_file_and_no_temp_file(old_file, monkeypatch):
    path, before, session = old_file

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(session_file.os, "replace", broken_replace)
    with pytest.raises(SessionFileError, match="cannot write it: No space left on device"):
        save_session(path, session)
    assert Path(path).read_bytes() == before and _leftovers(path) == []


def test_a_write_failing_halfway_leaves_the_old_file(old_file, monkeypatch):
    path, before, session = old_file
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, text):
            self.f.write(text[: len(text) // 2])
            self.f.flush()
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(session_file.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(SessionFileError, match="Input/output error"):
        save_session(path, session)
    assert Path(path).read_bytes() == before and _leftovers(path) == []
    monkeypatch.undo()
    assert load_session(path).session.step_count == 0


def test_a_failing_encoder_writes_nothing(old_file, monkeypatch):
    path, before, session = old_file

    def broken_dumps(*args, **kwargs):
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(session_file.json, "dumps", broken_dumps)
    with pytest.raises(RuntimeError):
        save_session(path, session)
    assert Path(path).read_bytes() == before and _leftovers(path) == []


def test_saving_over_a_file_keeps_its_permissions(old_file):
    path, _, session = old_file
    os.chmod(path, 0o600)
    save_session(path, session)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_session(path).session.step_count == 3


def test_saving_into_a_missing_directory_names_the_file(tmp_path):
    path = str(tmp_path / "missing" / "run.json")
    with pytest.raises(SessionFileError, match="run.json: cannot write it: No such file"):
        save_session(path, make_session())


def test_save_while_another_thread_trains_is_consistent(tmp_path):
    import threading

    session = make_session(bug_ids=(bugs.SKIP_ZERO_GRAD,))
    stop = threading.Event()

    def train():
        while not stop.is_set():
            session.step()

    worker = threading.Thread(target=train)
    worker.start()
    try:
        for i in range(5):
            load_session(saved(tmp_path, session, f"{i}.json"))  # each one a consistent state
    finally:
        stop.set()
        worker.join()


def test_random_module_state_is_untouched(tmp_path):
    state = random.getstate()
    load_session(saved(tmp_path, make_session()))
    assert random.getstate() == state


def test_a_file_with_the_old_unused_test_predictions_still_loads(tmp_path):
    """Files written before test_predictions was dropped hold it under last_step: ignored."""
    session = make_session("moons", test_fraction=0.2)
    for _ in range(3):
        session.step()
    path = Path(saved(tmp_path, session))
    data = json.loads(path.read_text())
    last_step = data["session"]["last_step"]
    assert "test_predictions" not in last_step
    last_step["test_predictions"] = [0.5] * len(session.test_xs)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    same_state(load_session(str(old)).session, session, tmp_path)
