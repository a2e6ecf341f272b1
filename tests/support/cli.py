"""Running ``micrograd-tui`` in-process and reading what it printed."""

from __future__ import annotations

import json

from tui.main import main

# Each step's health (counts and flags, not floats): engine/training/health.py.
HEALTH_KEYS = {"dead", "saturated", "exploding", "vanishing"}
STEP_KEYS = {"step", "loss", "accuracy", "grad_norm", "weight_norm", "lr"} | HEALTH_KEYS
SUMMARY_KEYS = {"summary", "steps", "loss", "accuracy", "steps_per_s", "diverged_at"}


# A valid value for every run flag: a flag added to the run without one fails here.
RUN_FLAG_VALUES = {
    "dataset": "moons",
    "data": "x.csv",
    "samples": "9",
    "noise": "0.1",
    "test_fraction": "0.2",
    "batch_size": "2",
    "hidden": "4",
    "activation": "relu",
    "loss": "mse",
    "lr": "0.1",
    "seed": "3",
    "bug": "overwrite-grad",
}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``micrograd-tui *argv`` (paths may be ``Path``)."""
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as done:
        code = done.code
    out, err = capsys.readouterr()
    return code, out, err


def parse_json_lines(out: str) -> tuple[list[dict], dict]:
    """``train --json`` output: the step objects and the closing summary."""
    records = [json.loads(line) for line in out.splitlines()]
    *steps, summary = records
    return steps, summary


def assert_one_line_error(code: int, out: str, err: str, *words: str) -> None:
    """A refused input: exit 2, nothing on stdout, one line on stderr naming ``words``."""
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
