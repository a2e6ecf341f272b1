"""Time travel: the exact state of a run at any of its past steps, and a branch from it.

A run's *timeline* is what it takes to rebuild any past step:

* its **stretches**: runs of updates that used the same bugs and the same points. A
  stretch starting at step ``s`` covers updates ``s + 1``, ``s + 2``, ...; switching a bug
  or drawing a point at step ``s`` starts one there. (The learning rate has its own log,
  the session's ``_lr_log``.)
* its **checkpoints**: every parameter's value and gradient after a step, with what that
  step's forward pass computed (predictions, loss, accuracy, ...). One is kept after every
  step while they fit in ``BUDGET`` bytes; past that, only every 2nd, then every 4th, ...
  step keeps one (the start of each stretch always does), so a long run's checkpoints stay
  within the budget however long it runs.

The state after update ``s`` is rebuilt by loading the nearest checkpoint before it in
its stretch and replaying the updates in between on a second session, the *replayer*
(``TrainingSession.view`` and ``rewind``). The engine is deterministic, bugs and
mini-batches included (a batch is drawn from the seed and the step number), so the
replay gives the very numbers the run had: tests compare them with straight runs.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

# Bytes of checkpoints a run keeps (its clean twin keeps its own). A served app, one per
# browser tab, keeps less (tui/served_app.py): a class of 30 tabs shares one machine.
BUDGET = 50 * 2**20
SERVED_BUDGET = 10 * 2**20
# What a checkpoint costs beyond its arrays' items, measured with tracemalloc (tests/engine/
# test_timeline.py): the object, its floats, its entries in the timeline; each array's own.
_OVERHEAD = 320
_ARRAY = 80


@dataclass(frozen=True)
class Points:
    """The training and test points a stretch trained on (shared, never copied)."""

    xs: tuple[tuple[float, ...], ...]
    ys: tuple[float, ...]
    test_xs: tuple[tuple[float, ...], ...] = ()
    test_ys: tuple[float, ...] = ()

    @classmethod
    def checked(cls, nin: int, xs, ys, test_xs, test_ys) -> Points:
        """These points as floats; ValueError, naming what is wrong, unless they fit a model
        with ``nin`` inputs."""
        xs = tuple(tuple(float(v) for v in x) for x in xs)
        ys = tuple(float(y) for y in ys)
        test_xs = tuple(tuple(float(v) for v in x) for x in test_xs)
        test_ys = tuple(float(y) for y in test_ys)
        if not xs or len(xs) != len(ys):
            raise ValueError(
                f"need matching, non-empty inputs and targets ({len(xs)} vs {len(ys)})"
            )
        if len(test_xs) != len(test_ys):
            raise ValueError("the test set needs one target per sample")
        if any(len(x) != nin for x in xs + test_xs):
            raise ValueError(f"every point needs the model's {nin} features")
        return cls(xs, ys, test_xs, test_ys)


@dataclass(frozen=True)
class Stretch:
    """Updates ``start + 1``, ``start + 2``, ... up to the next stretch's start ran with these."""

    start: int
    bugs: frozenset[str]
    points: Points


@dataclass(frozen=True)
class Checkpoint:
    """A run right after update ``step``: what the next update starts from, and what the
    panes showed (the forward pass of update ``step``, at the weights before it)."""

    step: int
    data: array  # every parameter, MLP.parameters() order
    grad: array
    predictions: array
    loss: float
    accuracy: float
    test_loss: float
    test_accuracy: float
    full_loss: float
    true_gradients: array | None  # while the step ran with a bug

    @property
    def size(self) -> int:
        """Bytes this checkpoint holds (its arrays, plus a measured overhead)."""
        arrays = (self.data, self.grad, self.predictions, self.true_gradients)
        return _OVERHEAD + sum(_ARRAY + a.itemsize * len(a) for a in arrays if a is not None)


@dataclass(frozen=True)
class Ghost:
    """The future a branch left: its loss from ``branch_step + 1`` on, as the plot showed it."""

    branch_step: int
    steps: tuple[int, ...]
    loss: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.loss):
            raise ValueError(f"loss: expected one value per step ({len(self.steps)})")
        if any(s <= self.branch_step for s in self.steps[:1]) or any(
            b <= a for a, b in zip(self.steps, self.steps[1:])
        ):
            raise ValueError(f"steps: must rise from after the branch step {self.branch_step}")

    @property
    def last_step(self) -> int:
        return self.steps[-1] if self.steps else self.branch_step


