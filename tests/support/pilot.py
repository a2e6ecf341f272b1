"""Driving the dashboard and its dialogs in tests: fixed seeds, no timers, no wall-clock waits."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import textual.app
import textual.pilot
from textual._context import active_app
from textual.app import App, ScreenStackError
from textual.command import CommandList, CommandPalette

from tui.cli.config import PRESETS, RunConfig
from tui.dashboard.app import MicrogradApp
from tui.dashboard.screens.settings import RunSettingsScreen

SIZE = (120, 40)  # the dashboard's reference size


def make_app(dataset: str = "tutorial", bugs: tuple[str, ...] = (), **session) -> MicrogradApp:
    """The dashboard on a dataset's preset, with these session settings changed.

    Frozen from the cyclic collector once mounted, as ``micrograd-tui`` runs it: without
    that, the collector's full passes over every app a worker made took a third of the
    suite's CPU time. tests/tui/conftest.py lets it go again after each test."""
    config = RunConfig(dataset=dataset, session=replace(PRESETS[dataset], **session), bugs=bugs)
    return MicrogradApp(config, freeze_gc=True)


async def wait_for(predicate, pilot, timeout: float = 60.0) -> None:
    """Let the app run until ``predicate()`` holds; fail after ``timeout`` seconds.

    The timeout only turns a hang into a failure: no test passes or fails by how fast
    the machine is, because the loop ends as soon as the state is reached. It is long
    because a loaded machine (load 8 on 2 cores) runs a test several times slower.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


# -- letting the app settle -------------------------------------------------------------------
#
# After a key or a click, Textual's Pilot waits with ``textual._wait.wait_for_idle``: it sleeps
# 20 ms at a time until the process used under 1 ms of CPU in one of them. On a loaded machine
# a process that is waiting for a CPU looks idle too, so ``press`` could return while the key
# was still on its way from the app to the focused widget and back up to the binding (each hop
# is a message). ``settle`` waits instead for the app's own state: every message queue empty,
# the screen laid out and its after-refresh callbacks run, a resize passed on.

SETTLE_LIMIT = 30.0  # seconds: only turns an app that never goes quiet into a failure


def is_busy(app: App) -> bool:
    """Whether ``app`` has a message, a callback or a screen update still to process."""
    if app._resize_event is not None:  # a new terminal size, passed on after 1/120 s
        return True
    for node in (app, *app._registry):
        if node._message_queue.qsize() or node._next_callbacks or node._pending_message:
            return True
    try:
        screen = app.screen
    except ScreenStackError:  # no screen yet, or the app is closing
        return False
    return bool(
        screen._callbacks
        or (
            not app._batch_count
            and (
                screen._layout_required
                or screen._scroll_required
                or screen._repaint_required
                or screen._recompose_required
                or screen._dirty_widgets
            )
        )
    )


async def settle(app: App) -> None:
    """Return once ``app`` has processed everything it was sent (timers and threads aside).

    Quiet must hold over a few turns of the event loop, so that a callback scheduled with
    ``call_soon`` (a thread's message on its way in) is seen too. Waits while the app is
    busy, never for a fixed time; fails if it is still busy after ``SETTLE_LIMIT`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_LIMIT
    quiet_turns = 0
    while quiet_turns < 3:
        if not app.is_running or app._closing:
            return
        if is_busy(app):
            quiet_turns = 0
            assert loop.time() < deadline, "the app never went quiet"
            await asyncio.sleep(0.005)
        else:
            quiet_turns += 1
            await asyncio.sleep(0)


def settling(wait_for_idle):
    """Textual's ``wait_for_idle``, followed by ``settle`` on the running app."""

    async def wait_then_settle(*args, **kwargs) -> None:
        await wait_for_idle(*args, **kwargs)
        app = active_app.get(None)
        if app is not None:
            await settle(app)

    return wait_then_settle


def settle_pilots(monkeypatch) -> None:
    """Make every Pilot (tests' and snapshots') settle after each key, click and pause,
    and ``run_test`` settle before it hands the Pilot over."""
    for module in (textual.app, textual.pilot):
        monkeypatch.setattr(module, "wait_for_idle", settling(module.wait_for_idle))
    wait_for_screen = textual.pilot.Pilot._wait_for_screen

    async def wait_for_screen_then_settle(pilot, *args, **kwargs) -> bool:
        done = await wait_for_screen(pilot, *args, **kwargs)
        await settle(pilot.app)
        return done

    monkeypatch.setattr(textual.pilot.Pilot, "_wait_for_screen", wait_for_screen_then_settle)


def palette_ready(app: App) -> bool:
    """The command palette lists every hit for what was typed: its search has ended.

    The palette searches in a worker and shows hits in batches (one every 0.25 s), so
    before the search ends the list may hold some hits, and not yet the best one.
    """
    palette = app.screen
    if not isinstance(palette, CommandPalette):
        return False
    searching = [w for w in app.workers if w.node is palette and not w.is_finished]
    return not searching and palette.query_one(CommandList).option_count > 0


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
