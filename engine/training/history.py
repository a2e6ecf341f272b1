"""The loss history of a run: every step while it is short, thinned evenly when it is long.

The history keeps every step while a run is short (``HISTORY_POINTS`` steps);
past that, older steps are thinned evenly and the latest ``RECENT_POINTS``
steps stay whole, so memory and ``snapshot()`` stay small however long it runs.
Which steps are kept follows from the run's length alone (``kept_steps``), so a
saved history can be checked and resumed exactly.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass

HISTORY_POINTS = 4096  # steps kept whole before the older ones are thinned
RECENT_POINTS = 512  # the latest steps, always kept whole

# What each step records, in this order (History's columns, the history CSV's after "step").
# With mini-batches ``loss`` is the batch's and ``full_loss`` the loss on every
# training sample, every ``FULL_LOSS_EVERY`` steps (nan otherwise, and without batches).
RECORDED = (
    "loss",
    "accuracy",
    "grad_norm",
    "weight_norm",
    "lr",
    "test_loss",
    "test_accuracy",
    "full_loss",
)


@dataclass(frozen=True)
class History:
    """One entry per kept step; ``steps[i]`` is the step entry i belongs to.

    Up to ``HISTORY_POINTS`` steps every step is kept (index i is step i + 1);
    in longer runs older steps are thinned, the latest ones kept whole.
    """

    loss: tuple[float, ...] = ()
    accuracy: tuple[float, ...] = ()
    grad_norm: tuple[float, ...] = ()
    weight_norm: tuple[float, ...] = ()
    lr: tuple[float, ...] = ()
    test_loss: tuple[float, ...] = ()  # nan where there is no test set
    test_accuracy: tuple[float, ...] = ()
    full_loss: tuple[float, ...] = ()  # nan but every few steps of a mini-batch run
    steps: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.loss)

    def until(self, step: int) -> History:
        """The entries up to ``step`` (a past step's view of a whole run's history)."""
        cut = bisect_right(self.steps, step)
        if cut == len(self.steps):
            return self
        columns = {name: getattr(self, name)[:cut] for name in RECORDED}
        return History(**columns, steps=self.steps[:cut])


def kept_steps(step_count: int, capacity: int, recent: int) -> tuple[int, range, range]:
    """What a recorder holds after ``step_count`` steps: (stride, archived steps, recent window).

    The archive is steps 1, 1 + stride, ... with the smallest power-of-two
    stride that fits ``capacity``; the window is the latest ``recent`` steps.
    """
    stride = 1
    while len(range(1, step_count + 1, stride)) > capacity:
        stride *= 2
    archived = range(1, step_count + 1, stride)
    window = range(max(1, step_count - recent + 1), step_count + 1)
    return stride, archived, window


class HistoryRecorder:
    """Every step while few, then evenly thinned older steps plus the latest ones whole.

    The archive keeps steps 1, 1 + stride, 1 + 2 * stride, ...; when it holds
    more than ``capacity`` the stride doubles and every other entry goes.
    Memory is bounded by ``capacity + recent`` entries.
    """

    def __init__(self, capacity: int = HISTORY_POINTS, recent: int = RECENT_POINTS):
        self.capacity = capacity
        self._stride = 1
        self._steps = array("q")
        self._archive = tuple(array("d") for _ in RECORDED)
        self._recent: deque[tuple[float, ...]] = deque(maxlen=recent)
        self._view: History | None = History()

    @property
    def recent(self) -> int:
        return self._recent.maxlen

    def append(self, step: int, *values: float) -> None:
        self._view = None
        self._recent.append((step, *values))
        if (step - 1) % self._stride:
            return
        self._steps.append(step)
        for column, value in zip(self._archive, values):
            column.append(value)
        if len(self._steps) > self.capacity:
            self._stride *= 2  # keep steps 1, 1 + 2 * stride, ...: every other entry
            self._steps = self._steps[::2]
            self._archive = tuple(column[::2] for column in self._archive)

    def grad_norms(self, step: int, back: int) -> tuple[float, float | None]:
        """The gradient norm at ``step`` (the last one recorded) and ``back`` steps before
        it (None when the run is younger or that step has left the recent window);
        nan at step 0."""
        column = 1 + RECORDED.index("grad_norm")  # each recent row is (step, *RECORDED)
        if not step or not self._recent:
            return math.nan, None
        now = self._recent[-1]
        if back >= len(self._recent) or now[0] != step:
            return now[column], None
        earlier = self._recent[-1 - back]
        return now[column], earlier[column] if earlier[0] == step - back else None

    @property
    def first_loss(self) -> float:
        """Step 1's loss (always archived), nan before it."""
        return self._archive[0][0] if self._steps else math.nan

    def view(self) -> History:
        """An immutable copy: the archive up to the recent window, then the window."""
        if self._view is None:
            recent = list(zip(*self._recent))  # columns: steps, loss, accuracy, ...
            cut = bisect_left(self._steps, recent[0][0])  # archive entries before the window
            older = [self._steps[:cut], *(column[:cut] for column in self._archive)]
            steps, *columns = (tuple(old) + new for old, new in zip(older, recent))
            self._view = History(*columns, steps=steps)
        return self._view

    @classmethod
    def resume(cls, capacity: int, recent: int, kept: History, step_count: int) -> HistoryRecorder:
        """The recorder a run at ``step_count`` holds, rebuilt from its ``view()``.

        ``kept`` must hold exactly ``kept_steps()``'s steps (``SavedHistory``
        checks that when a file is read).
        """
        stride, archived, window = kept_steps(step_count, capacity, recent)
        rows = dict(zip(kept.steps, zip(*(getattr(kept, name) for name in RECORDED))))
        recorder = cls(capacity, recent)
        recorder._stride = stride
        recorder._steps = array("q", archived)
        recorder._archive = tuple(
            array("d", [rows[step][i] for step in archived]) for i in range(len(RECORDED))
        )
        recorder._recent.extend((step, *rows[step]) for step in window)
        recorder._view = None if step_count else History()
        return recorder
