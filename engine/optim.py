"""Stochastic gradient descent with a learning-rate schedule and weight decay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine import bugs
from engine.value import Value


@dataclass(frozen=True)
class Schedule:
    """Learning rate per step: constant, or linear from ``start`` to ``end``.

    micrograd's demo decays 1.0 -> 0.1 over 100 steps: ``Schedule(1.0, 0.1, 100)``.
    """

    start: float
    end: float | None = None  # None: constant
    steps: int = 100

    def at(self, step: int) -> float:
        if self.end is None or self.steps <= 0:
            return self.start
        progress = min(step, self.steps) / self.steps
        return self.start + (self.end - self.start) * progress

    def scaled(self, factor: float) -> Schedule:
        end = None if self.end is None else self.end * factor
        return Schedule(self.start * factor, end, self.steps)

    def describe(self) -> str:
        if self.end is None:
            return f"{self.start:g}"
        return f"{self.start:g}→{self.end:g} over {self.steps} steps"


class SGD:
    def __init__(
        self,
        parameters: Sequence[Value],
        schedule: Schedule,
        weight_decay: float = 0.0,
    ):
        self.parameters = list(parameters)
        self.schedule = schedule
        self.weight_decay = weight_decay

    def step(self, step: int, lr: float | None = None) -> float:
        """Move every parameter against its gradient; returns the lr used.

        ``lr`` overrides the schedule (a clean twin replays another run's rates).
        """
        if lr is None:
            lr = self.schedule.at(step)
        decay = lr * self.weight_decay
        ascent = bugs.is_on(bugs.GRADIENT_ASCENT)  # asked once, not once per parameter
        for p in self.parameters:
            if decay:
                p.data -= decay * p.data
            if ascent:
                p.data += lr * p.grad  # the bug: climbs the loss
            else:
                p.data -= lr * p.grad
        return lr
