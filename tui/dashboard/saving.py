"""The saving room: the dashboard's save and export keys (files via ``tui/cli/saved_run.py``).

``ctrl+s`` asks where to save (prefilled with the last path used, at first
``micrograd-run.json`` in the current directory) and writes the whole session,
atomically; ``micrograd-tui --load FILE`` opens it again. ``ctrl+e`` writes the
loss history as CSV the same way, ``ctrl+d`` the run's points (drawn ones
included) as CSV for ``--data FILE``, and ``p`` the run as a PyTorch script that
continues it (``tui/cli/torch_export.py``). All work while training runs: the
session copies its state under its lock, so a file holds one consistent step.
Whatever goes wrong is a notification; the run on screen is never touched.

In a browser (``micrograd-tui serve``) each file is also offered as a
download, since the learner cannot reach the server's disk.
"""

from __future__ import annotations

import os

from textual.app import App

from tui.cli.saved_run import (
    DEFAULT_DATA_PATH,
    DEFAULT_HISTORY_PATH,
    DEFAULT_SESSION_PATH,
    DEFAULT_TORCH_PATH,
    SessionFileError,
    check_writable,
    export_data,
    export_history,
    export_torch,
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
        # Prefilled in the dialogs: the last path used for each kind of file.
        self.save_path = DEFAULT_SESSION_PATH
        self.history_path = DEFAULT_HISTORY_PATH
        self.torch_path = DEFAULT_TORCH_PATH
        self.points_path = DEFAULT_DATA_PATH

    def save_session(self) -> None:
        """Ask where to save the run, then save it."""
        self.app.push_screen(
            PathDialog("Save the run to", self.save_path, "Save", _check_file),
            self._save_chosen,
        )

    def export_history(self) -> None:
        """Ask where to write the loss history as CSV, then write it."""
        self.app.push_screen(
            PathDialog(
                "Export the loss history (CSV) to", self.history_path, "Export", _check_file
            ),
            self._export_chosen,
        )

    def export_data(self) -> None:
        """Ask where to write the run's points as CSV, then write them."""
        self.app.push_screen(
            PathDialog(
                "Export the points (CSV, for --data) to", self.points_path, "Export", _check_file
            ),
            self._data_chosen,
        )

    def _data_chosen(self, path: str | None) -> None:
        if path:
            self.export_data_to(path)

    def export_data_to(self, path: str) -> bool:
        """Write the run's points to ``path`` as CSV and say where; on failure say why."""
        result = self._attempt(
            "Could not export the points",
            lambda: export_data(path, self.app.session, allow_stdout=False),
        )
        if result is None:
            return False
        written, n_train, n_test = result
        self.points_path = path
        self._offer_download(written)
        test = f" and {n_test} test points after them" if n_test else ""
        self.app.notify(
            f"{n_train} training points{test} written to {written}. "
            f"Train on them: micrograd-tui --data {path}",
            title="Points exported",
            timeout=6,
        )
        return True

    def export_torch(self) -> None:
        """Ask where to write the run as a PyTorch script, then write it."""
        self.app.push_screen(
            PathDialog(
                "Export the run as a PyTorch script to", self.torch_path, "Export", check_writable
            ),
            self._torch_chosen,
        )

    def _torch_chosen(self, path: str | None) -> None:
        if path:
            self.export_torch_to(path)

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
            self.app.notify(str(err), title=title, severity="error", timeout=8)
        except Exception as err:  # noqa: BLE001 - report it, keep the run
            self.app.notify(
                f"{type(err).__name__}: {err}", title=title, severity="error", timeout=8
            )
        return None

    def _offer_download(self, written: str) -> None:
        """In a browser, send the file just written as a download too (not a device or pipe)."""
        if self.app.is_web and os.path.isfile(written):
            self.app.deliver_binary(written)

    def _save_chosen(self, path: str | None) -> None:
        if path:
            self.save_session_to(path)

    def _export_chosen(self, path: str | None) -> None:
        if path:
            self.export_history_to(path)

    def save_session_to(self, path: str) -> bool:
        """Save the run to ``path`` and say where; on failure say why. True if saved."""
        result = self._attempt(
            "Could not save the run",
            lambda: save_run(path, self.app.session, self.app.run_config, allow_stdout=False),
        )
        if result is None:
            return False
        written, step = result
        self.save_path = path
        self._offer_download(written)
        # A device or a pipe holds no file to open again.
        reopen = f" Open it with: micrograd-tui --load {path}" if os.path.isfile(written) else ""
        self.app.notify(f"Step {step} saved to {written}.{reopen}", title="Run saved", timeout=6)
        return True

    def export_history_to(self, path: str) -> bool:
        """Write the loss history to ``path`` as CSV and say where; on failure say why."""
        written = self._attempt(
            "Could not export the history",
            lambda: export_history(path, self.app.session, allow_stdout=False),
        )
        if written is None:
            return False
        self.history_path = path
        self._offer_download(written)
        self.app.notify(f"Loss history written to {written}.", title="History exported", timeout=6)
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
        self.torch_path = path
        self._offer_download(written)
        note = bug_note(self.app.session.snapshot())
        self.app.notify(
            f"Step {step} written to {written}. Run it: python {path} --steps 100"
            + (f"\nNote: {note}." if note else ""),
            title="Exported to PyTorch",
            timeout=10 if note else 6,
        )
        return True
