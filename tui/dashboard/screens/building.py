"""Building a large run off the UI thread: what it is doing now, and escape to cancel.

``BuildingScreen(config)`` generates the data, draws the weights and compiles
the training step in a thread worker while the dashboard keeps drawing. It
returns the new ``TrainingSession``, an error message (str) if the run could
not be built, or None when cancelled: then the current run stays as it was.
A cancelled build stops at the next phase; nothing it made is kept.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import LoadingIndicator, Static
from textual.worker import get_current_worker

import datasets
from engine.training import budget
from engine.training.session import TrainingSession
from tui.cli.config import ConfigError, RunConfig


class _Cancelled(Exception):
    pass


def describe(config: RunConfig, samples: int, features: int) -> str:
    """ "MLP(2, [1000, 1000, 1]): 1,004,001 weights, 100 points"."""
    sizes = [*config.session.hidden, 1]
    weights = budget.parameter_count(features, config.session.hidden)
    return f"MLP({features}, {sizes}): {weights:,} weights, {samples:,} points"


class BuildingScreen(ModalScreen["TrainingSession | str | None"]):
    """Builds ``config``'s session in a worker; escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="building.cancel"),
    ]

    DEFAULT_CSS = """
    BuildingScreen {
        align: center middle;
    }
    #building {
        width: 60;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    #building LoadingIndicator {
        height: 3;
    }
    #building-hint {
        color: $text-muted;
    }
    """

    def __init__(self, config: RunConfig, what: str) -> None:
        super().__init__()
        self.config = config
        self.what = what
        self.phases: list[str] = []  # each phase as it starts (tests read it)

    def compose(self) -> ComposeResult:
        with Vertical(id="building") as box:
            box.border_title = "Building the run"
            yield Static(self.what, id="building-what")
            yield LoadingIndicator()
            yield Static("", id="building-phase")
            yield Static("escape cancels and keeps the current run", id="building-hint")

    def on_mount(self) -> None:
        self._build()

    def _show_phase(self, text: str) -> None:
        self.phases.append(text)
        self.query_one("#building-phase", Static).update(text)

    @work(thread=True, exclusive=True, group="building", exit_on_error=False)
    def _build(self) -> None:
        worker = get_current_worker()
        config = self.config

        def phase(text: str) -> None:
            if worker.is_cancelled:
                raise _Cancelled
            self.app.call_from_thread(self._show_phase, text)

        try:
            phase("generating the data…" if not config.data_path else "reading the data…")
            train, test = config.load_data()
            phase(f"drawing the weights of {describe(config, len(train), train.features)}…")
            held_out = (test.xs, test.ys) if test is not None else ((), ())
            session = TrainingSession(
                config.session, train.xs, train.ys, config.bugs, "fast", *held_out
            )
            phase("compiling the training step…")
            session.passes.compile()
            phase("ready")
            result: TrainingSession | str = session
        except _Cancelled:
            return
        except (ConfigError, datasets.DatasetError, ValueError) as err:
            result = str(err)
        if not worker.is_cancelled:
            self.app.call_from_thread(self.dismiss, result)

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "building")
        self.dismiss(None)
