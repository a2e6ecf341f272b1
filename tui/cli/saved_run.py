"""A saved run: a session file plus where its data came from, written and read back.

Shared by ``micrograd-tui train --save/--load/--history-csv`` and the
dashboard's save and export actions (``tui/dashboard/saving.py``). No Textual
here, so the headless path stays quick to start. The file format is
``engine/persist/session_file.py``'s; this module adds the ``run`` part (dataset,
data file, samples, noise, test fraction) that turns a loaded session back
into a ``RunConfig``.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import datasets
from engine.persist import files
from engine.persist.session_file import (
    HISTORY_COLUMNS,
    PathLike,
    SessionFileError,
    load_session,
    save_session,
    write_history_csv,
)
from engine.training.session import TrainingSession
from tui.cli.config import RunConfig
from tui.cli.torch_export import script_name, torch_script

DEFAULT_SESSION_PATH = "micrograd-run.json"
DEFAULT_HISTORY_PATH = "micrograd-history.csv"
DEFAULT_TORCH_PATH = "micrograd_model.py"
DEFAULT_DATA_PATH = "micrograd-data.csv"

__all__ = [
    "DEFAULT_DATA_PATH",
    "DEFAULT_HISTORY_PATH",
    "DEFAULT_SESSION_PATH",
    "DEFAULT_TORCH_PATH",
    "SessionFileError",
    "check_writable",
    "export_data",
    "export_history",
    "export_torch",
    "load_run",
    "run_info",
    "save_run",
]


def run_info(config: RunConfig) -> dict[str, Any]:
    """Where the data came from: the ``run`` part of a session file."""
    return {
        "dataset": config.dataset,
        "data_path": config.data_path,
        "samples": config.samples,
        "noise": config.noise,
        "test_fraction": config.test_fraction,
    }


def save_run(
    path: PathLike, session: TrainingSession, config: RunConfig, allow_stdout: bool = True
) -> tuple[str, int]:
    """Write the session to ``path`` (``engine/persist/files.py`` says how for each kind of path);
    returns where it went (an absolute path, or "standard output") and the step saved."""
    return save_session(path, session, run_info(config), allow_stdout)


def export_history(path: PathLike, session: TrainingSession, allow_stdout: bool = True) -> str:
    """Write the loss history as CSV to ``path``; returns where it went."""
    return write_history_csv(path, session, allow_stdout)


def export_data(
    path: PathLike, session: TrainingSession, allow_stdout: bool = True
) -> tuple[str, int, int]:
    """Write the run's points as CSV that ``--data`` reads back exactly: the training
    points, then the held-out test points. Returns where it went and the two counts.

    SessionFileError (naming the file) if the file cannot be written, or if the
    points are all of one class: ``--data`` refuses such a file.
    """
    snap = session.snapshot()
    xs = snap.inputs + snap.test_inputs
    ys = snap.targets + snap.test_targets
    if len(set(ys)) < 2:
        raise SessionFileError(
            path,
            f"every point is {ys[0]:+g}, and --data needs both classes; "
            "draw a point of the other class first",
        )
    try:
        written = files.write_text(path, datasets.csv_text(xs, ys), allow_stdout)
    except files.FileProblem as problem:
        raise SessionFileError(path, problem.reason) from problem
    return written, len(snap.inputs), len(snap.test_inputs)


def export_torch(path: PathLike, session: TrainingSession, source: str) -> tuple[str, int]:
    """Write a PyTorch script continuing ``session`` to ``path``; the absolute path and step.

    ``source`` says where the run came from, for the script's docstring.
    ExportRefused (from ``tui.cli.torch_export``) if the run cannot be continued;
    SessionFileError if the file cannot be written.
    """
    snap = session.snapshot()
    text = torch_script(snap, source, script_name(path))
    try:
        written = files.write_text(path, text, allow_stdout=False)  # a script is run from a file
    except files.FileProblem as problem:
        raise SessionFileError(path, problem.reason) from problem
    return written, snap.step


def load_run(path: PathLike) -> tuple[RunConfig, TrainingSession]:
    """The saved run's settings and its session, ready to continue; SessionFileError if not."""
    saved = load_session(path)
    session = saved.session
    if not isinstance(saved.run, dict):  # session_file checked it is an object
        raise SessionFileError(path, "run: expected an object")
    try:
        run = _read_run(saved.run)
    except (TypeError, ValueError) as err:
        raise SessionFileError(path, str(err)) from None
    config = RunConfig(
        dataset=run["dataset"],
        data_path=run["data_path"],
        samples=run["samples"],
        noise=run["noise"],
        test_fraction=run["test_fraction"],
        session=session.config,
        bugs=tuple(sorted(session.bugs)),
    )
    return config, session


