"""`micrograd-tui train` for the bug lab: --twin, --gradcheck and --test-fraction."""

from __future__ import annotations

from dataclasses import replace

import pytest

import datasets
from engine.nn import parameter_names
from engine.training.session import TrainingSession
from tests.support.cli import (
    STEP_KEYS,
    SUMMARY_KEYS,
    assert_one_line_error,
    parse_json_lines,
    run_cli,
)
from tests.support.models import objective_at
from tui.cli.config import PRESETS, RunConfig

TUTORIAL = datasets.make("tutorial")


def clean_losses(steps: int, **overrides) -> list[float]:
    """The losses of a separate clean run of the tutorial preset."""
    session = TrainingSession(replace(PRESETS["tutorial"], **overrides), TUTORIAL.xs, TUTORIAL.ys)
    return [session.step().loss for _ in range(steps)]


# -- --twin --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "overrides"),
    [([], {}), (["--seed", "3", "--lr", "0.1"], {"seed": 3, "lr": 0.1})],
    ids=["preset", "seed-and-lr"],
)
def test_twin_json_adds_the_clean_runs_loss_to_every_step(capsys, flags, overrides):
    argv = ["train", "--bug", "overwrite-grad", "--twin", "--json", "--steps", "12", *flags]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0 and err == ""
    steps, summary = parse_json_lines(out)
    assert all(set(s) == STEP_KEYS | {"twin_loss"} for s in steps)
    assert set(summary) == SUMMARY_KEYS | {"twin_loss"}
    clean = clean_losses(12, **overrides)
    assert [s["twin_loss"] for s in steps] == clean  # exactly
    assert summary["twin_loss"] == clean[-1]
    # the buggy run's own losses are not the twin's
    assert steps[0]["loss"] == clean[0]  # same initial weights
    assert all(s["loss"] != c for s, c in zip(steps[1:], clean[1:]))


def test_twin_human_output_shows_the_clean_loss(capsys):
    code, out, err = run_cli(capsys, "train", "--bug", "gradient-ascent", "--twin", "--steps", "10")
    assert code == 0 and err == ""
    clean = clean_losses(10)
    lines = out.splitlines()
    step_lines = [line for line in lines if line.startswith("step ")]
    assert step_lines and all("clean twin loss" in line for line in step_lines)
    assert step_lines[0].endswith(f"clean twin loss {clean[0]:.6g}")
    assert lines[-1].startswith("done: ") and lines[-1].endswith(f"clean twin loss {clean[-1]:.6g}")


def test_twin_without_a_bug_says_there_is_nothing_to_compare(capsys):
    code, out, err = run_cli(capsys, "train", "--twin", "--steps", "3")
    assert code == 0 and err == ""
    assert "--twin: no bug is on" in out
    assert "clean twin loss" not in out

    code, out, err = run_cli(capsys, "train", "--twin", "--steps", "3", "--json")
    assert code == 0 and err == "--twin: no bug is on, so there is no clean twin to compare with\n"
    steps, summary = parse_json_lines(out)  # still nothing but JSON objects
    assert all(set(s) == STEP_KEYS for s in steps)
    assert set(summary) == SUMMARY_KEYS


def test_a_bug_without_twin_adds_no_twin_loss(capsys):
    _, out, _ = run_cli(capsys, "train", "--bug", "overwrite-grad", "--json", "--steps", "3")
    steps, summary = parse_json_lines(out)
    assert "twin_loss" not in summary and all("twin_loss" not in s for s in steps)


# -- --gradcheck -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bug", "verdict"),
    [(None, "PASS"), ("overwrite-grad", "FAIL"), ("tanh-derivative", "FAIL")],
    ids=["clean", "overwrite-grad", "tanh-derivative"],
)
def test_gradcheck_after_training(capsys, bug, verdict):
    bug_flags = ["--bug", bug] if bug else []
    code, out, err = run_cli(capsys, "train", "--steps", "5", "--gradcheck", *bug_flags)
    assert code == 0 and err == ""
    report = out[out.index("gradient check") :].splitlines()
    assert report[0].startswith(f"gradient check at step 5: {verdict}, max relative error ")
    assert report[0].endswith("over all 41 parameters")
    if verdict == "FAIL":
        assert "numerical" in report[1] and "backprop" in report[1]
        assert len(report) == 2 + 5  # the five worst parameters
        # named as the dashboard names them, not by an index
        names = set(parameter_names((3, 4, 4, 1)))
        for row in report[2:]:
            name = row.strip().split("  ")[0]
            assert name in names, row
    else:
        assert len(report) == 1

    code, out, err = run_cli(capsys, "train", "--steps", "5", "--gradcheck", "--json", *bug_flags)
    assert code == 0 and err == ""
    _, summary = parse_json_lines(out)
    check = summary["gradcheck"]
    assert check["passed"] is (verdict == "PASS")
    assert check["checked"] == check["parameters"] == 41
    assert (check["max_rel_error"] < 1e-6) is (verdict == "PASS")


