"""Another package named datasets, engine or tui: one clear line, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_train(folder, *path: str) -> subprocess.CompletedProcess:
    """``python -m tui train --steps 1`` in ``folder``, with ``path`` as PYTHONPATH."""
    return subprocess.run(
        [sys.executable, "-m", "tui", "train", "--steps", "1"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        check=False,
    )


def run_with_first_on_path(tmp_path, name: str) -> subprocess.CompletedProcess:
    """``micrograd-tui train`` with a stranger's package ``name`` first on sys.path."""
    fake = tmp_path / "site" / name
    fake.mkdir(parents=True)
    # Importing it would fail loudly: the check must not import it.
    (fake / "__init__.py").write_text("raise SystemExit('the stranger was imported')\n")
    return run_train(tmp_path, str(tmp_path / "site"), str(REPO))


@pytest.mark.parametrize("name", ["datasets", "engine"])
def test_a_stranger_package_of_our_name_is_named_not_imported(tmp_path, name):
    done = run_with_first_on_path(tmp_path, name)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"the package '{name}' found at {tmp_path / 'site' / name / '__init__.py'}" in lines[0]
    assert "pipx install ." in lines[0] and "uv tool install ." in lines[0]


def test_the_command_runs_when_the_packages_are_ours(tmp_path):
    done = run_train(tmp_path, str(REPO))
    assert done.returncode == 0, done.stderr
    assert "done: 1 steps" in done.stdout


def test_our_own_packages_pass_the_check():
    from tui import shadowing

    assert shadowing.shadowed() is None
    for name in shadowing.PACKAGES:
        init = REPO / name / "__init__.py"
        assert shadowing.OWNER_MARK in init.read_text(encoding="utf-8")
