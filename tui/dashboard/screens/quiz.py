"""Diagnose it's screens: the reveal after each answer, the score at the end."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class RevealScreen(ModalScreen[None]):
    """Right or wrong, what was hidden and why; n or enter for the next round."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,enter,escape", "next", "Next round", id="reveal.next"),
        Binding("w", "why", "Why?", id="reveal.why"),
    ]

    def __init__(self, text: Text, bug_id: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.bug_id = bug_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Diagnose it: the answer"
            yield Static(self.text, classes="dialog-message")

    def action_next(self) -> None:
        self.dismiss(None)

    def action_why(self) -> None:
        if self.bug_id is not None:
            self.app.action_bug_detail(self.bug_id)  # type: ignore[attr-defined]


class SummaryScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Back to training", id="summary.close")
    ]

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Diagnose it: the score"
            yield Static(self.text, classes="dialog-message")

    def action_close(self) -> None:
        self.dismiss(None)