def test_no_gradcheck_unless_asked(capsys):
    _, out, _ = run_cli(capsys, "train", "--steps", "2", "--json")
    assert "gradcheck" not in parse_json_lines(out)[1]
    _, out, _ = run_cli(capsys, "train", "--steps", "2")
    assert "gradient check" not in out


# -- --test-fraction ---------------------------------------------------------------------------


def test_test_fraction_adds_test_loss_and_accuracy(capsys):
    argv = ["train", "--dataset", "xor", "--samples", "40", "--test-fraction", "0.25"]
    code, out, err = run_cli(capsys, *argv, "--steps", "6", "--json")
    assert code == 0 and err == ""
    steps, summary = parse_json_lines(out)
    assert all(set(s) == STEP_KEYS | {"test_loss", "test_accuracy"} for s in steps)
    assert set(summary) == SUMMARY_KEYS | {"test_loss", "test_accuracy"}

    # The same numbers, derived apart from the CLI: train on 30 points, measure the other 10
    # at the weights each step starts from.
    config = PRESETS["xor"]
    train, test = datasets.split(datasets.make("xor", 40, None, config.seed), 0.25, config.seed)
    assert len(test) == 10
    session = TrainingSession(config, train.xs, train.ys)
    for record in steps:
        expected_loss, expected_accuracy = objective_at(
            config, session.snapshot().parameters, test.xs, test.ys
        )
        assert record["loss"] == session.step().loss
        assert record["test_loss"] == pytest.approx(expected_loss, rel=1e-12)
        assert record["test_accuracy"] == expected_accuracy
    assert (summary["test_loss"], summary["test_accuracy"]) == (
        steps[-1]["test_loss"],
        steps[-1]["test_accuracy"],
    )

    code, out, err = run_cli(capsys, *argv, "--steps", "6")
    assert code == 0 and err == ""
    assert "(30 samples, 10 held out)" in out.splitlines()[0]
    assert "test loss" in out.splitlines()[-1] and "test accuracy" in out.splitlines()[-1]


def test_test_fraction_zero_holds_nothing_out(capsys):
    code, out, _ = run_cli(capsys, "train", "--steps", "2", "--test-fraction", "0", "--json")
    steps, summary = parse_json_lines(out)
    assert code == 0 and "test_loss" not in summary and all("test_loss" not in s for s in steps)


@pytest.mark.parametrize("value", ["1", "-0.1", "abc", "nan", "inf", "1.5"])
def test_bad_test_fraction_is_one_line_and_exit_2(capsys, value):
    code, out, err = run_cli(capsys, "train", "--test-fraction", value)
    assert_one_line_error(code, out, err, "--test-fraction", value)
    code, out, err = run_cli(capsys, "--test-fraction", value)  # the dashboard, before starting
    assert_one_line_error(code, out, err, "--test-fraction", value)


def test_a_test_fraction_that_leaves_nothing_to_train_on(capsys):
    code, out, err = run_cli(
        capsys, "train", "--dataset", "xor", "--samples", "2", "--test-fraction", "0.9"
    )
    assert_one_line_error(code, out, err, "--test-fraction", "none to train on")


def test_gradcheck_after_divergence_is_skipped_with_a_note(capsys):
    code, out, err = run_cli(
        capsys,
        "train",
        "--dataset",
        "moons",
        "--loss",
        "mse",
        "--lr",
        "100",
        "--gradcheck",
        "--json",
    )
    assert code == 1
    _, summary = parse_json_lines(out)
    assert summary["diverged_at"] is not None and "gradcheck" not in summary
    assert "--gradcheck: skipped, the run diverged" in err


def test_a_run_config_trains_on_one_side_of_its_split_and_tests_on_the_other():
    def build(seed: int) -> TrainingSession:
        return RunConfig(
            dataset="moons",
            samples=40,
            test_fraction=0.25,
            session=replace(PRESETS["moons"], seed=seed),
        ).build_session()

    session = build(3)
    points = sorted(map(tuple, datasets.make("moons", 40, None, 3).xs))
    assert len(session.test_xs) == 10 and len(session.xs) == 30
    assert not set(session.xs) & set(session.test_xs)
    assert sorted(session.xs + session.test_xs) == points  # every point on one side
    again = build(3)
    assert (again.xs, again.test_xs) == (session.xs, session.test_xs)
    other = build(4)  # the seed draws both the points and the split
    assert other.test_xs != session.test_xs
