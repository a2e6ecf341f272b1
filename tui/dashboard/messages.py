"""Messages the training worker posts to the app: small, and coalescing when frequent."""

from __future__ import annotations

from textual.message import Message

from engine.training.records import Snapshot
from engine.training.session import TrainingSession


class TrainingProgress(Message):
    """Steps happened; the app redraws from a fresh snapshot.

    Posted at most ~15 times a second; a queued one is replaced by the next.
    """

    def __init__(
        self, session: TrainingSession, snapshot: Snapshot, steps_per_s: float | None
    ) -> None:
        super().__init__()
        self.session = session
        self.snapshot = snapshot  # taken in the worker, so the UI never waits on the lock
        self.steps_per_s = steps_per_s

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TrainingProgress)


class TrainingStopped(Message):
    """The worker left its loop: paused by the user, or the loss diverged."""

    def __init__(self, diverged_reason: str | None) -> None:
        super().__init__()
        self.diverged_reason = diverged_reason


class SamplePicked(Message):
    """A learner clicked one training sample (a predictions row or a point on the boundary).

    ``sample`` is 0-based, in the order of the session's training points.
    """

    def __init__(self, sample: int) -> None:
        super().__init__()
        self.sample = sample


class PointEdit(Message):
    """Draw mode asks for a change to the run's points at ``at`` (data coordinates).

    ``kind`` "add" (a point of class ``label``, +1 or -1) or "remove" (the point
    nearest to ``at``). ``on_top``: the training point already drawn in that
    cell, if any (0-based), so that the app can say what happens to it.
    """

    def __init__(
        self,
        kind: str,
        at: tuple[float, float],
        label: float | None = None,
        on_top: int | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.at = at
        self.label = label
        self.on_top = on_top
