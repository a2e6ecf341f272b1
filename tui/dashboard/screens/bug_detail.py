"""One bug up close: the buggy line beside the correct one, and the real code it lives in."""

from __future__ import annotations

import importlib
import inspect
from typing import ClassVar

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine import bugs
from engine.bugs import Bug
from tui.cli.demos import DEMOS

THEME = "monokai"


def source_of(bug: Bug) -> tuple[str, int, list[int]] | None:
    """The function the bug is injected in: its source, first line, and the lines naming the bug."""
    path, _, qualname = bug.where.partition(" · ")
    module_name = path.removesuffix(".py").replace("/", ".")
    try:
        target = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        lines, first = inspect.getsourcelines(target)
    except (ImportError, AttributeError, OSError, TypeError):
        return None
    constant = next(name for name in dir(bugs) if getattr(bugs, name) == bug.id and name.isupper())
    checks = [i for i, line in enumerate(lines) if constant in line]
    statements = [
        i
        for i, line in enumerate(lines)
        if any(code and code in line.split("#")[0] for code in (bug.buggy_line, bug.correct_line))
    ]
    if not statements:  # mark the statement each check guards
        statements = [i + 1 for i in checks]
    return "".join(lines), first, sorted({first + i for i in checks + statements})


def bug_detail(bug: Bug, on: bool) -> Group:
    side = Table.grid(padding=(0, 2), expand=True)
    side.add_column(ratio=1)
    side.add_column(ratio=1)
    side.add_row(Text("the mistake", style="bold red"), Text("correct", style="bold green"))
    side.add_row(
        Syntax(bug.buggy_line, "python", theme=THEME, word_wrap=True),
        Syntax(bug.correct_line, "python", theme=THEME, word_wrap=True),
    )
    parts = [
        Text.assemble(
            (bug.title, "bold"),
            "  ",
            ("ON" if on else "off", "bold white on #b00020" if on else "dim reverse"),
        ),
        Text(f"where: {bug.where}", style="dim"),
        Text(""),
        side,
        Text(""),
        Text.assemble(("What to look for: ", "bold"), bug.look_for),
        Text(""),
        Text.assemble(("Why: ", "bold"), bug.explanation),
        Text(""),
        Text.assemble((f"Demo (d) on {DEMOS[bug.id].dataset}: ", "bold"), DEMOS[bug.id].why),
    ]
    found = source_of(bug)
    if found is not None:
        code, first, marked = found
        parts += [
            Text(""),
            Text("Where it is injected in this engine (highlighted):", style="bold"),
            Syntax(
                code,
                "python",
                theme=THEME,
                line_numbers=True,
                start_line=first,
                highlight_lines=set(marked),
            ),
        ]
    return Group(*parts)


class BugDetailScreen(ModalScreen[None]):
    """The buggy line beside the correct line, what to look for, why, and the real code."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="bug-detail.close"),
        Binding("d", "demo", "Load its demo", id="bug-detail.demo"),
        # The bug's own number toggles it, as on the dashboard (t is the true gradient there).
        *(
            Binding(str(key), f"toggle('{bug.id}')", show=False, id=f"bug-detail.toggle-{key}")
            for key, bug in enumerate(bugs.CATALOGUE, start=1)
        ),
    ]

    def __init__(self, bug: Bug) -> None:
        super().__init__()
        self.bug = bug
        self.key = [b.id for b in bugs.CATALOGUE].index(bug.id) + 1

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="bug-detail") as body:
            body.border_title = (
                f"{self.bug.id} · {self.key} toggles it · d loads its demo · escape closes"
            )
            yield Static(id="bug-detail-body")

    def on_mount(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        on = self.bug.id in self.app.session.bugs  # type: ignore[attr-defined]
        self.query_one("#bug-detail-body", Static).update(bug_detail(self.bug, on))

    def action_toggle(self, bug_id: str) -> None:
        self.app.toggle_bug_by_id(bug_id)  # type: ignore[attr-defined]
        self._redraw()

    def action_demo(self) -> None:
        self.dismiss(None)
        self.app.action_demo(self.bug.id)  # type: ignore[attr-defined]

    def action_dismiss(self) -> None:
        self.dismiss(None)
