"""The time-travel room: a cursor over the run's past steps, and branching from one.

``<`` and ``>`` move the cursor a step, ``{`` and ``}`` ten, ``home`` to the start and
``end`` back to the present; a click on the loss plot goes to that step. While the cursor
is on a past step every pane draws ``TrainingSession.view(step)``: the run exactly as it
was then (``engine/training/timeline.py``). Anything that would change the run there (a
step, run, a bug, the learning rate, a drawn point) first asks to branch: "continue from
step 40?", and the steps after it stay on the loss plot as a ghost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App

from engine.training.records import Snapshot
from engine.training.session import SessionDiverged
from tui.dashboard.screens.dialogs import EnterDialog


class BranchDialog(EnterDialog):
    """Asked before a change at a past step: Enter (or y) branches there, Esc goes back."""


class TimeTravel:
    """The cursor of ``app`` (``app.session``): None while it shows the present."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.cursor: int | None = None
        self._view: Snapshot | None = None  # the cursor's snapshot, kept while it stays
        self._session = app.session  # the run the cursor is in
        self.branching = False  # a branch is being made (in a thread)

    @property
    def viewing(self) -> bool:
        return self.cursor is not None

    def snapshot(self) -> Snapshot | None:
        """The past step the cursor is on (None at the present)."""
        if self.cursor is None:
            return None
        session = self.app.session
        if session is not self._session or not (
            session.earliest_step <= self.cursor < session.step_count
        ):
            self.forget()  # another run, or this one reset: the cursor's step is gone
            return None
        view = self._view
        if view is None or view.step != self.cursor or view.present != session.step_count:
            self._view = self.app.session.view(self.cursor)
        return self._view

    def forget(self) -> None:
        """Back to the present without a word: the run was reset or replaced."""
        self.cursor = None
        self._view = None

    # -- moving ------------------------------------------------------------------------

    def move(self, steps: int) -> None:
        """The cursor ``steps`` steps later (earlier when negative), within the run."""
        session = self.app.session
        now = session.step_count
        here = now if self.cursor is None else self.cursor
        self.go(min(now, max(session.earliest_step, here + steps)), said=here + steps)

    def go(self, step: int, said: int | None = None) -> None:
        """The cursor on ``step`` (the present when it is the run's step now).

        ``said``: the step asked for, when it was past either end (then the message says
        where the run ends).
        """
        app = self.app
        if self.branching:
            app.notify("Still branching: a moment.", timeout=2)
            return
        if app.running:
            app.trainer.stop()  # looking back pauses the run
        session = app.session
        now, first = session.step_count, session.earliest_step
        if not now:
            app.notify("No steps yet: press space to take one.", timeout=3)
            return
        if said is not None and said != step:
            if said > now and self.cursor is None:
                app.notify(f"Step {now} is the present: there is no later step.", timeout=3)
                return
            if said < first and self.cursor == first:
                where = "the run's first step" if not first else "the earliest step this file keeps"
                app.notify(f"Step {first} is {where}.", timeout=3)
                return
        self._view = None
        self._session = session
        if step != now:
            try:
                self._view = session.view(step)
            except (ValueError, LookupError, SessionDiverged) as err:
                # A hand-edited file whose past does not replay as its history says.
                app.notify(f"Step {step} cannot be rebuilt: {err}", severity="error")
                return
        self.cursor = None if step == now else step
        if self.cursor is None:
            app.notify(f"Back at the present, step {now}.", timeout=2)
        app.refresh_panes()

    def to_present(self) -> None:
        if self.cursor is None:
            self.app.notify("Already at the present.", timeout=2)
            return
        self.go(self.app.session.step_count)

    # -- branching ---------------------------------------------------------------------

    def then(self, what: str, change: Callable[[], None]) -> None:
        """Make ``change`` (``what``: "step", "switch exploding-grad on", ...): now at the
        present; at a past step after asking to branch there, and only if the answer is yes."""
        step = self.cursor
        if self.branching:
            self.app.notify("Still branching: a moment.", timeout=2)
            return
        if step is None:
            change()
            return
        session = self.app.session
        later = session.step_count - step

        def answered(branch: bool | None) -> None:
            if not branch:
                self.app.notify(f"Nothing changed: still viewing step {step}.", timeout=3)
                return
            self.branching = True
            self.app.run_worker(branched(), group="branch", exclusive=True, exit_on_error=False)

        async def branched() -> None:
            # Off the UI thread: a branch deep into a long run replays the history rows it
            # keeps (about 1.5 s at step 5,000 of moons); the app keeps answering meanwhile.
            try:
                await asyncio.to_thread(session.rewind, step)
            finally:
                self.branching = False
            self.forget()
            self.app.notify(
                f"Continued from step {step}: the later {later} steps are the grey ghost "
                "on the loss plot.",
                timeout=4,
            )
            change()
            self.app.refresh_panes()

        steps = "step" if later == 1 else f"{later} steps"
        self.app.push_screen(
            BranchDialog(
                f"You are viewing step {step} of {session.step_count}. {what.capitalize()} "
                f"here and continue from step {step}?\nThe later {steps} are kept as a ghost "
                "curve on the loss plot until a reset.",
                yes="Branch",
            ),
            answered,
        )
