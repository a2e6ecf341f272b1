"""How fast the run trains, and how often the dashboard spends time drawing.

Training and drawing share one interpreter (and its lock): every moment spent
drawing is a moment not spent training, and a long drawing keeps a key press
waiting. Two recurring jobs are paced here, by one rule (``Pacer``):

* frames while training runs: the worker posts a snapshot and waits for the
  interface to draw it; frames are spaced so that waiting for them costs about
  ``FRAME_SHARE`` of the time, at most 15 a second and at least 2;
* the decision boundary's grids: each is evaluated in a thread and spaced so
  that evaluating them takes about ``GRID_SHARE`` of the time, at least 2 a second.

The run speeds (``SPEEDS``) are the steps per second ``s`` cycles through.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SPEEDS: tuple[float | None, ...] = (None, 20.0, 5.0, 1.0)  # steps/s; None: as fast as it goes
# What r starts at: slow enough to watch the loss fall on small data (the tutorial's
# clean loss falls below 0.03 within 30 steps: a second and a half), a cap that a large
# net below it never feels. f switches to full speed and back.
DEFAULT_SPEED = 20.0

FRAME_SHARE = 0.07  # of the time, spent waiting for frames to be drawn while training
FRAME_MIN_INTERVAL = 1 / 15  # seconds: at most 15 frames a second
FRAME_MAX_INTERVAL = 0.5  # still twice a second, however large the net
FRAME_WAIT = 0.25  # the longest the worker pauses for a frame to be drawn
GRID_SHARE = 0.1  # of the time, spent evaluating decision-boundary grids while training
GRID_MAX_INTERVAL = 0.5  # seconds: the longest a newer grid waits (so 2+ redraws a second)

Clock = Callable[[], float]


def speed_label(speed: float | None, unit: str = "/s") -> str:
    """``max`` or ``20/s``: as the status bar and the notices say it."""
    return "max" if speed is None else f"{speed:g}{unit}"


class Pacer:
    """Spaces a recurring, costly job so that it takes about ``share`` of the time.

    Once a job that started at ``started`` has cost ``cost`` seconds, the next
    may start ``cost / share`` seconds after ``started``, but never sooner than
    ``min_interval`` and never later than ``max_interval`` after it. Counting
    from the start means a job that takes long still runs every ``max_interval``.
    ``clock`` is any monotonic clock in seconds (tests pass their own).
    """

    def __init__(
        self,
        share: float,
        min_interval: float = 0.0,
        max_interval: float = float("inf"),
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self.share = share
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.clock = clock
        self.next_at = float("-inf")  # the first job may start at once

    def wait(self) -> float:
        """Seconds until the next job may start (0.0: now)."""
        return max(0.0, self.next_at - self.clock())

    def done(self, started: float, cost: float | None = None) -> None:
        """A job that started at ``started`` is done; ``cost`` defaults to the time since."""
        if cost is None:
            cost = self.clock() - started
        interval = min(max(cost / self.share, self.min_interval), self.max_interval)
        self.next_at = started + interval


def frame_pacer(clock: Clock = time.monotonic) -> Pacer:
    """The pacing of the training worker's frames."""
    return Pacer(FRAME_SHARE, FRAME_MIN_INTERVAL, FRAME_MAX_INTERVAL, clock)


def grid_pacer(clock: Clock = time.monotonic) -> Pacer:
    """The pacing of the decision boundary's grids while training runs."""
    return Pacer(GRID_SHARE, 0.0, GRID_MAX_INTERVAL, clock)
