"""`micrograd-tui export --torch`: what it writes and what it refuses, without PyTorch.

The script is read back as Python (its literals parsed, never run here): the
weights, data and schedule in it must be the run's own, bit for bit. Running
the scripts and comparing their losses needs torch: tests/torch/.
"""

from __future__ import annotations

import ast
import math
import runpy
from pathlib import Path

import pytest

from engine.training.presets import PRESETS
from tests.support.cli import assert_one_line_error, run_cli
from tests.support.scripts import literals
from tui.cli.config import RunConfig
from tui.cli.torch_export import ExportRefused, torch_script


def trained(dataset: str, steps: int, bugs: tuple[str, ...] = (), **settings):
    from dataclasses import replace

    config = RunConfig(dataset=dataset, session=replace(PRESETS[dataset], **settings), bugs=bugs)
    session = config.build_session()
    for _ in range(steps):
        session.step()
    return session


@pytest.mark.parametrize("dataset", ["tutorial", "moons"])
def test_the_script_holds_the_runs_weights_data_and_schedule_exactly(dataset):
    session = trained(dataset, 7)
    snap = session.snapshot()
    script = torch_script(snap, "a test")
    found = literals(script)
    assert found["STEPS_DONE"] == 7
    assert found["SIZES"] == list(snap.layer_sizes)
    assert found["X"] == [list(x) for x in snap.inputs]
    assert found["Y"] == list(snap.targets)
    weights = [(w, b) for w, b in found["WEIGHTS"]]
    assert weights == [
        ([list(n) for n in layer_w], list(layer_b))
        for layer_w, layer_b in zip(snap.weights, snap.biases)
    ]
    cfg = snap.config
    if cfg.lr_end is None:
        assert found["LR"] == cfg.lr and "LR_END" not in found
    else:
        assert (found["LR_START"], found["LR_END"], found["LR_STEPS"]) == (
            cfg.lr,
            cfg.lr_end,
            cfg.decay_steps,
        )
    assert found.get("L2", 0.0) == cfg.l2
    compile(script, "model.py", "exec")


def test_the_scripts_learning_rate_is_the_schedules_at_every_step(tmp_path):
    session = trained("moons", 3)
    tree = ast.parse(torch_script(session.snapshot(), "a test"))
    # Only the rate and its constants: the rest of the script needs torch.
    keep = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name == "learning_rate")
        or (isinstance(node, ast.Assign) and "LR" in ast.unparse(node.targets[0]))
    ]
    rate_only = tmp_path / "rate.py"
    rate_only.write_text(ast.unparse(ast.Module(keep, [])))
    learning_rate = runpy.run_path(str(rate_only))["learning_rate"]
    schedule = session.config.schedule
    assert [learning_rate(k) for k in range(250)] == [schedule.at(k) for k in range(250)]


def test_the_scripts_blow_up_rule_is_the_engines(tmp_path):
    from engine.training.divergence import blow_up

    tree = ast.parse(torch_script(trained("tutorial", 2).snapshot(), "a test"))
    keep = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name == "blow_up")
        or (isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "BLOW_UP")
    ]
    rule_only = tmp_path / "rule.py"
    rule_only.write_text("import math\n" + ast.unparse(ast.Module(keep, [])))
    scripts_rule = runpy.run_path(str(rule_only))["blow_up"]
    numbers = [0.0, 0.5, 1.0, 2e6, 1e12, math.inf, -math.inf, math.nan]
    for loss in numbers:
        for first in numbers[:5]:
            for largest in (0.0, 3.0, 1e6, 1.5e6, math.nan):
                assert scripts_rule(loss, first, largest) == blow_up(loss, first, largest)


def test_only_the_runs_loss_is_in_the_script_and_l2_only_when_on():
    tutorial = torch_script(trained("tutorial", 0).snapshot(), "a test")
    assert "((scores - targets) ** 2).sum()" in tutorial and "l2_penalty" not in tutorial
    moons = torch_script(trained("moons", 0).snapshot(), "a test")
    assert "torch.relu(1 - targets * scores).mean()" in moons
    assert "loss = data_loss(model(X), Y) + l2_penalty(model)" in moons
    bce = torch_script(trained("xor", 0, loss="bce").snapshot(), "a test")
    # log(1 + e^z) as engine/losses.py writes it, not softplus (which turns linear past 20)
    assert "z.clamp(min=0) + torch.log(1 + torch.exp(-z.abs()))" in bce
    assert "softplus(" not in bce


def test_a_diverged_run_is_refused_with_the_reason(tmp_path, capsys):
    target = tmp_path / "model.py"
    code, out, err = run_cli(
        capsys,
        *("export", "--torch", str(target), "--dataset", "moons", "--loss", "mse"),
        *("--lr", "100", "--steps", "20"),
    )
    assert_one_line_error(code, out, err, "cannot export", "diverged at step", "lower --lr")
    assert not target.exists()


def test_non_finite_weights_are_refused():
    session = trained("tutorial", 1)
    session.model.parameters()[0].data = math.inf
    with pytest.raises(ExportRefused, match="not all finite"):
        torch_script(session.snapshot(), "a test")


def test_a_run_with_a_bug_exports_the_clean_model_and_says_so(tmp_path, capsys):
    target = tmp_path / "buggy.py"
    code, out, err = run_cli(
        capsys,
        *("export", "--torch", str(target), "--bug", "skip-zero-grad", "--steps", "5"),
    )
    assert code == 0, err
    assert "skip-zero-grad" in out and "trains these weights clean" in out
    script = target.read_text()
    assert "skip-zero-grad" in script
    assert literals(script)["STEPS_DONE"] == 5
    # The weights are the buggy run's, after its 5 steps.
    snap = trained("tutorial", 5, bugs=("skip-zero-grad",)).snapshot()
    assert literals(script)["WEIGHTS"][0][1] == list(snap.biases[0])


def test_export_says_where_it_wrote_and_how_to_run_it(tmp_path, capsys):
    target = tmp_path / "model.py"
    code, out, err = run_cli(capsys, "export", "--torch", str(target), "--steps", "3")
    assert code == 0 and err == ""
    assert f"wrote {target}: the run at step 3" in out
    assert f"python {target} --steps 100  (prints steps 4 to 103)" in out
    assert "export --torch" in target.read_text()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ((), ["--torch", "required"]),
        (("--torch", "{tmp}/no/such/dir/m.py"), ["cannot write", "no such directory"]),
        (("--torch", "{tmp}"), ["cannot write", "is a directory"]),
        (("--torch", "{tmp}/m.py", "--steps", "-1"), ["--steps", ">= 0"]),
        (("--torch", "{tmp}/m.py", "--load", "{tmp}/missing.json"), ["missing.json"]),
        (
            ("--torch", "{tmp}/m.py", "--load", "{tmp}/missing.json", "--dataset", "xor"),
            ["--load", "drop --dataset"],
        ),
        (("--torch", "{tmp}/m.py", "--dataset", "nope"), ["--dataset", "unknown dataset"]),
    ],
)
def test_bad_export_flags_are_one_line_and_exit_2(argv, words, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run_cli(capsys, "export", *argv)
    assert_one_line_error(code, out, err, *words)
    assert not (Path(tmp_path) / "m.py").exists()


def test_a_failed_write_leaves_the_old_file(tmp_path, capsys, monkeypatch):
    target = tmp_path / "model.py"
    target.write_text("old\n")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engine.persist.files.os.replace", full_disk)  # every write goes through it
    code, out, err = run_cli(capsys, "export", "--torch", str(target))
    assert_one_line_error(code, out, err, "cannot export", "No space left on device")
    assert target.read_text() == "old\n"
