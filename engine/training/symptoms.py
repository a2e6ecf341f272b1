"""What went wrong in one training step, read from its numbers.

With a bug on, ``TrainingSession.step()`` records a :class:`StepTrace`: the
gradients as ``backward()`` found them, what it added, what the update read,
what clean code computes at the same weights, and how far the update moved
each parameter. :func:`symptom` compares those stages in the order a step runs
and names the first one that is wrong, with the numbers. It never asks which
bug is on: a bug that does nothing to this net (a wrong tanh derivative in a
relu net) gets "no symptom", because there is none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Stages agree when they differ by less than this, relative to their size: the
# clean gradient is computed by the same code, so a clean stage matches exactly.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class StepTrace:
    """One step's gradients stage by stage, in ``MLP.parameters()`` order."""

    leftover: tuple[float, ...]  # .grad as backward() found it (0 after zero_grad)
    backprop: tuple[float, ...]  # what this step's backward() added to .grad
    applied: tuple[float, ...]  # .grad when the update read it
    true: tuple[float, ...]  # what clean code computes at the same weights
    moved: tuple[float, ...]  # how the update changed each parameter

    @classmethod
    def of(cls, params, leftover, backprop, before, true) -> StepTrace:
        """A step's trace from the ``.grad`` values before and after backward(), the
        weights ``before`` the update, and the true gradients (``params``: after it)."""
        return cls(
            leftover=tuple(leftover),
            backprop=tuple(b - g for b, g in zip(backprop, leftover)),
            applied=tuple(p.grad for p in params),
            true=true or (),
            moved=tuple(p.data - w for p, w in zip(params, before)),
        )


def norm(values: Sequence[float]) -> float:
    return math.sqrt(math.fsum(v * v for v in values))


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    gap = norm([x - y for x, y in zip(a, b)])
    return gap <= TOLERANCE * max(norm(a), norm(b), 1e-300)


def _g(x: float) -> str:
    return f"{x:.3g}"


def _size_ratio(part: float, whole: float) -> str:
    """``part`` as a share or a multiple of ``whole``, in words."""
    if whole == 0:
        return "where the true gradient is 0"
    ratio = part / whole
    if ratio < 1:
        return (
            f"only {ratio:.0%} of the true size" if ratio >= 0.01 else "under 1% of the true size"
        )
    return f"{ratio:.3g}× the true size"


def _worst(a: Sequence[float], b: Sequence[float]) -> int:
    return max(range(len(a)), key=lambda i: abs(a[i] - b[i]))


def symptom(trace: StepTrace, names: Sequence[str]) -> str:
    """One line naming, with its numbers, the first stage of the step that went wrong."""
    after_backward = [g + b for g, b in zip(trace.leftover, trace.backprop)]
    applied, true, backprop = trace.applied, trace.true, trace.backprop
    if not _same(applied, after_backward):
        state = (
            f"backward() found the true gradient (|grad| {_g(norm(after_backward))})"
            if _same(after_backward, true)
            else f"backward() left |grad| {_g(norm(after_backward))}"
        )
        if not any(applied):
            return f"{state}, but the update applied 0: .grad was zeroed in between"
        return f"{state}, but the update applied |grad| {_g(norm(applied))}: changed in between"
    if any(trace.leftover):
        return (
            f"the update applied |grad| {_g(norm(applied))}, the true gradient is "
            f"{_g(norm(true))}: {_g(norm(trace.leftover))} of it is left over from earlier "
            "steps, never zeroed"
        )
    if not _same(backprop, true):
        i = _worst(backprop, true)
        if not any(backprop):
            return (
                f"backprop says 0 for every parameter; the true gradient is "
                f"{_g(norm(true))} (e.g. {_g(true[i])} at {names[i]})"
            )
        cosine = sum(b * t for b, t in zip(backprop, true)) / (norm(backprop) * norm(true) or 1)
        angle = math.degrees(math.acos(max(-1.0, min(1.0, cosine))))
        return (
            f"backprop |grad| {_g(norm(backprop))} vs true {_g(norm(true))}: "
            f"{_size_ratio(norm(backprop), norm(true))}, {angle:.0f}° off; worst at "
            f"{names[i]}: {_g(backprop[i])} vs {_g(true[i])}"
        )
    uphill = sum(m * t for m, t in zip(trace.moved, true))
    if uphill > 0:
        return (
            f"backprop is the true gradient, but the update moved the weights along it "
            f"(Δw·grad = +{_g(uphill)}, should be < 0): uphill, so the loss rises"
        )
    return "no symptom in this step: backprop is the true gradient and the update went downhill"
