"""`micrograd-tui train --load FILE --from-step N`: go back in a saved run and train on from
there, exactly; a step the file does not reach is one line naming the range."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from engine.persist.session_file import load_session
from tests.support.cli import assert_one_line_error, parse_json_lines, run_cli
from tui.cli.config import PRESETS, RunConfig
from tui.cli.saved_run import save_run

RUNS = {
    "tutorial": [],
    "moons skip-zero-grad (a clean twin)": ["--dataset", "moons", "--bug", "skip-zero-grad"],
    "moons test split, batches": [
        "--dataset",
        "moons",
        "--test-fraction",
        "0.25",
        "--batch-size",
        "16",
    ],
}


def session_of(path) -> dict:
    return json.loads(path.read_text())["session"]


@pytest.mark.parametrize("run", RUNS)
def test_from_step_20_then_10_steps_is_30_straight(run, capsys, tmp_path):
    flags = RUNS[run]
    saved, branched, straight = tmp_path / "f.json", tmp_path / "g.json", tmp_path / "h.json"
    code, _, _ = run_cli(capsys, "train", "--seed", "3", "--steps", "40", "--save", saved, *flags)
    assert code == 0
    code, out, err = run_cli(
        capsys,
        "train",
        "--load",
        saved,
        "--from-step",
        "20",
        "--steps",
        "10",
        "--save",
        branched,
        "--json",
    )
    assert code == 0 and err == ""
    steps, summary = parse_json_lines(out)
    code, out, _ = run_cli(
        capsys, "train", "--seed", "3", "--steps", "30", "--save", straight, "--json", *flags
    )
    straight_steps, straight_summary = parse_json_lines(out)

    assert [s["step"] for s in steps] == list(range(21, 31))
    assert steps == straight_steps[20:]
    assert summary["steps"] == 30 and summary["loss"] == straight_summary["loss"]
    a, b = load_session(branched).session, load_session(straight).session
    assert a.snapshot().parameters == b.snapshot().parameters
    assert a.snapshot().history == b.snapshot().history
    # The whole file is the straight run's but for the ghost: steps 21 to 40 of the first.
    got, want = session_of(branched), session_of(straight)
    ghost = got["timeline"]["ghost"]
    assert ghost["branch_step"] == 20 and ghost["steps"] == list(range(21, 41))
    assert ghost["loss"] == session_of(saved)["history"]["loss"][20:]
    got["timeline"]["ghost"] = None
    assert got == want


def test_from_step_with_lr_changes_the_rate_from_that_step(capsys, tmp_path):
    saved, branched = tmp_path / "f.json", tmp_path / "g.json"
    run_cli(capsys, "train", "--seed", "3", "--steps", "12", "--save", saved)
    code, _, _ = run_cli(
        capsys,
        "train",
        "--load",
        saved,
        "--from-step",
        "5",
        "--lr",
        "0.01",
        "--steps",
        "3",
        "--save",
        branched,
    )
    assert code == 0

    config = RunConfig(session=replace(PRESETS["tutorial"], seed=3))
    session = config.build_session()
    for _ in range(5):
        session.step()
    session.set_learning_rate(0.01)
    for _ in range(3):
        session.step()
    expected = tmp_path / "expected.json"
    save_run(expected, session, config)
    got = json.loads(branched.read_text())
    assert got["session"]["timeline"]["ghost"]["branch_step"] == 5
    got["session"]["timeline"]["ghost"] = None
    assert got == json.loads(expected.read_text())
    assert load_session(branched).session.snapshot().history.lr[-4:] == (0.05,) + (0.01,) * 3


def test_the_output_says_where_it_went_back_to_and_what_the_ghost_holds(capsys, tmp_path):
    saved = tmp_path / "f.json"
    run_cli(capsys, "train", "--steps", "40", "--save", saved)
    code, out, _ = run_cli(capsys, "train", "--load", saved, "--from-step", "20", "--steps", "30")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"resuming {saved} at step 20 on tutorial")
    assert lines[1] == (
        "the ghost: steps 21 to 40, the future the branch at step 20 left (a --save keeps it)"
    )
    shown = [int(line.split()[1]) for line in lines if line.startswith("step ")]
    assert shown == [21, 24, 27, 30, 33, 36, 39, 42, 45, 48]  # the first step, then every 3rd
    assert "done: 30 steps" in out and "50 in all" in out


def test_from_the_saved_step_itself_changes_nothing(capsys, tmp_path):
    saved, again = tmp_path / "f.json", tmp_path / "g.json"
    run_cli(capsys, "train", "--steps", "7", "--bug", "overwrite-grad", "--save", saved)
    code, out, _ = run_cli(
        capsys, "train", "--load", saved, "--from-step", "7", "--steps", "0", "--save", again
    )
    assert code == 0 and "the ghost" not in out
    assert again.read_bytes() == saved.read_bytes()


def test_going_back_before_a_divergence_trains_again(capsys, tmp_path):
    saved = tmp_path / "f.json"
    flags = ["--dataset", "moons", "--loss", "mse", "--lr", "100", "--steps", "20"]
    code, _, _ = run_cli(capsys, "train", *flags, "--save", saved)
    assert code == 1
    diverged_at = load_session(saved).session.diverged_at
    code, out, err = run_cli(
        capsys, "train", "--load", saved, "--from-step", "0", "--lr", "0.05", "--steps", "5"
    )
    assert code == 0 and err == "" and "diverged" not in out
    assert f"the ghost: steps 1 to {diverged_at}, " in out
    assert "done: 5 steps" in out


@pytest.mark.parametrize(
    "value, words",
    [
        ("-1", ["--from-step: must be from 0 to 6, the steps", "got -1"]),
        ("7", ["--from-step: must be from 0 to 6", "got 7"]),
        ("ten", ["--from-step: expected a step number, got 'ten'"]),
    ],
)
def test_a_step_the_file_does_not_hold_is_one_line(value, words, capsys, tmp_path):
    saved = tmp_path / "f.json"
    run_cli(capsys, "train", "--steps", "6", "--save", saved)
    code, out, err = run_cli(capsys, "train", "--load", saved, "--from-step", value)
    assert_one_line_error(code, out, err, *words)
    assert load_session(saved).session.step_count == 6


def test_from_step_needs_load(capsys):
    code, out, err = run_cli(capsys, "train", "--from-step", "3", "--steps", "5")
    assert_one_line_error(code, out, err, "--from-step: needs --load FILE.json")


def test_a_file_from_before_time_travel_reaches_back_to_its_step_only(capsys, tmp_path):
    saved = tmp_path / "f.json"
    run_cli(capsys, "train", "--steps", "9", "--save", saved)
    document = json.loads(saved.read_text())
    del document["session"]["timeline"]  # as written before time travel
    saved.write_text(json.dumps(document))
    code, out, err = run_cli(capsys, "train", "--load", saved, "--from-step", "4")
    assert_one_line_error(
        code, out, err, "--from-step: must be from 9 to 9", "got 4", "reaches back to step 9 only"
    )
    code, _, err = run_cli(capsys, "train", "--load", saved, "--from-step", "9", "--steps", "1")
    assert code == 0 and err == ""


def test_a_file_whose_updates_replay_differently_is_one_line(capsys, tmp_path):
    """A hand-edited rate: the file loads (its values fit together), but replaying its
    updates blows up where its history says the run went on."""
    saved = tmp_path / "f.json"
    run_cli(capsys, "train", "--steps", "10", "--save", saved)
    document = json.loads(saved.read_text())
    session = document["session"]
    for schedule in (session["config"], session["optimizer"]["schedule"]):
        schedule["lr" if "lr" in schedule else "start"] = 1e9
    session["optimizer"]["lr_log"][0]["start"] = 1e9
    saved.write_text(json.dumps(document))
    code, out, err = run_cli(capsys, "train", "--load", saved, "--from-step", "5")
    assert_one_line_error(
        code, out, err, "--from-step:", "replaying its updates to step 5 diverged", "diverged at"
    )
