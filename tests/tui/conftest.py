"""The dashboard fixture; helpers live in tests/support/pilot.py."""

from __future__ import annotations

import inspect

import pytest

from tests.support.pilot import make_app
from tui.app import MicrogradApp


@pytest.fixture
def app() -> MicrogradApp:
    return make_app()


@pytest.fixture
def snap_compare(snap_compare):
    """pytest-textual-snapshot's ``snap_compare``, with every text cursor held steady.

    A focused Input or TextArea blinks its cursor every 0.5 s, so without this a
    snapshot drew the cursor or not with the machine's speed. The keys in ``press``
    are pressed first (they may open the screen that holds the input), then every
    widget that blinks stops, with its cursor shown.
    """

    def compare(app, press=(), *, run_before=None, **kwargs):
        async def steady(pilot) -> None:
            if run_before is not None:
                result = run_before(pilot)
                if inspect.isawaitable(result):
                    await result
            await pilot.press(*press)
            for screen in pilot.app.screen_stack:
                for widget in screen.query("*"):
                    if hasattr(widget, "cursor_blink"):
                        widget.cursor_blink = False
            await pilot.pause()

        return snap_compare(app, run_before=steady, **kwargs)

    return compare
