"""The saving room: the dashboard's save and export keys (files via ``tui/cli/saved_run.py``).

``ctrl+s`` asks where to save (prefilled with the last path used, at first
``micrograd-run.json`` in the current directory) and writes the whole session,
atomically; ``micrograd-tui --load FILE`` opens it again. ``ctrl+e`` writes the
loss history as CSV the same way, ``ctrl+d`` the run's points (drawn ones
included) as CSV for ``--data FILE``, and ``p`` the run as a PyTorch script that
continues it (``tui/cli/torch_export.py``). A file already there is replaced only once
the learner says so (one not written by micrograd-tui with a plainer warning). All work
while training runs: the session copies its state under its lock, so a file holds one
consistent step. Whatever goes wrong is a notification; the run on screen is never touched.

Served (``micrograd-tui serve``), a tab asks for no path: each file is written into the
tab's own folder under its usual name (``tui/cli/classroom.py``) and offered as a
download, and no message names a folder of the server.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from textual.app import App

from tui.cli import classroom
from tui.cli.saved_run import (
    DATA,
    DEFAULT_DATA_PATH,
    DEFAULT_HISTORY_PATH,
    DEFAULT_SESSION_PATH,
    DEFAULT_TORCH_PATH,
    HISTORY,
    SESSION,
    TORCH,
    SessionFileError,
    check_writable,
    export_data,
    export_history,
    export_torch,
    replace_question,
    save_run,
)
from tui.dashboard.screens.path_dialog import PathDialog


def _check_file(path: str) -> str | None:
    """Why the dashboard cannot write ``path``: standard output is the dashboard's own screen."""
    return check_writable(path, allow_stdout=False)


class Saving:
    """Saves ``app.session`` (with ``app.run_config``) and exports it, asking where first."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.served = classroom.served()
        # Prefilled in the dialogs: the last path used for each kind of file.
        self.save_path = DEFAULT_SESSION_PATH
        self.history_path = DEFAULT_HISTORY_PATH
        self.torch_path = DEFAULT_TORCH_PATH
        self.points_path = DEFAULT_DATA_PATH

    # -- the keys: where to write ------------------------------------------------------

    def _choose(
        self, title: str, path: str, verb: str, kind: str, then: Callable[[str], bool]
    ) -> None:
        """Ask for a path (asking again before replacing a file), then ``then(path)``;
        served, the tab's own file of that name, at once."""
        if self.served:
            then(classroom.in_tab_folder(path))
            return
        check = check_writable if kind == TORCH else _check_file
        dialog = PathDialog(title, path, verb, check, ask=partial(replace_question, kind=kind))
        self.app.push_screen(dialog, lambda chosen: chosen and then(chosen))

    def save_session(self) -> None:
        self._choose("Save the run to", self.save_path, "Save", SESSION, self.save_session_to)

    def export_history(self) -> None:
        self._choose(
            "Export the loss history (CSV) to",
            self.history_path,
            "Export",
            HISTORY,
            self.export_history_to,
        )

    def export_data(self) -> None:
        self._choose(
            "Export the points (CSV, for --data) to",
            self.points_path,
            "Export",
            DATA,
            self.export_data_to,
        )

    def export_torch(self) -> None:
        self._choose(
            "Export the run as a PyTorch script to",
            self.torch_path,
            "Export",
            TORCH,
            self.export_torch_to,
        )

    # -- writing -----------------------------------------------------------------------

    def _attempt(
        self, title: str, write, expected: tuple[type[Exception], ...] = (SessionFileError,)
    ):
        """``write()``'s result, or None after a notification titled ``title`` says why.

        An ``expected`` error says it in its own words; anything else by its type.
        A failed write never costs the run it writes.
        """
        try:
            return write()
        except expected as err:
            message = str(err)
        except Exception as err:  # noqa: BLE001 - report it, keep the run
            message = f"{type(err).__name__}: {err}"
        if self.served:  # name the file, never the server's folder
            message = message.replace(classroom.tab_folder() + os.sep, "")
        self.app.notify(message, title=title, severity="error", timeout=8)
        return None

    def _where(self, written: str) -> str:
        """How a message names the file written: its path, or served, its download."""
        if self.served:
            return f"{os.path.basename(written)}, sent to your browser as a download"
        return written

    def _offer_download(self, written: str) -> None:
        """In a browser, send the file just written as a download too (not a device or pipe)."""
        if self.app.is_web and os.path.isfile(written):
            self.app.deliver_binary(written)

    def save_session_to(self, path: str) -> bool:
        """Save the run to ``path`` and say where; on failure say why. True if saved."""
        result = self._attempt(
            "Could not save the run",
            lambda: save_run(path, self.app.session, self.app.run_config, allow_stdout=False),
        )
        if result is None:
            return False
        written, step = result
        self.save_path = os.path.basename(path) if self.served else path
        self._offer_download(written)
        # A device or a pipe holds no file to open again.
        reopen = ""
        if os.path.isfile(written) and not self.served:
            reopen = f" Open it with: micrograd-tui --load {path}"
        viewing = self.app.travel.cursor
        past = "" if viewing is None else f" (the run's present; you are viewing step {viewing})"
        self.app.notify(
            f"Step {step}{past} saved to {self._where(written)}.{reopen}",
            title="Run saved",
            timeout=6,
        )
        return True

    def export_history_to(self, path: str) -> bool:
        """Write the loss history to ``path`` as CSV and say where; on failure say why."""
        written = self._attempt(
            "Could not export the history",
            lambda: export_history(path, self.app.session, allow_stdout=False),
        )
        if written is None:
            return False
        self.history_path = os.path.basename(path) if self.served else path
        self._offer_download(written)
        self.app.notify(
            f"Loss history written to {self._where(written)}.",
            title="History exported",
            timeout=6,
        )
        return True

    def export_data_to(self, path: str) -> bool:
        """Write the run's points to ``path`` as CSV and say where; on failure say why."""
        result = self._attempt(
            "Could not export the points",
            lambda: export_data(path, self.app.session, allow_stdout=False),
        )
        if result is None:
            return False
        written, n_train, n_test = result
        self.points_path = os.path.basename(path) if self.served else path
        self._offer_download(written)
        test = f" and {n_test} test points after them" if n_test else ""
        name = os.path.basename(path) if self.served else path
        self.app.notify(
            f"{n_train} training points{test} written to {self._where(written)}. "
            f"Train on them: micrograd-tui --data {name}",
            title="Points exported",
            timeout=6,
        )
        return True

    def export_torch_to(self, path: str) -> bool:
        """Write the run as a PyTorch script to ``path`` and say so; on failure say why."""
        from tui.cli.torch_export import ExportRefused, bug_note

        result = self._attempt(
            "Could not export to PyTorch",
            lambda: export_torch(path, self.app.session, "the dashboard"),
            expected=(ExportRefused, SessionFileError),
        )
        if result is None:
            return False
        written, step = result
        self.torch_path = os.path.basename(path) if self.served else path
        self._offer_download(written)
        note = bug_note(self.app.session.snapshot())
        name = os.path.basename(path) if self.served else path
        self.app.notify(
            f"Step {step} written to {self._where(written)}. Run it: python {name} --steps 100"
            + (f"\nNote: {note}." if note else ""),
            title="Exported to PyTorch",
            timeout=10 if note else 6,
        )
        return True
