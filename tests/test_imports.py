"""The direction of dependency: tui -> engine, tui -> datasets, and nothing else.

engine/ is pure Python (stdlib only) and imports neither tui nor datasets;
datasets/ imports neither engine nor tui; only tui itself and the tests import tui.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"tests", "tui", "build", "dist", "node_modules", "__pycache__"}


def imported_modules(source: str, package: str) -> set[str]:
    """Top-level names of every module the source imports; relative imports count as ``package``.

    Catches ``import x``, ``from x import y``, and ``importlib.import_module("x")`` /
    ``__import__("x")`` with a literal name.
    """
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(package if node.level else node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in ("import_module", "__import__") and literal:
                found.add(first.value.split(".")[0])
    return found


def python_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def package_imports(package: str) -> dict[str, set[str]]:
    files = python_files(REPO / package)
    assert files, f"no Python files under {package}/"
    return {
        str(path.relative_to(REPO)): imported_modules(path.read_text(encoding="utf-8"), package)
        for path in files
    }


def test_the_checker_sees_every_form_of_import():
    source = (
        "import os.path, numpy as np\n"
        "from . import value\n"
        "from .fast import compiled\n"
        "from tui.dashboard.app import App\n"
        "import importlib\n"
        "importlib.import_module('datasets.csv')\n"
        "__import__('rich')\n"
    )
    assert imported_modules(source, "engine") == {
        "os",
        "numpy",
        "engine",
        "tui",
        "importlib",
        "datasets",
        "rich",
    }


def test_engine_imports_only_the_standard_library_and_itself():
    stdlib = sys.stdlib_module_names
    for path, modules in package_imports("engine").items():
        foreign = {m for m in modules if m != "engine" and m not in stdlib}
        assert not foreign, f"{path} imports {sorted(foreign)}"
        assert not modules & {"tui", "datasets"}, path


def test_datasets_imports_neither_engine_nor_tui():
    stdlib = sys.stdlib_module_names
    for path, modules in package_imports("datasets").items():
        assert not modules & {"engine", "tui"}, f"{path} imports {sorted(modules)}"
        foreign = {m for m in modules if m != "datasets" and m not in stdlib}
        assert not foreign, f"{path} imports {sorted(foreign)}"


def _outside_tui_and_tests() -> list[Path]:
    found = []
    for path in python_files(REPO):
        parts = path.relative_to(REPO).parts
        if any(p in SKIP_DIRS or p.startswith(".") or p.endswith(".egg-info") for p in parts[:-1]):
            continue
        found.append(path)
    return found


# The dashboard and Graph screen benchmarks drive the real app, as the tests do; the
# layout candidates are measured against the screen's own layout.
MAY_IMPORT_TUI = {
    Path("benchmarks/dashboard.py"),
    Path("benchmarks/graph_screen.py"),
    Path("benchmarks/layout_candidates.py"),
}


def test_nothing_outside_tui_and_tests_imports_tui():
    files = [p for p in _outside_tui_and_tests() if p.relative_to(REPO) not in MAY_IMPORT_TUI]
    assert any(p.relative_to(REPO).parts[0] == "engine" for p in files)
    for path in files:
        modules = imported_modules(path.read_text(encoding="utf-8"), path.parent.name)
        assert "tui" not in modules, f"{path.relative_to(REPO)} imports tui"


@pytest.mark.parametrize("package", ["engine", "datasets"])
def test_packages_import_cleanly_without_tui(package):
    """Importing engine or datasets alone loads neither tui nor the other package."""
    others = {"engine", "datasets", "tui"} - {package}
    script = (
        f"import sys, {package}\n"
        f"loaded = sorted(m for m in {sorted(others)!r} if m in sys.modules)\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == "[]"


def _test_modules(folder: str) -> dict[str, set[str]]:
    """Every module (dotted, in full) that each Python file under tests/folder imports."""
    found = {}
    for path in python_files(REPO / "tests" / folder):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


@pytest.mark.parametrize("folder", ["engine", "datasets"])
def test_engine_and_datasets_tests_do_not_import_tui(folder):
    """What engine/ and datasets/ do is tested without the app, as DESIGN.md draws them."""
    files = _test_modules(folder)
    assert files
    for path, modules in files.items():
        assert not {m for m in modules if m.split(".")[0] == "tui"}, path


def test_tests_share_code_only_through_tests_support():
    """A test module never imports another test module or a conftest: shared code lives in
    tests/support, which plain ``pytest`` finds as well as ``python -m pytest``."""
    for path, modules in _test_modules("").items():
        ours = {m for m in modules if m.split(".")[0] == "tests"}
        strays = {m for m in ours if not m.startswith("tests.support")}
        assert not strays, f"{path} imports {sorted(strays)}"
