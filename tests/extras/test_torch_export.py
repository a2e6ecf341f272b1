"""Exported PyTorch scripts continue the run: their losses agree with `train --json` to 1e-9.

Needs torch (`make test-torch` installs it); plain `make test` deselects the
``torch`` marker, and without torch these tests skip.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys

import pytest

from tests.support.cli import parse_json_lines, run_cli
from tests.support.extras import need_module
from tui.main import main

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True, scope="module")
def _torch():
    """Imported only when these tests run: a deselected module must not load torch (~300 MB)."""
    need_module("torch", "torch")


RELATIVE = 1e-9  # the bar, for 100 steps
STEPS = 100

# Every preset, and each loss and activation on top (relu sse/mse/bce, sigmoid):
# tanh and relu, sse, mse, hinge with L2, bce, with and without a decaying rate.
RUNS = {
    "tutorial (tanh, sse)": ["--dataset", "tutorial"],
    "moons (relu, hinge + L2, 1 -> 0.1)": ["--dataset", "moons"],
    "xor (tanh, mse)": ["--dataset", "xor"],
    "circles (tanh, mse)": ["--dataset", "circles"],
    "spiral (tanh, mse, 0.5 -> 0.1)": ["--dataset", "spiral"],
    "blobs (tanh, mse)": ["--dataset", "blobs"],
    "tutorial bce": ["--dataset", "tutorial", "--loss", "bce"],
    "moons bce + L2, 1 -> 0.1": ["--dataset", "moons", "--loss", "bce"],
    "moons relu sse": ["--dataset", "moons", "--loss", "sse", "--lr", "0.001"],
    "circles relu mse": ["--dataset", "circles", "--activation", "relu"],
    "xor sigmoid bce": ["--dataset", "xor", "--activation", "sigmoid", "--loss", "bce"],
}


def run_script(path, steps: int, capsys) -> list[dict]:
    """``python path --steps steps``, in this process (torch imports once for all tests)."""
    argv = sys.argv
    sys.argv = [str(path), "--steps", str(steps)]
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as done:
        assert done.code in (0, None)
    finally:
        sys.argv = argv
    out, _ = capsys.readouterr()
    return [json.loads(line) for line in out.splitlines()]


def train_json(capsys, *argv: str, code: int = 0) -> list[dict]:
    """The step lines of ``train --json``; ``code``: its exit code (1 if it diverges)."""
    exit_code, out, err = run_cli(capsys, "train", "--json", *argv)
    assert exit_code == code, err
    steps, _ = parse_json_lines(out)
    return steps


def assert_agree(script: list[dict], reference: list[dict]) -> float:
    """Same step numbers, losses within RELATIVE; returns the worst relative difference."""
    assert [r["step"] for r in script] == [r["step"] for r in reference]
    worst = max(abs(s["loss"] - r["loss"]) / abs(r["loss"]) for s, r in zip(script, reference))
    assert worst <= RELATIVE, worst
    return worst


@pytest.mark.parametrize("flags", RUNS.values(), ids=RUNS.keys())
@pytest.mark.parametrize("done", [0, 7])
def test_the_script_continues_the_run_to_1e_9(flags, done, tmp_path, capsys):
    path = tmp_path / "model.py"
    code, _, err = run_cli(capsys, "export", "--torch", str(path), *flags, "--steps", str(done))
    assert code == 0, err
    script = run_script(path, STEPS, capsys)
    reference = train_json(capsys, *flags, "--steps", str(done + STEPS))[done:]
    assert script[0]["step"] == done + 1 and len(script) == STEPS
    assert_agree(script, reference)


def test_a_loaded_run_with_a_new_rate_continues_in_torch(tmp_path, capsys):
    saved = tmp_path / "run.json"
    flags = ["--dataset", "moons", "--steps", "30"]
    code, _, err = run_cli(capsys, "train", *flags, "--save", str(saved))
    assert code == 0, err
    path = tmp_path / "model.py"
    code, _, err = run_cli(
        capsys, "export", "--torch", str(path), "--load", str(saved), "--lr", "0.3"
    )
    assert code == 0, err
    script = run_script(path, STEPS, capsys)
    reference = train_json(capsys, "--load", str(saved), "--lr", "0.3", "--steps", str(STEPS))
    assert script[0]["step"] == 31
    assert_agree(script, reference)


def test_a_buggy_run_continues_clean_in_torch(tmp_path, capsys):
    """The script trains the buggy run's weights without the bug, as the run switched clean."""
    from engine.training.presets import PRESETS
    from tui.cli.config import RunConfig

    path = tmp_path / "model.py"
    code, _, err = run_cli(
        capsys, "export", "--torch", str(path), "--bug", "skip-zero-grad", "--steps", "10"
    )
    assert code == 0, err
    script = run_script(path, STEPS, capsys)

    session = RunConfig(session=PRESETS["tutorial"], bugs=("skip-zero-grad",)).build_session()
    for _ in range(10):
        session.step()
    session.set_bugs(())
    reference = [{"step": r.step, "loss": r.loss} for r in (session.step() for _ in range(STEPS))]
    assert_agree(script, reference)


def test_the_script_runs_alone_with_only_torch(tmp_path, capsys):
    """A fresh interpreter in isolated mode (-I): no micrograd-tui on its path, only torch."""
    path = tmp_path / "model.py"
    flags = ["--dataset", "moons"]
    assert main(["export", "--torch", str(path), *flags, "--steps", "5"]) == 0
    capsys.readouterr()
    done = subprocess.run(
        [sys.executable, "-I", str(path), "--steps", "20"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    script = [json.loads(line) for line in done.stdout.splitlines()]
    assert_agree(script, train_json(capsys, *flags, "--steps", "25")[5:])
    bad = subprocess.run(
        [sys.executable, "-I", str(path), "--steps", "-3"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert bad.returncode == 2 and "--steps: must be >= 0" in bad.stderr


def test_a_run_that_diverges_in_torch_stops_where_ours_does(tmp_path, capsys):
    """Exported a step before it blows up: both print that step, then stop with the reason."""
    flags = ["--dataset", "moons", "--loss", "mse", "--lr", "100"]
    reference = train_json(capsys, *flags, "--steps", "20", code=1)
    diverged = reference[-1]["step"]  # train --json stops at the step that diverged
    path = tmp_path / "model.py"
    code, _, err = run_cli(
        capsys, "export", "--torch", str(path), *flags, "--steps", str(diverged - 1)
    )
    assert code == 0, err
    argv = sys.argv
    sys.argv = [str(path), "--steps", "20"]
    try:
        with pytest.raises(SystemExit) as done:
            runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = argv
    assert done.value.code == 1
    out, err = capsys.readouterr()
    script = [json.loads(line) for line in out.splitlines()]
    assert [r["step"] for r in script] == [diverged]
    assert_agree(script, reference[-1:])
    _, saying = run_cli(capsys, "train", *flags, "--steps", "20")[1].rsplit("\n", 2)[:2]
    assert err.strip() == saying.removesuffix("; try a lower --lr")