def check_writable(path: PathLike, allow_stdout: bool = True) -> str | None:
    """Why ``path`` could not be written (``PATH: reason``), or None; nothing is opened."""
    return files.check_writable(path, allow_stdout)


def _read_run(run: dict[str, Any]) -> dict[str, Any]:
    """The ``run`` part checked field by field (TypeError or ValueError naming the field)."""

    def field(key: str, kinds: tuple[type, ...], optional: bool = False) -> Any:
        if key not in run:
            raise ValueError(f"run.{key}: missing")
        value = run[key]
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, kinds):
            expected = " or ".join(k.__name__ for k in kinds) + (" or null" if optional else "")
            raise TypeError(f"run.{key}: expected {expected}, found {value!r}")
        return value

    dataset = field("dataset", (str,))
    if dataset not in datasets.DATASETS:
        known = ", ".join(datasets.DATASETS)
        raise ValueError(f"run.dataset: unknown dataset {dataset!r} (known: {known})")
    samples = field("samples", (int,), optional=True)
    if samples is not None and samples < 1:
        raise ValueError(f"run.samples: must be at least 1, found {samples}")
    noise = field("noise", (int, float), optional=True)
    if noise is not None and not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"run.noise: must be a number >= 0, found {noise}")
    fraction = field("test_fraction", (int, float))
    if not 0 <= fraction < 1:
        raise ValueError(f"run.test_fraction: must be from 0 to below 1, found {fraction}")
    return {
        "dataset": dataset,
        "data_path": field("data_path", (str,), optional=True),
        "samples": samples,
        "noise": None if noise is None else float(noise),
        "test_fraction": float(fraction),
    }


# -- replacing a file: what the dashboard asks first (the CLI's flags never ask) ----------

SESSION, HISTORY, DATA, TORCH = "session", "history", "data", "torch"
_KINDS = {
    SESSION: "a run micrograd-tui saved",
    HISTORY: "a loss history micrograd-tui wrote",
    DATA: "points micrograd-tui wrote",
    TORCH: "a script micrograd-tui wrote",
}


def written_by_us(head: str, kind: str) -> bool:
    """Whether a file that begins with ``head`` is one micrograd-tui writes as ``kind``."""
    first = head.split("\n", 1)[0].strip()
    if kind == SESSION:
        return head.lstrip().startswith("{") and '"format": "micrograd-tui session"' in head
    if kind == HISTORY:
        return first == ",".join(HISTORY_COLUMNS)
    if kind == DATA:
        return re.fullmatch(r"x1(,x\d+)*,label", first) is not None
    return head.startswith('#!/usr/bin/env python3\n"""A micrograd-tui run')


def replace_question(path: PathLike, kind: str) -> str | None:
    """What to ask before writing ``kind`` over ``path``, or None when nothing is replaced
    (no file there, or a device or pipe that is written through)."""
    head = files.read_head(path)
    if head is None:
        return None
    if written_by_us(head, kind):
        return f"{os.fspath(path)} exists ({_KINDS[kind]}). Replace it?"
    return (
        f"{os.fspath(path)} exists and is not {_KINDS[kind]}: replacing it loses what it "
        "holds. Replace it anyway?"
    )