class Timeline:
    """A run's stretches and checkpoints (see the module's note).

    ``origin`` is the earliest step that can be rebuilt: 0 for a run started here, the
    loaded step for a file saved without its timeline.
    """

    def __init__(self, first: Stretch, origin: Checkpoint, budget: int | None = None):
        self.budget = BUDGET if budget is None else budget  # read when a run starts
        self.origin = origin.step
        self.stretches: list[Stretch] = [first]
        self._starts = {first.start}
        self.stride = 1  # checkpoints are kept at multiples of this (and at stretch starts)
        self._steps: list[int] = [origin.step]  # sorted
        self._checkpoints: dict[int, Checkpoint] = {origin.step: origin}
        self._bytes = origin.size

    # -- recording ------------------------------------------------------------------

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._steps)

    def keeps(self, step: int) -> bool:
        """Whether a checkpoint after ``step`` is to be kept: its step is on the stride or
        starts a stretch, and none is kept there yet (a branch's step has one)."""
        if step in self._checkpoints:
            return False
        return not step % self.stride or step in self._starts

    def starts_stretch(self, step: int) -> bool:
        return step in self._starts

    def record(self, checkpoint: Checkpoint) -> None:
        """After each update: kept if ``keeps`` its step (ask first: building one costs)."""
        if not self.keeps(checkpoint.step):
            return
        self._add(checkpoint)
        while self._bytes > self.budget and len(self._steps) > 2:
            self.stride *= 2
            for kept in [s for s in self._steps if s % self.stride]:
                if kept not in self._starts and kept != self.origin:
                    self._drop(kept)
            if self.stride > 2**40:
                break

    def change(self, step: int, bugs: frozenset[str], points: Points, at: Checkpoint) -> None:
        """From update ``step + 1`` on the run uses ``bugs`` and ``points``; ``at`` is the run
        at ``step`` (kept: a stretch's start always is). Several changes at one step make one
        stretch."""
        last = self.stretches[-1]
        if not (bugs == last.bugs and points == last.points):
            if last.start == step and len(self.stretches) > 1:
                self.stretches.pop()  # no update ran with it
                last = self.stretches[-1]
                if bugs == last.bugs and points == last.points:
                    step = -1  # the change undid itself
            elif last.start == step:
                self.stretches.pop()  # the first stretch, changed before its first update
            if step >= 0:
                self.stretches.append(Stretch(step, frozenset(bugs), points))
            self._starts = {s.start for s in self.stretches}
        if at.step in self._checkpoints:
            self._drop(at.step)  # the run as it is now: new points, new predictions
        self._add(at)

    def _add(self, checkpoint: Checkpoint) -> None:
        step = checkpoint.step
        self._steps.insert(bisect_left(self._steps, step), step)
        self._checkpoints[step] = checkpoint
        self._bytes += checkpoint.size

    def _drop(self, step: int) -> None:
        self._steps.pop(bisect_left(self._steps, step))
        self._bytes -= self._checkpoints.pop(step).size

    # -- reading --------------------------------------------------------------------

    def stretch_for(self, update: int) -> Stretch:
        """The stretch update number ``update`` (from 1) ran in (the first one for 0)."""
        starts = [s.start for s in self.stretches]
        return self.stretches[max(0, bisect_left(starts, update) - 1)]

    def nearest(self, step: int, floor: int) -> Checkpoint:
        """The latest checkpoint from ``floor`` to ``step``; a stretch's start is always one."""
        i = bisect_right(self._steps, step) - 1
        if i < 0 or self._steps[i] < floor:
            raise LookupError(f"no checkpoint from step {floor} to {step}")
        return self._checkpoints[self._steps[i]]

    def checkpoint(self, step: int) -> Checkpoint | None:
        return self._checkpoints.get(step)

    # -- branching ------------------------------------------------------------------

    def cut(self, step: int) -> None:
        """Forget everything after ``step`` (a branch from it): later checkpoints, and the
        stretches that start at or after it, apart from the first one."""
        keep = max(step, 1)
        self.stretches = [s for s in self.stretches if s.start < keep] or self.stretches[:1]
        self._starts = {s.start for s in self.stretches}
        for later in [s for s in self._steps if s > step]:
            self._drop(later)

    def restore(self, stretches: Sequence[Stretch], now: Checkpoint) -> None:
        """A loaded run's timeline: its later ``stretches`` after the first, and the run as it
        is ``now`` (the checkpoints between are rebuilt by replaying, as they are needed)."""
        self.stretches.extend(stretches)
        self._starts = {s.start for s in self.stretches}
        if now.step not in self._checkpoints:
            self._add(now)

    def copy(self, clean: bool = False) -> Timeline:
        """A copy sharing the (immutable) checkpoints; ``clean``: every stretch without bugs
        (a clean twin's timeline, copied from a run that has not yet stepped with a bug)."""
        twin = Timeline.__new__(Timeline)
        twin.budget, twin.origin, twin.stride = self.budget, self.origin, self.stride
        twin._steps = list(self._steps)
        twin._checkpoints = dict(self._checkpoints)
        twin._bytes = self._bytes
        stretches = clean_stretches(self.stretches) if clean else self.stretches
        twin.stretches = list(stretches)
        twin._starts = {s.start for s in stretches}
        return twin


def clean_stretches(stretches: Sequence[Stretch]) -> list[Stretch]:
    """The stretches a run's clean twin trains in: no bugs, no test points, and one stretch
    for each change of points (a bug switch changes nothing for it)."""
    merged: list[Stretch] = []
    plain: dict[int, Points] = {}
    for s in stretches:
        points = plain.setdefault(id(s.points), Points(s.points.xs, s.points.ys))
        if merged and merged[-1].points == points:
            continue
        merged.append(Stretch(s.start, frozenset(), points))
    return merged
