"""`micrograd-tui train`: JSON and human output, flag errors, divergence, repeatability."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import datasets
from engine.training.session import TrainingSession
from tests.support.cli import (
    HEALTH_KEYS,
    STEP_KEYS,
    SUMMARY_KEYS,
    assert_one_line_error,
    parse_json_lines,
    run_cli,
)
from tui.cli.config import PRESETS

REPO = Path(__file__).resolve().parent.parent


def _number(x) -> float:
    return float(x)  # JSON carries inf and nan as the strings "inf" and "nan"


# -- output --------------------------------------------------------------------------


def test_json_prints_one_object_per_step_then_a_summary(capsys):
    code, out, err = run_cli(capsys, "train", "--steps", "7", "--json")
    assert code == 0 and err == ""
    steps, summary = parse_json_lines(out)
    assert len(steps) == 7
    assert [s["step"] for s in steps] == list(range(1, 8))
    for s in steps:
        assert set(s) == STEP_KEYS
        assert all(isinstance(s[k], float) for k in STEP_KEYS - HEALTH_KEYS - {"step"})
    assert set(summary) == SUMMARY_KEYS
    assert summary["summary"] is True
    assert summary["steps"] == 7
    assert summary["loss"] == steps[-1]["loss"]
    assert summary["accuracy"] == steps[-1]["accuracy"]
    assert summary["diverged_at"] is None
    assert {s["lr"] for s in steps} == {PRESETS["tutorial"].lr}  # the rate each update used
    assert summary["steps_per_s"] > 0

    # the same numbers as the session code run directly on the default preset
    data = datasets.make("tutorial")
    session = TrainingSession(PRESETS["tutorial"], data.xs, data.ys)
    history = [session.step() for _ in range(7)]
    assert [s["loss"] for s in steps] == [r.loss for r in history]
    assert [s["grad_norm"] for s in steps] == [r.grad_norm for r in history]
    assert [s["weight_norm"] for s in steps] == [r.weight_norm for r in history]


def test_zero_steps_still_prints_a_summary(capsys):
    code, out, _ = run_cli(capsys, "train", "--steps", "0", "--json")
    steps, summary = parse_json_lines(out)
    assert code == 0 and steps == []
    assert summary["steps"] == 0 and math.isfinite(summary["loss"])


def test_human_output_ends_with_a_summary(capsys):
    code, out, err = run_cli(capsys, "train", "--steps", "5", "--seed", "1")
    assert code == 0 and err == ""
    _, json_out, _ = run_cli(capsys, "train", "--steps", "5", "--seed", "1", "--json")
    _, summary = parse_json_lines(json_out)
    lines = out.strip().splitlines()
    assert "tutorial" in lines[0]
    assert lines[-1].startswith("done: 5 steps")
    assert f"loss {summary['loss']:.6g}" in lines[-1]
    assert f"accuracy {summary['accuracy']:.1%}" in lines[-1]


def test_training_on_a_csv_file(capsys, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y,label\n0,0,0\n1,1,1\n0,1,1\n1,0,0\n")
    code, out, err = run_cli(capsys, "train", "--data", str(path), "--steps", "3", "--json")
    assert code == 0 and err == ""
    steps, summary = parse_json_lines(out)
    assert len(steps) == 3 and summary["steps"] == 3


# -- mistakes: one line on stderr, exit code 2 ----------------------------------------------

BAD_FLAGS = [
    (["--hidden", "4,,4"], "--hidden"),
    (["--hidden", "0"], "--hidden"),
    (["--hidden", "-3"], "--hidden"),
    (["--hidden", "abc"], "--hidden"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--steps", "-1"], "--steps"),
    (["--samples", "0"], "--samples"),
    (["--noise", "-1"], "--noise"),
    (["--bug", "no-such-bug"], "--bug"),
    (["--dataset", "no-such-set"], "--dataset"),
    (["--dataset", "moons", "--data", "points.csv"], "--data"),
    (["--activation", "softmax"], "--activation"),
    (["--loss", "l1"], "--loss"),
    (["--seed", "-2"], "--seed"),
    (["--no-such-flag"], "--no-such-flag"),
]


@pytest.mark.parametrize("argv, flag", BAD_FLAGS, ids=[" ".join(a) for a, _ in BAD_FLAGS])
def test_bad_flag_is_one_line_and_exit_2(capsys, argv, flag):
    code, out, err = run_cli(capsys, "train", *argv)
    assert_one_line_error(code, out, err, flag)


def test_dataset_and_data_together_names_both(capsys):
    code, out, err = run_cli(capsys, "train", "--dataset", "moons", "--data", "points.csv")
    assert_one_line_error(code, out, err, "--dataset", "--data")


@pytest.mark.parametrize("argv, flag", BAD_FLAGS[:3])
def test_dashboard_refuses_bad_flags_before_starting(capsys, argv, flag):
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(code, out, err, flag)


BAD_DATA_FILES = {
    "missing": None,
    "empty": b"",
    "ragged": b"1,2,1\n3,-1\n",
    "non-number": b"1,2,1\n3,x,-1\n",
    "nan": b"1,2,1\n3,nan,-1\n",
    "non-binary label": b"1,2,1\n3,4,5\n",
    "one class": b"1,2,1\n3,4,1\n",
    "not utf-8": b"1,2,1\n\xff,4,-1\n",
}


@pytest.mark.parametrize("case", list(BAD_DATA_FILES))
def test_bad_data_file_is_one_line_naming_the_file(capsys, tmp_path, case):
    path = tmp_path / f"{case.replace(' ', '_')}.csv"
    if BAD_DATA_FILES[case] is not None:
        path.write_bytes(BAD_DATA_FILES[case])
    code, out, err = run_cli(capsys, "train", "--data", str(path))
    assert_one_line_error(code, out, err, str(path))


def test_data_file_that_is_a_directory(capsys, tmp_path):
    code, out, err = run_cli(capsys, "train", "--data", str(tmp_path))
    assert_one_line_error(code, out, err, str(tmp_path))


def test_data_file_name_too_long(capsys, tmp_path):
    path = tmp_path / ("y" * 300 + ".csv")
    code, out, err = run_cli(capsys, "train", "--data", str(path))
    assert_one_line_error(code, out, err, str(path))


# -- divergence -------------------------------------------------------------------------

DIVERGING = ("train", "--dataset", "moons", "--loss", "mse", "--lr", "100")


def test_diverging_run_exits_1_and_says_the_step(capsys):
    code, out, err = run_cli(capsys, *DIVERGING, "--json")
    assert code == 1 and err == ""
    steps, summary = parse_json_lines(out)
    n = summary["diverged_at"]
    assert isinstance(n, int) and n >= 1
    assert summary["steps"] == n == len(steps) == steps[-1]["step"]
    assert all(math.isfinite(_number(s["loss"])) for s in steps[:-1])

    code, out, err = run_cli(capsys, *DIVERGING)
    assert code == 1 and err == ""
    assert out.strip().splitlines()[-1].startswith(f"diverged at step {n}: ")


def test_a_finite_blow_up_is_divergence_too(capsys):
    """The issue's run: the loss reached 2.4e+90 with exit 0; now it stops at the rule."""
    argv = ("train", "--dataset", "moons", "--loss", "mse", "--lr", "0.78", "--steps", "300")
    code, out, _ = run_cli(capsys, *argv, "--json")
    steps, summary = parse_json_lines(out)
    assert code == 1 and summary["diverged_at"] == 3 == len(steps)
    first, last = _number(steps[0]["loss"]), _number(steps[-1]["loss"])
    assert math.isfinite(last) and last > 1e6 * first
    code, out, _ = run_cli(capsys, *argv)
    assert code == 1
    assert out.strip().splitlines()[-1] == (
        f"diverged at step 3: the loss {last:.3g} is over 10^6 times step 1's ({first:.3g}); "
        "try a lower --lr"
    )


