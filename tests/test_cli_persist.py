"""`micrograd-tui train --save / --load / --history-csv`: resume bit for bit, refuse bad files."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from engine.persist.session_file import load_session
from tests.support.cli import RUN_FLAG_VALUES, parse_json_lines, run_cli
from tui.cli.config import PRESETS, RunConfig, run_flags
from tui.cli.saved_run import load_run, save_run


def one_line_error(err: str, *fragments: str) -> None:
    assert err.count("\n") == 1 and err.startswith("micrograd-tui")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


RUNS = {
    "tutorial": [],
    "tutorial skip-zero-grad": ["--bug", "skip-zero-grad"],
    "tutorial every bug": [
        f"--bug={b}" for b in ("overwrite-grad", "tanh-derivative", "skip-zero-grad")
    ],
    "moons": ["--dataset", "moons"],
    "moons overwrite-grad": ["--dataset", "moons", "--bug", "overwrite-grad"],
    "moons test split": ["--dataset", "moons", "--test-fraction", "0.25"],
    "xor test split, gradient-ascent": [
        "--dataset",
        "xor",
        "--test-fraction",
        "0.3",
        "--bug",
        "gradient-ascent",
    ],
}


@pytest.mark.parametrize("run", RUNS)
def test_save_10_then_load_5_is_15_straight_bit_for_bit(run, capsys, tmp_path):
    flags = RUNS[run]
    first, resumed, straight = tmp_path / "f.json", tmp_path / "g.json", tmp_path / "h.json"

    code, _, err = run_cli(capsys, "train", "--seed", "3", "--steps", "10", "--save", first, *flags)
    assert code == 0 and err == ""
    code, out, err = run_cli(
        capsys, "train", "--load", first, "--steps", "5", "--save", resumed, "--json"
    )
    assert code == 0 and err == ""
    resumed_steps, resumed_summary = parse_json_lines(out)
    code, out, _ = run_cli(
        capsys, "train", "--seed", "3", "--steps", "15", "--save", straight, "--json", *flags
    )
    straight_steps, straight_summary = parse_json_lines(out)

    assert [s["step"] for s in resumed_steps] == [11, 12, 13, 14, 15]
    assert resumed_steps == straight_steps[10:]
    assert resumed_summary["loss"] == straight_summary["loss"]
    assert resumed_summary["steps"] == 15
    # The whole state, byte for byte: weights, gradients, optimizer, history, clean twin.
    assert resumed.read_bytes() == straight.read_bytes()
    a, b = load_session(resumed).session, load_session(straight).session
    assert a.snapshot().parameters == b.snapshot().parameters


def test_lr_with_load_changes_the_rate_from_the_next_step(capsys, tmp_path):
    first, resumed = tmp_path / "f.json", tmp_path / "g.json"
    run_cli(capsys, "train", "--seed", "3", "--steps", "10", "--save", first)
    code, _, _ = run_cli(
        capsys, "train", "--load", first, "--lr", "0.01", "--steps", "5", "--save", resumed
    )
    assert code == 0

    config = RunConfig(session=replace(PRESETS["tutorial"], seed=3))
    session = config.build_session()
    for _ in range(10):
        session.step()
    session.set_learning_rate(0.01)
    for _ in range(5):
        session.step()
    expected = tmp_path / "expected.json"
    save_run(expected, session, config)
    assert resumed.read_bytes() == expected.read_bytes()
    assert load_session(resumed).session.snapshot().history.lr[-6:] == (0.05,) + (0.01,) * 5


def test_human_output_says_where_it_resumed_and_saved(capsys, tmp_path):
    first = tmp_path / "f.json"
    code, out, _ = run_cli(capsys, "train", "--steps", "4", "--save", first)
    assert code == 0 and f"saved the run at step 4 to {first}" in out
    code, out, _ = run_cli(capsys, "train", "--load", first, "--steps", "2")
    assert code == 0
    assert out.startswith(f"resuming {first} at step 4 on tutorial")
    assert "done: 2 steps" in out and "6 in all" in out


def test_loading_keeps_where_the_data_came_from(capsys, tmp_path):
    path = tmp_path / "f.json"
    run_cli(
        capsys,
        "train",
        "--dataset",
        "moons",
        "--samples",
        "40",
        "--noise",
        "0.2",
        "--test-fraction",
        "0.25",
        "--steps",
        "1",
        "--save",
        path,
    )
    config, session = load_run(path)
    assert (config.dataset, config.samples, config.noise, config.test_fraction) == (
        "moons",
        40,
        0.2,
        0.25,
    )
    assert config.session == session.config and len(session.xs) + len(session.test_xs) == 40


def test_zero_more_steps_rewrites_the_same_file(capsys, tmp_path):
    first, again = tmp_path / "f.json", tmp_path / "g.json"
    run_cli(capsys, "train", "--steps", "3", "--bug", "skip-zero-grad", "--save", first)
    code, _, _ = run_cli(capsys, "train", "--load", first, "--steps", "0", "--save", again)
    assert code == 0 and first.read_bytes() == again.read_bytes()


def test_history_csv(capsys, tmp_path):
    path = tmp_path / "history.csv"
    code, out, _ = run_cli(capsys, "train", "--steps", "6", "--json", "--history-csv", path)
    assert code == 0
    steps, _ = parse_json_lines(out)  # --json keeps stdout to JSON lines
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "step",
        "loss",
        "accuracy",
        "grad_norm",
        "weight_norm",
        "lr",
        "test_loss",
        "test_accuracy",
        "full_loss",
    ]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [float(r["loss"]) for r in rows] == [s["loss"] for s in steps]
    assert [float(r["grad_norm"]) for r in rows] == [s["grad_norm"] for s in steps]
    assert all(r["test_loss"] == "" for r in rows)


def test_history_csv_of_a_resumed_run_has_every_step(capsys, tmp_path):
    first, path = tmp_path / "f.json", tmp_path / "h.csv"
    run_cli(
        capsys,
        "train",
        "--steps",
        "3",
        "--test-fraction",
        "0.5",
        "--dataset",
        "xor",
        "--save",
        first,
    )
    run_cli(capsys, "train", "--load", first, "--steps", "2", "--history-csv", path)
    rows = path.read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert all(r.split(",")[6] not in ("", "nan") for r in rows[1:])


# -- refused: one line on stderr, exit code 2 ----------------------------------------------


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--seed", "4"], "drop --seed"),
        (["--hidden", "8,8", "--dataset", "moons"], "drop --dataset, --hidden"),
        (["--bug", "overwrite-grad"], "drop --bug"),
        (["--data", "x.csv"], "drop --data"),
        (["--test-fraction", "0.2", "--samples", "9"], "drop --samples, --test-fraction"),
    ],
)
def test_load_refuses_data_and_architecture_flags(flags, named, capsys, tmp_path):
    path = tmp_path / "f.json"
    run_cli(capsys, "train", "--steps", "1", "--save", path)
    code, out, err = run_cli(capsys, "train", "--load", path, *flags)
    assert code == 2 and out == ""
    one_line_error(err, "--load resumes a saved run", named, "only --lr")
    code, _, err = run_cli(capsys, "--load", path, *flags)  # the dashboard refuses the same way
    assert code == 2
    one_line_error(err, named)


def test_load_refuses_every_run_flag_but_lr(capsys, tmp_path):
    path = tmp_path / "f.json"
    run_cli(capsys, "train", "--steps", "1", "--save", path)
    for dest, flag in run_flags().items():
        argv = ["train", "--load", path, "--steps", "1", flag, RUN_FLAG_VALUES[dest]]
        code, out, err = run_cli(capsys, *argv)
        if dest == "lr":
            assert code == 0, err
        else:
            assert code == 2 and out == "", (flag, err)
            one_line_error(err, f"drop {flag}")


def _edit(path: Path, edit) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


BAD_FILES = {
    "missing": (None, "missing.json: no such file"),
    "directory": ("dir", "is a directory"),
    "empty": (lambda p: p.write_text(""), "the file is empty"),
    "truncated": (lambda p: p.write_text(p.read_text()[:500]), "not valid JSON (line"),
    "newer version": (
        lambda p: _edit(p, lambda d: d.update(version=9)),
        "format version 9 is newer",
    ),
    "weights": (
        lambda p: _edit(p, lambda d: d["session"]["parameters"]["data"].append(0.5)),
        "session.parameters.data: MLP(3, [4, 4, 1]) has 41 parameters, found 42 values",
    ),
    "unknown bug": (
        lambda p: _edit(p, lambda d: d["session"].update(bugs=["typo"])),
        "session.bugs: unknown bug typo",
    ),
    "negative step": (
        lambda p: _edit(p, lambda d: d["session"].update(step=-3)),
        "session.step: must be at least 0",
    ),
    "unknown dataset": (
        lambda p: _edit(p, lambda d: d["run"].update(dataset="mnist")),
        "run.dataset: unknown dataset 'mnist'",
    ),
    "run missing": (lambda p: _edit(p, lambda d: d.pop("run")), "run: missing"),
}


@pytest.mark.parametrize("case", BAD_FILES)
@pytest.mark.parametrize("command", [["train", "--steps", "1"], []], ids=["train", "dashboard"])
def test_bad_files_are_one_clear_line(case, command, capsys, tmp_path):
    prepare, fragment = BAD_FILES[case]
    path = tmp_path / "run.json"
    run_cli(capsys, "train", "--steps", "2", "--save", path)
    if prepare is None:
        path = tmp_path / "missing.json"
    elif prepare == "dir":
        path = tmp_path
    else:
        prepare(path)
    code, out, err = run_cli(capsys, *command, "--load", path)
    assert code == 2 and out == ""
    one_line_error(err, str(path), fragment)


@pytest.mark.parametrize("flag", ["--save", "--history-csv"])
def test_unwritable_targets_are_refused_before_training(flag, capsys, tmp_path):
    code, out, err = run_cli(capsys, "train", "--steps", "5", flag, tmp_path / "no" / "f")
    assert code == 2 and out == ""
    one_line_error(err, f"cannot write {tmp_path / 'no' / 'f'}: no such directory")
    code, out, err = run_cli(capsys, "train", "--steps", "5", flag, tmp_path)
    assert code == 2 and out == ""
    one_line_error(err, "is a directory")


def test_a_write_failing_after_training_is_one_line(capsys, tmp_path, monkeypatch):
    import engine.persist.session_file

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.persist.session_file.os, "replace", broken)
    code, out, err = run_cli(capsys, "train", "--steps", "2", "--save", tmp_path / "f.json")
    assert code == 2 and "done: 2 steps" in out
    one_line_error(err, "f.json: cannot write it: No space left on device")


def test_a_loaded_diverged_run_says_so_and_exits_1(capsys, tmp_path):
    path = tmp_path / "f.json"
    code, _, _ = run_cli(
        capsys,
        "train",
        "--dataset",
        "moons",
        "--loss",
        "mse",
        "--lr",
        "100",
        "--steps",
        "20",
        "--save",
        path,
    )
    assert code == 1
    diverged_at = load_session(path).session.diverged_at
    code, out, err = run_cli(capsys, "train", "--load", path, "--steps", "5")
    assert code == 1 and err == ""
    assert f"diverged at step {diverged_at}" in out
    assert load_session(path).session.step_count == diverged_at
