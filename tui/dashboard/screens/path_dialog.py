"""A small modal that asks for a file path, prefilled, and checks it before closing."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.dashboard.screens.dialogs import EnterDialog


class ReplaceDialog(EnterDialog):
    """Asked before a file is replaced: Enter (or y) replaces it, Esc (or n) goes back."""


class PathDialog(ModalScreen[str | None]):
    """Enter (or the button) returns the path typed, ``~`` expanded; escape returns None.

    ``check(path)`` says why a path will not do (None if it will); the reason
    shows under the field and the dialog stays open to fix it. ``ask(path)`` is the
    question to answer before the path is taken (a file that would be replaced), or
    None; Enter answers yes, Esc goes back to the path.
    """

    DEFAULT_CSS = """
    PathDialog .path-error {
        color: $error;
        height: auto;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="path-dialog.cancel")
    ]

    def __init__(
        self,
        title: str,
        path: str,
        verb: str = "Save",
        check: Callable[[str], str | None] | None = None,
        ask: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.path = path
        self.verb = verb
        self.check = check
        self.ask = ask

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Input(self.path, placeholder="file name", id="path")
            yield Static("", classes="path-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.verb} (enter)", variant="primary", id="accept")
                yield Button("Cancel (esc)", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "accept":
            self._accept()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _accept(self) -> None:
        path = os.path.expanduser(self.query_one(Input).value.strip())
        problem = "Type a file name." if not path else self.check(path) if self.check else None
        if problem:
            self.query_one(".path-error", Static).update(problem)
            return
        question = self.ask(path) if self.ask else None
        if question is None:
            self.dismiss(path)
            return

        def answered(replace: bool | None) -> None:
            if replace:
                self.dismiss(path)
            else:
                self.query_one(".path-error", Static).update("Kept the file; choose another name.")
                self.query_one(Input).focus()

        self.app.push_screen(ReplaceDialog(question, yes="Replace"), answered)