# -- repeatability -------------------------------------------------------------------------


def _without_rate(out: str) -> list[dict]:
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        record.pop("steps_per_s", None)
    return records


def test_same_seed_same_json_except_speed(capsys):
    argv = ("train", "--steps", "15", "--json", "--seed", "3", "--bug", "skip-zero-grad")
    _, first, _ = run_cli(capsys, *argv)
    _, second, _ = run_cli(capsys, *argv)
    assert _without_rate(first) == _without_rate(second)
    _, other_seed, _ = run_cli(capsys, *argv[:-3], "4", *argv[-2:])
    assert _without_rate(other_seed) != _without_rate(first)


def run_module(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv], capture_output=True, text=True, cwd=REPO, check=False
    )


def test_module_entry_point_in_a_fresh_process(capsys):
    argv = ["train", "--steps", "4", "--json", "--seed", "2", "--hidden", "3"]
    done = run_module(*argv)
    assert done.returncode == 0 and done.stderr == ""
    _, in_process, _ = run_cli(capsys, *argv)
    assert _without_rate(done.stdout) == _without_rate(in_process)

    bad = run_module("train", "--lr", "0")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "--lr" in bad.stderr


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["human", "json"])
def test_closed_output_pipe_stops_quietly(json_flag):
    """`micrograd-tui train | head -1`: the reader has gone; no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui", "train", "--steps", "3", *json_flag],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 128 + 13  # as a shell reports a broken pipe


@pytest.mark.parametrize("flag", [["--samples", "50"], ["--noise", "0.2"]])
def test_samples_and_noise_refused_for_the_fixed_tutorial_points(capsys, flag):
    code, out, err = run_cli(capsys, "train", *flag)
    assert_one_line_error(code, out, err, flag[0], "tutorial")


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--steps", "3", "--dataset", "moons"],
        ["train", "--steps", "2", "--json", "--twin", "--bug", "skip-zero-grad", "--gradcheck"],
        ["graph", "--example", "neuron"],
        ["graph", "--model", "--sample", "1", "--steps", "2"],
        ["export", "--torch", "{tmp}/run.py", "--steps", "2"],
    ],
    ids=["train", "train-json-twin-gradcheck", "graph", "graph-model", "export"],
)
def test_headless_commands_never_import_textual(tmp_path, argv):
    """train, graph and export run to the end without Textual (or Rich, or plotext) loaded."""
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    code = (
        "import sys; from tui.main import main; code = main(sys.argv[1:]); "
        "ui = sorted(m for m in ('textual', 'rich', 'plotext', 'tui.dashboard') "
        "if m in sys.modules); "
        "assert not ui, f'imported {ui}'; sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout  # it did its work: every one of these prints what it made


# -- sizes: refused before any work, with the flag, the limit and the estimate ------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--samples", "10000000"], ["--samples: must be <= 1,000,000, got 10,000,000"]),
        (["--hidden", "5000,5000"], ["--hidden: 5000,5000: the run would need an estimated"]),
        (
            ["--samples", "1000000"],
            ["--samples: 1,000,000 samples with hidden layers 16,16", "(limit 1.5 GB)"],
        ),
        (
            ["--samples", "4000", "--hidden", "700,700"],
            ["--samples: 4,000 samples", "each step would take an estimated", "(limit 60 s)"],
        ),
        (["--hidden", "256,256", "--gradcheck"], ["--gradcheck: its Value graph of all 100"]),
    ],
)
def test_runs_too_large_are_refused_before_any_work(capsys, monkeypatch, argv, words):
    from engine.training import session as session_module

    built = []
    if "--gradcheck" not in argv:  # a gradient check is refused once the run is built
        monkeypatch.setattr(datasets, "make", lambda *a, **kw: built.append(a))
        monkeypatch.setattr(session_module, "MLP", lambda *a, **kw: built.append(a))
    code, out, err = run_cli(capsys, "train", "--dataset", "moons", "--steps", "1", *argv)
    assert_one_line_error(code, out, err, *words)
    if "--gradcheck" not in argv:
        assert built == []  # no point generated, no model built


def test_a_csv_holds_no_more_rows_than_a_run_may_generate():
    assert datasets.csv.MAX_CSV_ROWS == datasets.MAX_SAMPLES


def test_the_largest_accepted_runs_train(capsys):
    # The widest of the table: accepted, and a step really runs (loops form).
    code, out, err = run_cli(
        capsys,
        "train",
        "--dataset",
        "moons",
        "--hidden",
        "300,300",
        "--samples",
        "20",
        "--steps",
        "1",
        "--json",
    )
    assert code == 0, err
    steps, summary = parse_json_lines(out)
    assert summary["steps"] == 1
    assert len(steps) == 1 and math.isfinite(steps[0]["loss"])


def test_batches_are_drawn_and_reported_and_an_export_to_pytorch_refuses_them(capsys, tmp_path):
    code, out, err = run_cli(
        capsys, "train", "--dataset", "moons", "--batch-size", "8", "--steps", "11", "--json"
    )
    assert code == 0, err
    steps, _summary = parse_json_lines(out)
    assert [s["step"] for s in steps if "full_loss" in s] == [1, 11]  # every 10th step
    code, out, err = run_cli(
        capsys,
        "export",
        "--torch",
        str(tmp_path / "m.py"),
        "--dataset",
        "moons",
        "--batch-size",
        "8",
    )
    assert_one_line_error(code, out, err, "batches of 8", "without --batch-size")
    assert not (tmp_path / "m.py").exists()
