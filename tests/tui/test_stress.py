"""Hammering the dashboard: random actions while training runs never break it.

Actions are run straight through ``App.run_action`` (Pilot.press waits for the
CPU to go idle, which never happens while training runs at full speed).
"""

from __future__ import annotations

import asyncio
import random

from textual.events import Resize
from textual.geometry import Size

from tests.support.pilot import make_app, wait_for
from tui.dashboard.screens.dialogs import ErrorDialog
from tui.dashboard.travel import BranchDialog

ACTIONS = [
    "step",
    "toggle_run",
    "reset",
    "lr(0.5)",
    "lr(2.0)",
    *(f"toggle_bug({i})" for i in range(1, 7)),
    "cycle_speed",
    "toggle_log",
    "help",
    "close_help",
    "travel(-1)",
    "travel(-10)",
    "travel(1)",
    "travel_start",
    "travel_present",
    "branch",
]
SIZES = [(120, 40), (80, 24), (100, 30), (70, 20)]


async def test_500_random_actions_while_training() -> None:
    rng = random.Random(1234)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        parameter_count = len(app.session.snapshot().parameters)
        last_step = highest = 0
        ghost = None
        await app.run_action("toggle_run")
        # Training really runs before the hammering starts: how many steps it takes while
        # the actions pour in depends on the machine's load, so no assertion counts them.
        await wait_for(lambda: app.session.step_count > 0, pilot)
        for i in range(500):
            if rng.random() < 0.05:
                size = Size(*rng.choice(SIZES))
                app._driver._size = (
                    size  # what Pilot.resize_terminal does, without waiting for idle
                )
                app.post_message(Resize(size, size))
            else:
                action = rng.choice(ACTIONS)
                if action == "close_help":
                    if app.screen is not app.screen_stack[0]:
                        app.pop_screen()
                elif action == "branch":  # yes to "continue from step N?", when it is asked
                    if isinstance(app.screen, BranchDialog):
                        app.screen.action_answer(True)
                elif app.screen is app.screen_stack[0] or action == "help":
                    await app.run_action(action)
                if action == "reset":
                    last_step, ghost = 0, None  # highest stays: a stale answer may branch
            await asyncio.sleep(0.002)
            assert not isinstance(app.screen, ErrorDialog), f"action {i}: {app.screen.message}"
            snap = app.session.snapshot()
            if snap.ghost is not ghost:  # a branch: the run went back to one of its steps
                ghost = snap.ghost
                assert ghost.branch_step < ghost.last_step <= highest, f"action {i}: {ghost}"
                last_step = ghost.branch_step
            assert snap.step >= last_step, f"action {i}: step went from {last_step} to {snap.step}"
            last_step = snap.step
            highest = max(highest, app.session.step_count)
            assert len(snap.parameters) == parameter_count
        if app.running:
            await app.run_action("toggle_run")
        await app.workers.wait_for_complete()
        while app.screen is not app.screen_stack[0]:
            app.pop_screen()
        await pilot.resize_terminal(120, 40)
        assert not [w for w in app.workers if w.error is not None]
        app.refresh_panes()
        await pilot.pause()
        svg = app.export_screenshot()
        assert "Weights" in svg and "Gradients" in svg
