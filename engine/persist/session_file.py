"""The session file: a ``SavedSession`` as JSON, and the loss history as CSV.

A session file is versioned JSON::

    {
      "format": "micrograd-tui session",
      "version": 1,
      "run": {"dataset": "tutorial", "data_path": null, ...},
      "session": {"backend": "fast", "config": {...}, "data": {...}, "step": 10,
                  "bugs": [...], "bug_events": [...], "parameters": {"data": [...], "grad": [...]},
                  "optimizer": {...}, "last_step": {...}, "diverged_at": null,
                  "history": {...}, "twin": null, "timeline": {...}}
    }

``session`` is ``TrainingSession.export_state()``, a ``SavedSession``
(``engine/training/saved_state.py``): with it a run continues bit for bit as if it had
never stopped. This module converts between JSON and those records: it
checks each field's type; the records check how the values fit together.

``session.timeline`` is what it takes to rebuild the run's past steps
(``engine/training/timeline.py``), so that a loaded run can view and rewind to any
step from its origin::

    "timeline": {
      "stretches": [{"start": 0, "bugs": [], "points": null},
                    {"start": 40, "bugs": ["skip-zero-grad"], "points": 0}, ...],
      "point_sets": [{"xs": [...], "ys": [...], "test_xs": [...], "test_ys": [...]}],
      "origin": null,
      "ghost": {"branch_step": 40, "steps": [41, 42, ...], "loss": [...]}
    }

A stretch's ``points`` is ``null`` for the run's own ``data``, else an index into
``point_sets`` (each set written once, however many stretches trained on it).
``origin`` is ``null`` when the run reaches back to step 0 (the seed's weights);
otherwise the run as it was at its earliest step, as ``TrainingSession`` keeps it
(``step``, ``data``, ``grad``, ``predictions``, ``loss``, ...). ``ghost`` is the loss of
the future the last branch left, or ``null``. Checkpoints between are not written:
a loaded run rebuilds them by replaying. A file without ``timeline`` (written before
time travel) still loads: its run reaches back only to the step it was saved at. The
version stays 1: the timeline is an addition that a reader from before time travel
ignores (it reads the run, which then reaches back to its saved step).

``run`` is whatever the caller passes (the command line keeps where the data
came from); this module only checks that it is an object. Floats are written as JSON numbers, which
Python reads back exactly (``repr`` round-trips); inf and nan, which JSON
lacks, as the strings ``"inf"``, ``"-inf"`` and ``"nan"``.

Files are written through ``engine/persist/files.py``: atomically over a regular
file (a crash mid-write leaves the old file as it was), through a device or a
pipe, to standard output for ``-``. Reading is bounded: at most
``MAX_SESSION_BYTES`` bytes, nested at most ``MAX_JSON_DEPTH`` levels. Any
problem reading is a ``SessionFileError`` naming the file and the field.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from array import array
from dataclasses import asdict, dataclass
from typing import Any

from engine.optim import Schedule
from engine.persist.files import FileProblem, read_text, write_text
from engine.training.history import RECORDED, History
from engine.training.records import BugEvent, SessionConfig
from engine.training.saved_state import (
    SavedData,
    SavedHistory,
    SavedLastStep,
    SavedOptimizer,
    SavedParameters,
    SavedSession,
    SavedTimeline,
    TrainingState,
)
from engine.training.session import BACKENDS, TrainingSession
from engine.training.timeline import Checkpoint, Ghost, Points, Stretch

FORMAT = "micrograd-tui session"
VERSION = 1
HISTORY_COLUMNS = ("step", *RECORDED)
# A session file holds its data: 256 MB fits a million samples of a few features.
MAX_SESSION_BYTES = 256 << 20
MAX_JSON_DEPTH = 16  # the format itself nests 7 levels deep (timeline.point_sets[i].xs[j])

PathLike = str | os.PathLike


class SessionFileError(ValueError):
    """A session file could not be read, trusted or written; the message names file and problem."""

    def __init__(self, path: PathLike, problem: str) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem


@dataclass(frozen=True)
class LoadedSession:
    """What a session file holds: the run, ready to step on, and the caller's ``run`` info.

    ``run`` is returned as read (an inf or nan in it as its string); the caller checks it.
    """

    session: TrainingSession
    run: dict[str, Any]


# -- writing ---------------------------------------------------------------------------


def save_session(
    path: PathLike,
    session: TrainingSession,
    run: dict[str, Any] | None = None,
    allow_stdout: bool = True,
) -> tuple[str, int]:
    """Write ``session`` (and the caller's ``run`` info) to ``path``; returns where, and the step.

    Safe while another thread trains: the state is copied under the session's
    lock, so the file holds one consistent step.
    """
    saved = session.export_state()
    document = {
        "format": FORMAT,
        "version": VERSION,
        "run": dict(run or {}),
        "session": _session_json(saved),
    }
    text = _format(json_ready(document)) + "\n"
    return _write(path, text, allow_stdout), saved.state.step


def _write(path: PathLike, text: str, allow_stdout: bool) -> str:
    try:
        return write_text(path, text, allow_stdout)
    except FileProblem as problem:
        raise SessionFileError(path, problem.reason) from problem


def _session_json(saved: SavedSession) -> dict:
    data = saved.data
    document = {
        **_state_json(saved.state, saved.twin),
        "data": {"xs": data.xs, "ys": data.ys, "test_xs": data.test_xs, "test_ys": data.test_ys},
    }
    if saved.timeline is not None:
        document["timeline"] = _timeline_json(saved.timeline, data)
    return document


def _timeline_json(timeline: SavedTimeline, data: SavedData) -> dict:
    own = Points(data.xs, data.ys, data.test_xs, data.test_ys)
    sets: dict[Points, int] = {}  # each set of points once, in order of first use
    stretches = []
    for stretch in timeline.stretches:
        index = None if stretch.points == own else sets.setdefault(stretch.points, len(sets))
        stretches.append({"start": stretch.start, "bugs": sorted(stretch.bugs), "points": index})
    origin, ghost = timeline.origin, timeline.ghost
    return {
        "stretches": stretches,
        "point_sets": [
            {"xs": p.xs, "ys": p.ys, "test_xs": p.test_xs, "test_ys": p.test_ys} for p in sets
        ],
        "origin": None if origin is None else _checkpoint_json(origin),
        "ghost": (
            None
            if ghost is None
            else {"branch_step": ghost.branch_step, "steps": ghost.steps, "loss": ghost.loss}
        ),
    }


def _checkpoint_json(checkpoint: Checkpoint) -> dict:
    true = checkpoint.true_gradients
    return {
        "step": checkpoint.step,
        "data": list(checkpoint.data),
        "grad": list(checkpoint.grad),
        "predictions": list(checkpoint.predictions),
        "loss": checkpoint.loss,
        "accuracy": checkpoint.accuracy,
        "test_loss": checkpoint.test_loss,
        "test_accuracy": checkpoint.test_accuracy,
        "full_loss": checkpoint.full_loss,
        "true_gradients": None if true is None else list(true),
    }


def _state_json(state: TrainingState, twin: TrainingState | None) -> dict:
    history = state.history
    return {
        "backend": state.backend,
        "config": asdict(state.config),
        "step": state.step,
        "bugs": sorted(state.bugs),
        "bug_events": [{"step": e.step, "bug": e.bug_id, "on": e.on} for e in state.bug_events],
        "parameters": {"data": state.parameters.data, "grad": state.parameters.grad},
        "optimizer": {
            "schedule": asdict(state.optimizer.schedule),
            "lr_log": [{"from_update": start, **asdict(s)} for start, s in state.optimizer.lr_log],
        },
        "last_step": asdict(state.last_step),
        "diverged_at": state.diverged_at,
        "history": {
            "capacity": history.capacity,
            "recent": history.recent,
            "steps": history.kept.steps,
            **{name: getattr(history.kept, name) for name in RECORDED},
        },
        "twin": None if twin is None else _state_json(twin, None),
    }


def history_csv(history: History, with_test: bool) -> str:
    """The history as CSV, one row per kept step; the test columns are empty without a test set."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    columns = [history.loss, history.accuracy, history.grad_norm, history.weight_norm, history.lr]
    tests = [history.test_loss, history.test_accuracy] if with_test else []
    for step, *values, full_loss in zip(history.steps, *columns, *tests, history.full_loss):
        # repr() round-trips every float exactly, inf and nan included.
        row = [step, *map(repr, values)]
        row = row if with_test else [*row, "", ""]
        writer.writerow([*row, "" if math.isnan(full_loss) else repr(full_loss)])
    return out.getvalue()


def write_history_csv(path: PathLike, session: TrainingSession, allow_stdout: bool = True) -> str:
    """Write the session's loss history to ``path`` as CSV; returns where it went."""
    snapshot = session.snapshot()
    text = history_csv(snapshot.history, with_test=bool(snapshot.test_inputs))
    return _write(path, text, allow_stdout)


def json_ready(value: Any) -> Any:
    """``value`` with every inf and nan written as a string: JSON has neither.

    The one rule for every JSON the project writes: session files, ``train --json``,
    ``graph --json``. Finite floats stay as they are (JSON keeps them exactly).
    """
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "-inf", "nan"
    if isinstance(value, dict):
        return {key: json_ready(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def _format(value: Any, depth: int = 0) -> str:
    """JSON a person can read and edit: objects one field a line, lists of numbers on one line."""
    inner = "  " * (depth + 1)
    if isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
        fields = [f"{inner}{json.dumps(k)}: {_format(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(fields) + "\n" + "  " * depth + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{inner}{_format(v, depth + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * depth + "]"
    return json.dumps(value, allow_nan=False)


# -- reading ---------------------------------------------------------------------------


def load_session(path: PathLike) -> LoadedSession:
    """Read a session file; SessionFileError naming the file and the problem if it is not one."""
    try:
        text = read_text(path, MAX_SESSION_BYTES, "a session file")
    except FileProblem as problem:
        raise SessionFileError(path, problem.reason) from None
    if not text.strip():
        raise SessionFileError(path, "the file is empty")
    if _nesting(text) > MAX_JSON_DEPTH:
        problem = f"not a session file: nested more than {MAX_JSON_DEPTH} levels deep"
        raise SessionFileError(path, problem)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise SessionFileError(
            path,
            f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "the file is truncated or corrupted",
        ) from None
    except (ValueError, RecursionError) as err:
        raise SessionFileError(path, f"not valid JSON ({err})") from None

    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SessionFileError(path, f'not a micrograd-tui session file (no "format": "{FORMAT}")')
    version = document.get("version")
    if not _is_int(version) or version < 1:
        raise SessionFileError(path, f"unknown format version {version!r}")
    if version > VERSION:
        raise SessionFileError(
            path, f"format version {version} is newer than this micrograd-tui reads ({VERSION})"
        )
    try:
        top = _Fields(document, "")
        run = top.object("run").value
        saved = _read_session(top.object("session"))
    except (TypeError, ValueError) as err:  # a field of the wrong type, out of range, or
        raise SessionFileError(path, str(err)) from None  # values that do not fit together
    return LoadedSession(TrainingSession.from_state(saved), run)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def _nesting(text: str) -> int:
    """How deep the JSON in ``text`` nests (more than ``MAX_JSON_DEPTH``: any number above it).

    Works on the brackets outside strings, removing the innermost pairs a level
    at a time; every step is a C-speed pass over the text, so a large file costs little.
    """
    brackets = _NOT_BRACKETS.sub("", _JSON_STRING.sub("", text))
    brackets = brackets.replace("[", "{").replace("]", "}")
    depth = 0
    while brackets and depth <= MAX_JSON_DEPTH:
        shorter = brackets.replace("{}", "")
        if len(shorter) == len(brackets):
            return 0  # unbalanced: json.loads names where
        brackets, depth = shorter, depth + 1
    return depth if not brackets else MAX_JSON_DEPTH + 1


def _read_session(f: _Fields) -> SavedSession:
    """A ``SavedSession`` from its JSON object: the inverse of ``_session_json``."""
    data = f.object("data")
    twin = None
    if f.raw("twin") is not None:
        if f.object("twin").raw("twin") is not None:
            raise ValueError(f"{f.at('twin.twin')}: a clean twin has no twin of its own")
        twin = _read_state(f.object("twin"))
    saved_data = SavedData(
        xs=tuple(_floats(x, f"{data.at('xs')}[{i}]") for i, x in enumerate(data.list("xs"))),
        ys=data.floats("ys"),
        test_xs=tuple(
            _floats(x, f"{data.at('test_xs')}[{i}]") for i, x in enumerate(data.list("test_xs"))
        ),
        test_ys=data.floats("test_ys"),
    )
    state = _read_state(f)
    # Files from before time travel have no timeline: the run reaches back to its step.
    timeline = _read_timeline(f.object("timeline"), saved_data) if "timeline" in f.value else None
    try:
        return SavedSession(state, saved_data, twin, timeline)
    except ValueError as err:  # the values do not fit together; err names the field
        raise ValueError(f"{f.where}.{err}") from None


def _read_state(f: _Fields) -> TrainingState:
    """A ``TrainingState`` from the JSON object of a run or its twin: the inverse of
    ``_state_json``. Each field is checked for its type; ``SavedSession`` checks the rest."""
    config = f.object("config")
    optimizer = f.object("optimizer")
    last = f.object("last_step")
    history = f.object("history")
    backend = f.str("backend")
    if backend not in BACKENDS:
        known = ", ".join(BACKENDS)
        raise ValueError(f"{f.at('backend')}: unknown backend {backend!r} (known: {known})")
    try:
        session_config = SessionConfig(
            hidden=config.ints("hidden", low=1),
            activation=config.str("activation"),
            output_activation=config.str("output_activation", null=True),
            loss=config.str("loss"),
            lr=config.float("lr", finite=True),
            lr_end=config.float("lr_end", finite=True, null=True),
            decay_steps=config.int("decay_steps"),
            l2=config.float("l2", finite=True),
            weight_decay=config.float("weight_decay", finite=True),
            seed=config.int("seed"),
            # Files from before mini-batches have no batch_size: the full batch.
            batch_size=(
                config.int("batch_size", low=1, null=True) if "batch_size" in config.value else None
            ),
        )
    except ValueError as err:
        raise ValueError(f"{config.where}: {err}") from None
    return TrainingState(
        backend=backend,
        config=session_config,
        step=f.int("step", low=0),
        bugs=frozenset(_str(v, f"{f.at('bugs')}[{i}]") for i, v in enumerate(f.list("bugs"))),
        bug_events=tuple(
            BugEvent(e.int("step", low=0), e.str("bug"), e.bool("on"))
            for e in f.objects("bug_events")
        ),
        parameters=SavedParameters(
            f.object("parameters").floats("data"), f.object("parameters").floats("grad")
        ),
        optimizer=SavedOptimizer(
            _schedule(optimizer.object("schedule")),
            tuple((e.int("from_update", low=0), _schedule(e)) for e in optimizer.objects("lr_log")),
        ),
        last_step=SavedLastStep(
            last.floats("predictions"),  # older files also hold test_predictions: unused, ignored
            last.floats("true_gradients", null=True),
        ),
        diverged_at=f.int("diverged_at", low=1, null=True),
        history=SavedHistory(
            history.int("capacity"),
            history.int("recent"),
            History(
                **{name: history.floats(name) for name in RECORDED if name != "full_loss"},
                # Files from before mini-batches have no full_loss: a full-batch run's is nan.
                full_loss=(
                    history.floats("full_loss")
                    if "full_loss" in history.value
                    else (math.nan,) * len(history.list("steps"))
                ),
                steps=history.ints("steps", low=1),
            ),
        ),
    )


def _read_timeline(f: _Fields, data: SavedData) -> SavedTimeline:
    """A ``SavedTimeline`` from its JSON object: the inverse of ``_timeline_json``."""
    own = Points(data.xs, data.ys, data.test_xs, data.test_ys)
    sets = [_read_points(p) for p in f.objects("point_sets")]
    stretches = []
    for s in f.objects("stretches"):
        index = s.int("points", low=0, null=True)
        if index is not None and index >= len(sets):
            raise ValueError(
                f"{s.at('points')}: no point set {index} ({f.at('point_sets')} holds {len(sets)})"
            )
        bugs = frozenset(_str(v, f"{s.at('bugs')}[{i}]") for i, v in enumerate(s.list("bugs")))
        points = own if index is None else sets[index]
        stretches.append(Stretch(s.int("start", low=0), bugs, points))
    origin = None if f.raw("origin") is None else _read_checkpoint(f.object("origin"))
    ghost = None
    if f.raw("ghost") is not None:
        g = f.object("ghost")
        try:
            ghost = Ghost(g.int("branch_step", low=0), g.ints("steps", low=1), g.floats("loss"))
        except ValueError as err:  # Ghost's own checks name the field within it
            raise ValueError(f"{g.where}.{err}") from None
    return SavedTimeline(tuple(stretches), origin, ghost)


def _read_points(f: _Fields) -> Points:
    def rows(key: str) -> tuple[tuple[float, ...], ...]:
        return tuple(_floats(x, f"{f.at(key)}[{i}]") for i, x in enumerate(f.list(key)))

    return Points(rows("xs"), f.floats("ys"), rows("test_xs"), f.floats("test_ys"))


def _read_checkpoint(f: _Fields) -> Checkpoint:
    # Step 0 is the seed's weights, written as null: an origin is a later step.
    step = f.int("step", low=1)
    true = f.floats("true_gradients", null=True)
    return Checkpoint(
        step,
        array("d", f.floats("data")),
        array("d", f.floats("grad")),
        array("d", f.floats("predictions")),
        f.float("loss"),
        f.float("accuracy"),
        f.float("test_loss"),
        f.float("test_accuracy"),
        f.float("full_loss"),
        None if true is None else array("d", true),
    )


def _schedule(f: _Fields) -> Schedule:
    return Schedule(f.float("start"), f.float("end", null=True), f.int("steps"))


class _Fields:
    """A JSON object of the file, read field by field; a wrong field is named in the error.

    A value of the wrong type raises TypeError, one out of range ValueError.
    """

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            where = where or "the file"
            raise TypeError(f"{where}: expected an object {{...}}, found {_kind(value)}")
        self.value = value
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def raw(self, key: str) -> Any:
        if key not in self.value:
            raise ValueError(f"{self.at(key)}: missing")
        return self.value[key]

    def object(self, key: str) -> _Fields:
        return _Fields(self.raw(key), self.at(key))

    def objects(self, key: str) -> list[_Fields]:
        return [_Fields(v, f"{self.at(key)}[{i}]") for i, v in enumerate(self.list(key))]

    def list(self, key: str) -> list:
        value = self.raw(key)
        if not isinstance(value, list):
            raise TypeError(f"{self.at(key)}: expected a list [...], found {_kind(value)}")
        return value

    def int(self, key: str, low: int | None = None, null: bool = False) -> int | None:
        value = self.raw(key)
        return None if null and value is None else _int(value, self.at(key), low)

    def ints(self, key: str, low: int | None = None) -> tuple[int, ...]:
        where = self.at(key)
        return tuple([_int(v, f"{where}[{i}]", low) for i, v in enumerate(self.list(key))])

    def float(self, key: str, finite: bool = False, null: bool = False) -> float | None:
        value = self.raw(key)
        return None if null and value is None else _float(value, self.at(key), finite)

    def floats(self, key: str, null: bool = False) -> tuple[float, ...] | None:
        value = self.raw(key)
        return None if null and value is None else _floats(value, self.at(key))

    def str(self, key: str, null: bool = False) -> str | None:
        value = self.raw(key)
        return None if null and value is None else _str(value, self.at(key))

    def bool(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise TypeError(f"{self.at(key)}: expected true or false, found {_kind(value)}")
        return value


_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(value: Any, where: str, low: int | None = None) -> int:
    if not _is_int(value):
        raise TypeError(f"{where}: expected a whole number, found {_kind(value)}")
    if low is not None and value < low:
        raise ValueError(f"{where}: must be at least {low}, found {value}")
    return value


def _float(value: Any, where: str, finite: bool = False) -> float:
    if type(value) is float:  # the common case, first
        number = value
    elif isinstance(value, str) and value in _NON_FINITE:
        number = _NON_FINITE[value]
    elif _is_int(value):
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"{where}: {value} is too large for a float") from None
    else:
        raise TypeError(f"{where}: expected a number, found {_kind(value)}")
    if finite and not math.isfinite(number):
        raise ValueError(f"{where}: must be a finite number, found {value}")
    return number


def _floats(value: Any, where: str) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise TypeError(f"{where}: expected a list of numbers, found {_kind(value)}")
    return tuple([_float(v, f"{where}[{i}]") for i, v in enumerate(value)])


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where}: expected a string, found {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object"
