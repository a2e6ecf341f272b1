"""Check backprop against central finite differences, parameter by parameter."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.value import Value

# Gradients near zero are compared absolutely: the relative error's
# denominator never drops below this.
RELATIVE_FLOOR = 1e-3
PASS_THRESHOLD = 1e-6


@dataclass(frozen=True)
class ParameterCheck:
    index: int  # position in the parameters() list
    numerical: float
    backprop: float

    @property
    def abs_error(self) -> float:
        return abs(self.numerical - self.backprop)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.numerical), abs(self.backprop), RELATIVE_FLOOR)
        error = self.abs_error / scale
        return error if math.isfinite(error) else math.inf


@dataclass(frozen=True)
class GradCheckResult:
    checks: tuple[ParameterCheck, ...]
    total_parameters: int
    eps: float

    @property
    def max_abs_error(self) -> float:
        return max((c.abs_error for c in self.checks), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((c.rel_error for c in self.checks), default=0.0)

    @property
    def passed(self) -> bool:
        return self.max_rel_error < PASS_THRESHOLD

    @property
    def is_subset(self) -> bool:
        return len(self.checks) < self.total_parameters


def gradcheck(
    forward: Callable[[], Value],
    parameters: Sequence[Value],
    indices: Sequence[int] | None = None,
    eps: float = 1e-5,
    loss_value: Callable[[], float] | None = None,
) -> GradCheckResult:
    """Compare ``backward()``'s gradients with (f(p+eps) - f(p-eps)) / 2eps.

    ``forward`` builds the loss from the current parameter values. Only the
    parameters at ``indices`` (default: all) are checked. ``loss_value``, if
    given, computes f faster for the finite differences (it must give the same
    number as ``forward().data``). Parameter values are restored exactly;
    their ``.grad`` is left holding the backprop gradient.
    """
    for p in parameters:
        p.grad = 0.0
    forward().backward()
    backprop = [p.grad for p in parameters]
    if loss_value is None:
        def loss_value() -> float:
            return forward().data

    chosen = range(len(parameters)) if indices is None else indices
    checks = []
    for i in chosen:
        p = parameters[i]
        original = p.data
        p.data = original + eps
        f_plus = loss_value()
        p.data = original - eps
        f_minus = loss_value()
        p.data = original
        numerical = (f_plus - f_minus) / (2 * eps)
        checks.append(ParameterCheck(i, numerical, backprop[i]))
    return GradCheckResult(tuple(checks), len(parameters), eps)
