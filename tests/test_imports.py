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


# -- the module graph: no cycle, even through an import inside a function --------------

OUR_PACKAGES = ("engine", "datasets", "tui")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_graph() -> dict[str, set[str]]:
    """Each of our modules -> the modules of ours it imports, anywhere in its text.

    ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``.
    A package's ``__init__`` running before its submodule is Python's doing, not an edge.
    """
    modules = {
        _module_name(path): path
        for package in OUR_PACKAGES
        for path in python_files(REPO / package)
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_even_inside_functions():
    graph = module_graph()
    assert {"engine.value", "engine.training.session", "tui.main", "tui.cli.serve"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


LECTURE_CORE = ("engine.value", "engine.nn", "engine.losses", "engine.optim", "engine.bugs")


def test_the_lecture_core_imports_only_itself():
    """value, nn, losses, optim and bugs read alone: nothing of training, files, inspection or
    the fast path."""
    graph = module_graph()
    for name in LECTURE_CORE:
        outside = {m for m in graph[name] if m not in LECTURE_CORE and m != "engine"}
        assert not outside, f"{name} imports {sorted(outside)}"


@pytest.mark.parametrize("package", ["tui/cli", "tui/graphview"])
def test_headless_packages_import_no_textual_and_no_dashboard(package):
    graph = module_graph()
    for path in python_files(REPO / package):
        text = path.read_text(encoding="utf-8")
        modules = imported_modules(text, "tui")
        assert not modules & {"textual", "textual_plotext", "plotext"}, path
        dotted = graph[_module_name(path)]
        assert not {m for m in dotted if m.startswith(("tui.dashboard", "tui.main"))}, path
