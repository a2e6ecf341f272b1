"""One toggle per bug in the engine's catalogue, with what to look for."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from engine.bugs import CATALOGUE, Bug
from engine.training.records import Snapshot
from tui.dashboard import actions
from tui.dashboard.widgets.pane import Pane


class BugToggle(Static, can_focus=True):
    """A clickable line: key, on/off, title, and one sentence of symptoms.

    Focused (tab), enter switches it and w opens its "why?".
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "toggle", "Switch", id="bug-toggle.switch"),
        Binding("w", "why", "Why?", id="bug-toggle.why"),
    ]

    class Toggled(Message):
        def __init__(self, bug_id: str) -> None:
            super().__init__()
            self.bug_id = bug_id

    def __init__(self, key: int, bug: Bug) -> None:
        super().__init__(id=f"bug-{bug.id}", classes="bug-toggle")
        self.key = key
        self.bug = bug
        self.on_state = False
        self.compact = False  # one line when off, when the pane is short
        self.terse = False  # one line even when on, when it is very short
        self.tooltip = (
            f"{bug.title}\n\n{bug.explanation}\n\n"
            f"buggy:   {bug.buggy_line}\ncorrect: {bug.correct_line}"
        )

    def set_on(self, on: bool) -> None:
        self.on_state = on
        self.set_class(on, "-on")
        self.redraw()

    def set_compact(self, compact: bool, terse: bool = False) -> None:
        if (compact, terse) != (self.compact, self.terse):
            self.compact, self.terse = compact, terse
            self.redraw()

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.update(self._content())

    def _content(self) -> Table:
        switch = Text(f"{self.key} ", style="bold")
        if self.on_state:
            switch.append(" ON  ", style="bold white on #b00020")
        else:
            switch.append(" off ", style="dim reverse")
        about = Text(self.bug.id, style="bold")
        about.append(" ")
        about.append(
            "why?",
            style=Style(
                underline=True, color="#7aa2f7", meta={"@click": f"app.bug_detail('{self.bug.id}')"}
            ),
        )
        about.append(" ")
        if self.terse or (
            self.compact and not self.on_state
        ):  # a bug that is on keeps its look-for if it can
            about.no_wrap = True
            about.overflow = "ellipsis"
            about.append(self.bug.title, style="" if self.on_state else "dim")
        else:
            about.append(f"{self.bug.title}\n", style="" if self.on_state else "dim")
            about.append(self.bug.look_for, style="italic" if self.on_state else "italic dim")
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=7, no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row(switch, about)
        return grid

    def action_toggle(self) -> None:
        self.post_message(self.Toggled(self.bug.id))

    def action_why(self) -> None:
        self.app.action_bug_detail(self.bug.id)  # type: ignore[attr-defined]

    def on_click(self, event: events.Click) -> None:
        if event.style.meta.get("@click"):  # the "why?" link opens the detail instead
            return
        self.post_message(self.Toggled(self.bug.id))


class BugToggles(Pane, VerticalScroll):
    """The bug catalogue as switches: keys 1, 2, … in catalogue order."""

    BINDINGS: ClassVar[list[BindingType]] = list(actions.TRAVEL_KEYS)

    BORDER_TITLE = "Bugs"
    HELP_TITLE = "Bugs"
    HELP = (
        "The classic mistakes, injected at the line where a person would write them. "
        "Press the number (or click, or enter on a focused one) to switch one on; it takes "
        "effect at the next step. why? (w when focused) opens the buggy line beside the "
        "correct one, and the engine code it lives in; there d loads the bug's demo, the "
        "run where its harm is plainest within 30 steps, with the clean twin. While a bug "
        "is on, the symptom line above the status bar names, in the last step's numbers, "
        "the stage of the step that went wrong."
    )
    # Heights of the column it shares with one other pane, below which it shortens:
    FULL_HEIGHT = 40  # under this, a bug that is off takes one line (one that is on keeps two)
    TERSE_HEIGHT = 16  # under this, every bug takes one line

    def compose(self) -> ComposeResult:
        for key, bug in enumerate(CATALOGUE, start=1):
            yield BugToggle(key, bug)

    def set_compact(self, compact: bool, terse: bool = False) -> None:
        """One line per bug that is off (the ones on keep their look-for sentence unless terse)."""
        for toggle in self.query(BugToggle):
            toggle.set_compact(compact, terse)

    def fit(self, column_height: int) -> None:
        """Full sentences only when the column (``column_height`` rows) has room for them."""
        terse = column_height < self.TERSE_HEIGHT
        self.set_compact(column_height < self.FULL_HEIGHT, terse=terse)
        # Terse, every bug is one line and all of them show: the pane below gives way.
        self.set_class(terse, "-terse")

    @property
    def terse_height(self) -> int:
        """Rows the list takes with one line a bug, borders included."""
        return len(CATALOGUE) + 2

    def mark_answer(self, answer: str | None) -> None:
        """A quiz round's answer sheet: the chosen bug's row marked (none for "no bug")."""
        for toggle in self.query(BugToggle):
            toggle.set_class(toggle.bug.id == answer, "-answer")

    def show(self, snapshot: Snapshot) -> None:
        """Each switch as the snapshot's bugs are."""
        active = snapshot.bugs
        for toggle in self.query(BugToggle):
            if toggle.on_state != (toggle.bug.id in active):
                toggle.set_on(toggle.bug.id in active)
        self.border_subtitle = f"{len(active)} on" if active else "all off: clean training"
