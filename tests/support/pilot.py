"""Driving the dashboard and its dialogs in tests: fixed seeds, no timers, no wall-clock waits."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.app import App

from tui.app import MicrogradApp
from tui.config import PRESETS, RunConfig
from tui.screens.settings import RunSettingsScreen

SIZE = (120, 40)  # the dashboard's reference size


def make_app(dataset: str = "tutorial", bugs: tuple[str, ...] = (), **session) -> MicrogradApp:
    """The dashboard on a dataset's preset, with these session settings changed."""
    config = RunConfig(dataset=dataset, session=replace(PRESETS[dataset], **session), bugs=bugs)
    return MicrogradApp(config)


async def wait_for(predicate, pilot, timeout: float = 10.0) -> None:
    """Let the app run until ``predicate()`` holds; fail after ``timeout`` seconds.

    The timeout only turns a hang into a failure: no test passes or fails by how fast
    the machine is, because the loop ends as soon as the state is reached.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


class SettingsApp(App[None]):
    """Opens the run-settings dialog at once and keeps what it returns."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.config = config
        self.results: list[RunConfig | None] = []

    def on_mount(self) -> None:
        self.push_screen(RunSettingsScreen(self.config), self.results.append)


def shown_error(app: App) -> str:
    """The settings dialog's error line ("" when none is shown)."""
    message = app.screen.query_one("#settings-error")
    return "" if message.has_class("-empty") else str(message.render())
