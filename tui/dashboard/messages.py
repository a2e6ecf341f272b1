"""The dashboard's messages: small dataclasses, the frequent one coalescing.

Textual's ``Message`` calls ``__post_init__``, so a dataclass message is set up as any;
``eq=False`` keeps a message equal only to itself, as Textual's own are.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from engine.training.records import Snapshot
from engine.training.session import TrainingSession


@dataclass(eq=False)
class TrainingProgress(Message):
    """Steps happened; the app redraws from a fresh snapshot.

    Posted at most ~15 times a second; a queued one is replaced by the next.
    """

    session: TrainingSession
    snapshot: Snapshot  # taken in the worker, so the UI never waits on the lock
    steps_per_s: float | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TrainingProgress)


@dataclass(eq=False)
class TrainingStopped(Message):
    """The worker left its loop: paused by the user, or the loss diverged."""

    diverged_reason: str | None


@dataclass(eq=False)
class SamplePicked(Message):
    """A learner clicked one training sample (a predictions row or a point on the boundary).

    ``sample`` is 0-based, in the order of the session's training points.
    """

    sample: int


@dataclass(eq=False)
class PointEdit(Message):
    """Draw mode asks for a change to the run's points at ``at`` (data coordinates).

    ``kind`` "add" (a point of class ``label``, +1 or -1) or "remove" (the point
    nearest to ``at``). ``on_top``: the training point already drawn in that
    cell, if any (0-based), so that the app can say what happens to it.
    """

    kind: str
    at: tuple[float, float]
    label: float | None = None
    on_top: int | None = None
