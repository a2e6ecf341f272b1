"""`make run` on a fresh clone says what it is doing before pip's quiet install."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def dry_run(directory: Path) -> list[str]:
    done = subprocess.run(
        ["make", "-n", "run"], cwd=directory, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_says_what_it_installs_before_it_does(tmp_path) -> None:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    lines = dry_run(tmp_path)  # no .venv yet: a fresh clone
    said = [i for i, line in enumerate(lines) if "make: installing micrograd-tui" in line]
    pip = [i for i, line in enumerate(lines) if "pip install --quiet -e ." in line]
    assert said and pip and said[0] < pip[0], lines
    assert any("creating the virtual environment" in line for line in lines)

    # Installed and up to date: nothing to say, it just runs.
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").touch()
    stamp = tmp_path / ".venv" / ".installed-run"
    stamp.touch()
    later = (tmp_path / "pyproject.toml").stat().st_mtime + 10
    os.utime(stamp, (later, later))
    lines = dry_run(tmp_path)
    assert not any("make: " in line for line in lines), lines
