"""The dashboard fixture; helpers live in tests/support/pilot.py."""

from __future__ import annotations

import gc
import inspect

import pytest
from textual.notifications import Notification

from tests.support.pilot import make_app, settle_pilots, wait_for
from tui.dashboard.app import MicrogradApp
from tui.dashboard.widgets.boundary import DecisionBoundary


@pytest.fixture(autouse=True)
def unfrozen_after_each_test():
    """An app frozen at mount (``freeze_gc``) is collectable again once its test ends (by the
    collector's own later passes), so a worker's memory does not grow with every app it ran:
    205 MB at most for the whole of tests/tui under two workers."""
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def settled_pilots(monkeypatch) -> None:
    """A Pilot's key, click or pause returns once the app has handled it (see settle)."""
    settle_pilots(monkeypatch)


@pytest.fixture(autouse=True)
def lasting_notifications(monkeypatch) -> None:
    """Notices stay (in ``app._notifications``, and as toasts) however long a test takes.

    Textual drops a notice from that list once its timeout (2 to 10 s here) has passed by
    the wall clock, and a toast leaves on a timer set to the time left when it is shown, so
    on a loaded machine a test could look after its notice was gone. A test still sees the
    timeout the app asked for in ``notification.timeout``.
    """
    monkeypatch.setattr(Notification, "has_expired", property(lambda self: False))
    monkeypatch.setattr(Notification, "time_left", property(lambda self: 3600.0))


@pytest.fixture
def app() -> MicrogradApp:
    return make_app()


@pytest.fixture
def snap_compare(snap_compare):
    """pytest-textual-snapshot's ``snap_compare``, with every text cursor held steady.

    A focused Input or TextArea blinks its cursor every 0.5 s, so without this a
    snapshot drew the cursor or not with the machine's speed. The keys in ``press``
    are pressed first (they may open the screen that holds the input), then every
    widget that blinks stops, with its cursor shown, every toast is cleared, and
    every decision boundary has drawn the newest snapshot.
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
            # A toast leaves after its timeout by the wall clock: drawn or not with the
            # machine's speed. Snapshots show none.
            pilot.app.clear_notifications()
            # A decision boundary evaluates a newer grid after a wait and in a thread: the
            # snapshot waits for it, so it never shows an older step's picture.
            boundaries = pilot.app.query(DecisionBoundary)
            await wait_for(lambda: not any(pane.is_behind for pane in boundaries), pilot)
            await pilot.pause()

        return snap_compare(app, run_before=steady, **kwargs)

    return compare
