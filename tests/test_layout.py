"""The house's shape (docs/design.md): small rooms, the lecture's core in sight."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LARGEST_CLASS = 400  # lines


def test_no_class_is_400_lines_or_more():
    sizes = []
    for package in ("engine", "datasets", "tui"):
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    lines = node.end_lineno - node.lineno + 1
                    sizes.append((lines, f"{path.relative_to(REPO)}:{node.name}"))
    assert sizes
    largest = max(sizes)
    assert largest[0] < LARGEST_CLASS, f"{largest[1]} is {largest[0]} lines"


def test_engine_shows_the_lecture_core_first_among_a_dozen_entries():
    entries = [p.name for p in (REPO / "engine").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 12, sorted(entries)
    assert {"value.py", "nn.py", "losses.py", "optim.py", "bugs.py"} <= set(entries)
    readme = (REPO / "engine" / "README.md").read_text(encoding="utf-8")
    first_rows = [line for line in readme.splitlines() if line.startswith("| `")][:5]
    assert first_rows[0].startswith("| `value.py` | `Value`")
    assert "backward()" in first_rows[0]
