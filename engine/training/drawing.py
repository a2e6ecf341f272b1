"""Points a learner draws into a run's data, with undo and redo.

``DrawnPoints(session)`` adds a point, removes one, or flips one's class, and
each edit goes to ``TrainingSession.set_data()``: the run trains on the new
points from its next step (the clean twin, both fast passes, gradcheck and
the batches read them too). An edit is remembered as what it did (which
point, where), not as a copy of the data, so undo costs as little as the edit
however many points the run has. Undo and redo are edits like any other: the
run keeps its weights and steps on with the points as they are now.

Drawn points are training points; ``remove`` takes a held-out test point as
readily. A run needs at least one training point, so the last one cannot go.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.training.session import TrainingSession

TRAIN, TEST = "train", "test"


class DrawRefused(ValueError):
    """An edit that would leave the run without data; the message says why."""


class SameClassHere(ValueError):
    """A point placed on a point of its own class; the message says why it is refused."""


def sign(label: float | None) -> str:
    """How a class is written: "+1" or "-1"."""
    return "+1" if label is not None and label > 0 else "-1"


@dataclass(frozen=True)
class Edit:
    """One change to the points: ``kind`` "add", "remove" or "relabel".

    ``index`` is the point's place in its part (training or test points) after
    an add and before a remove; ``label`` is its class after the edit.
    """

    kind: str
    part: str
    index: int
    point: tuple[float, ...]
    label: float

    def inverse(self) -> Edit:
        if self.kind == "add":
            return replace(self, kind="remove")
        if self.kind == "remove":
            return replace(self, kind="add")
        return replace(self, label=-self.label)


class DrawnPoints:
    """The edits made to ``session``'s points, to undo and redo."""

    def __init__(self, session: TrainingSession) -> None:
        self.session = session
        self._done: list[Edit] = []
        self._undone: list[Edit] = []

    def add(self, point: Sequence[float], label: float) -> Edit:
        """A training point at ``point`` of class ``label`` (+1 or -1)."""
        if not all(math.isfinite(v) for v in point):
            raise DrawRefused(f"a point needs finite coordinates, not {tuple(point)}")
        label = 1.0 if label > 0 else -1.0
        edit = Edit("add", TRAIN, len(self.session.xs), tuple(float(v) for v in point), label)
        return self._do(edit)

    def place(self, point: Sequence[float], label: float, on_top: int | None = None) -> Edit:
        """A point of class ``label`` where the learner pointed. ``on_top``: the training
        point already in that spot (its cell on the plane), if any: one of the other class
        is flipped (a relabel); one of the same class is refused, since a second there
        would only count it twice."""
        if on_top is None or on_top >= len(self.session.ys):
            return self.add(point, label)
        if self.session.ys[on_top] == label:
            raise SameClassHere(
                f"There is already a {sign(label)} point in this cell; "
                "a second would only count it twice"
            )
        return self.relabel(on_top)

    def remove(self, part: str, index: int) -> Edit:
        """The ``index``-th training or test point."""
        xs, ys = self._part(part)
        return self._do(Edit("remove", part, index, xs[index], ys[index]))

    def relabel(self, index: int) -> Edit:
        """The ``index``-th training point changes class."""
        xs, ys = self._part(TRAIN)
        return self._do(Edit("relabel", TRAIN, index, xs[index], -ys[index]))

    def nearest(self, point: Sequence[float]) -> tuple[str, int, float] | None:
        """The training or test point nearest to ``point``: (part, index, distance)."""
        best = None
        for part in (TRAIN, TEST):
            for i, x in enumerate(self._part(part)[0]):
                distance = math.dist(x, point)
                if best is None or distance < best[2]:
                    best = (part, i, distance)
        return best

    def undo(self) -> Edit | None:
        """Take back the last edit; returns it (None with nothing to undo)."""
        if not self._done:
            return None
        edit = self._done[-1]
        self._apply(edit.inverse())
        self._undone.append(self._done.pop())
        return edit

    def redo(self) -> Edit | None:
        """Make the last undone edit again; returns it (None with nothing to redo)."""
        if not self._undone:
            return None
        edit = self._undone[-1]
        self._apply(edit)
        self._done.append(self._undone.pop())
        return edit

    def _do(self, edit: Edit) -> Edit:
        self._apply(edit)
        self._done.append(edit)
        self._undone.clear()
        return edit

    def _part(self, part: str) -> tuple[tuple, tuple]:
        session = self.session
        return (session.xs, session.ys) if part == TRAIN else (session.test_xs, session.test_ys)

    def _apply(self, edit: Edit) -> None:
        xs, ys = (list(v) for v in self._part(edit.part))
        i = edit.index
        if edit.kind == "add":
            xs.insert(i, edit.point)
            ys.insert(i, edit.label)
        elif edit.kind == "remove":
            if edit.part == TRAIN and len(xs) == 1:
                raise DrawRefused(
                    "that is the run's last training point, and a run needs at least one"
                )
            del xs[i]
            del ys[i]
        else:
            ys[i] = edit.label
        if edit.part == TRAIN:
            self.session.set_data(xs, ys)
        else:
            self.session.set_data(self.session.xs, self.session.ys, xs, ys)
