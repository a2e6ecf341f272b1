"""The training room: one thread worker that steps the session, and its pace.

The worker posts a coalescing ``TrainingProgress`` at most ~15 times a second and waits
(up to ``FRAME_WAIT``) for each frame to be drawn, so drawing never contends with it for
the interpreter lock; ``speed`` (steps a second, None for as fast as it goes) spaces the
steps. Widgets never touch the ``Value`` objects the worker is mutating: they draw
snapshots.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from textual.app import App
from textual.worker import get_current_worker

from engine.training.session import SessionDiverged
from tui.dashboard.messages import TrainingProgress, TrainingStopped
from tui.dashboard.pacing import DEFAULT_SPEED, FRAME_WAIT, SPEEDS, frame_pacer, speed_label

GROUP = "training"
LR_MIN, LR_MAX = 1e-6, 1e3  # the learning rates [ and ] reach


class Trainer:
    """Starts, paces and stops the training worker of ``app`` (``app.session``, ``app.running``)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.speed: float | None = DEFAULT_SPEED
        self.steps_per_s: float | None = None
        self._stop = threading.Event()
        self._frame_done = threading.Event()  # set by the UI once a frame is on screen
        self._frame = 0

    # -- the worker's thread ----------------------------------------------------------

    def _loop(self) -> None:
        app = self.app
        worker = get_current_worker()
        session = app.session
        recent: deque[float] = deque(maxlen=50)
        frames = frame_pacer()
        while not worker.is_cancelled and not self._stop.is_set():
            started = time.monotonic()
            try:
                result = session.step()
            except SessionDiverged as err:
                app.post_message(TrainingStopped(str(err)))
                return
            recent.append(time.monotonic())
            if result.diverged:
                app.post_message(TrainingStopped(session.diverged_reason))
                return
            if not frames.wait():
                rate = (
                    (len(recent) - 1) / (recent[-1] - recent[0])
                    if len(recent) > 1 and recent[-1] > recent[0]
                    else None
                )
                posted = time.monotonic()
                self._frame_done.clear()
                app.post_message(TrainingProgress(session, session.snapshot(), rate))
                # Let the UI thread draw this frame without sharing the interpreter lock:
                # it finishes sooner, so a key pressed meanwhile waits less.
                self._frame_done.wait(FRAME_WAIT)
                frames.done(posted)  # the next frame when waiting has cost ~FRAME_SHARE
            time.sleep(0)  # hand the interpreter lock to the UI thread if it is waiting for it
            speed = self.speed
            if speed is not None:
                # Wait for the next step's slot, waking at once on pause.
                self._stop.wait(max(0.0, started + 1 / speed - time.monotonic()))
        app.post_message(TrainingStopped(None))

    def _run_worker(self) -> None:
        self.app.run_worker(
            self._loop, thread=True, exclusive=True, group=GROUP, exit_on_error=False
        )

    # -- the UI thread ----------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self.app.running = True
        self._run_worker()

    def stop(self) -> None:
        self._stop.set()
        self._frame_done.set()
        self.app.workers.cancel_group(self.app, GROUP)
        self.app.running = False
        self.steps_per_s = None

    def cycle_speed(self) -> None:
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.set_speed(SPEEDS[(index + 1) % len(SPEEDS)])

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._stop.set()  # wake a sleeping worker so the new pace applies now
        if self.app.running:
            self._stop.clear()
            self._run_worker()
        self.app.notify(f"Run speed: {speed_label(speed)}.", timeout=2)

    def full_speed(self) -> None:
        self.set_speed(DEFAULT_SPEED if self.speed is None else None)

    def progressed(self, message: TrainingProgress) -> str | None:
        """A frame arrived: which half of the panes to redraw (None: it is stale)."""
        if message.steps_per_s is not None:
            self.steps_per_s = message.steps_per_s
        self.app.call_after_refresh(self._frame_done.set)
        if not (self.app.running and message.session is self.app.session):
            return None  # a stale frame, from before a reset or a pause
        self._frame += 1
        return ("parameters", "curves")[self._frame % 2]

    def stopped(self, message: TrainingStopped) -> None:
        if message.diverged_reason:
            self.app.running = False
            self.steps_per_s = None
            self.tell_diverged(message.diverged_reason)

    def tell_diverged(self, reason: str) -> None:
        self.app.notify(
            f"{reason}. Lower the learning rate with [ and reset with ctrl+r.",
            title="Training diverged",
            severity="error",
            timeout=8,
        )

    def step_once(self) -> None:
        """One step (space), unless training runs; a divergence is said, not raised."""
        app = self.app
        if app.running:
            app.notify("Training is running: press r to pause before stepping.", severity="warning")
            return
        try:
            result = app.session.step()
        except SessionDiverged as err:
            self.tell_diverged(str(err))
            return
        if result.diverged:
            self.tell_diverged(app.session.diverged_reason)

    def change_lr(self, factor: float) -> None:
        """The learning rate times ``factor`` from the next step, within its limits."""
        session, notify = self.app.session, self.app.notify
        lr = session.learning_rate * factor
        if not LR_MIN <= lr <= LR_MAX:
            limit = "minimum" if lr < LR_MIN else "maximum"
            notify(
                f"The learning rate is already {session.learning_rate:g}; "
                f"{lr:g} is past the {limit} of {LR_MIN if lr < LR_MIN else LR_MAX:g}.",
                severity="warning",
            )
            return
        session.set_learning_rate(lr)
        notify(f"Learning rate {lr:g} from the next step.", timeout=2)
