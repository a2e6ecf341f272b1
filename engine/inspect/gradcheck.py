"""Check backprop against central finite differences, parameter by parameter."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.value import Value

# Gradients near zero are compared absolutely: the relative error's
# denominator never drops below this, times the loss when the loss is above 1
# (a finite difference cannot resolve much less than eps_machine * |loss| / eps).
RELATIVE_FLOOR = 1e-3
PASS_THRESHOLD = 1e-6

# How much a gradient check may do, the one rule for the dashboard (g) and train
# --gradcheck: its finite differences cost four forward passes a checked parameter. Up to
# CHECK_MULTIPLY_ADDS multiply-adds in all it checks every parameter; beyond, a reproducible
# random subset that fits, of at least MIN_CHECKED, labelled as a subset. About 2 s on the
# fast path on this 2-core machine (measured 18 to 29 million multiply-adds a second on
# moons, MLP(2,[16,16,1]) to MLP(2,[256,256,1])): every parameter of moons' default net.
CHECK_MULTIPLY_ADDS = 50_000_000
MIN_CHECKED = 8


def parameters_to_check(parameters: int, forward_multiply_adds: int) -> int | None:
    """How many of ``parameters`` a check looks at: None for every one, else the subset's size.

    ``forward_multiply_adds``: the cost of one forward pass over the whole training set.
    """
    per_parameter = 4 * max(1, forward_multiply_adds)
    if parameters * per_parameter <= CHECK_MULTIPLY_ADDS:
        return None
    return min(parameters, max(MIN_CHECKED, CHECK_MULTIPLY_ADDS // per_parameter))


@dataclass(frozen=True)
class ParameterCheck:
    index: int  # position in the parameters() list
    numerical: float
    backprop: float
    floor: float = RELATIVE_FLOOR

    @property
    def abs_error(self) -> float:
        return abs(self.numerical - self.backprop)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.numerical), abs(self.backprop), self.floor)
        error = self.abs_error / scale
        return error if math.isfinite(error) else math.inf


@dataclass(frozen=True)
class GradCheckResult:
    checks: tuple[ParameterCheck, ...]
    total_parameters: int
    eps: float
    step: int | None = None  # the training step whose weights were checked, when known

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
    number as ``forward().data``). Each parameter is differenced with steps
    ``eps`` and ``eps / 10``, and the one closer to backprop counts. Parameter values are
    restored exactly;
    their ``.grad`` is left holding the backprop gradient.
    """
    for p in parameters:
        p.grad = 0.0
    loss = forward()
    loss.backward()
    backprop = [p.grad for p in parameters]
    floor = (
        RELATIVE_FLOOR * max(1.0, abs(loss.data)) if math.isfinite(loss.data) else RELATIVE_FLOOR
    )
    if loss_value is None:

        def loss_value() -> float:
            return forward().data

    chosen = range(len(parameters)) if indices is None else indices
    checks = []

    def central_difference(p: Value, h: float) -> float:
        original = p.data
        p.data = original + h
        f_plus = loss_value()
        p.data = original - h
        f_minus = loss_value()
        p.data = original
        return (f_plus - f_minus) / (2 * h)

    for i in chosen:
        p = parameters[i]
        # A step that straddles a relu's corner measures neither one-sided slope,
        # so a correct gradient can look wrong. A real backprop error shows at
        # every step size; a corner only at the larger one: keep the closer.
        numerical = min(
            (central_difference(p, h) for h in (eps, eps / 10)),
            key=lambda n: abs(n - backprop[i]) if math.isfinite(n) else math.inf,
        )
        checks.append(ParameterCheck(i, numerical, backprop[i], floor))
    return GradCheckResult(tuple(checks), len(parameters), eps)
