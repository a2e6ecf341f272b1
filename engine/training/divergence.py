"""When a run counts as diverged: one rule for the dashboard, ``train`` and saved runs.

A run has diverged when its loss is inf or nan; or, while still finite, when its
loss is above ``BLOW_UP`` (10^6) times the loss of its first step, or a parameter
is above 10^6 in size. The first step's loss, not the lowest so far, is the
yardstick: a loss that reaches exactly 0 does not make every later loss a
blow-up (a first loss of 0 leaves only the parameter rule). Every preset trains
1,000 clean steps well inside it (tests/engine/test_session.py).
"""

from __future__ import annotations

import math

BLOW_UP = 1e6


def blow_up(loss: float, first_loss: float, largest_parameter: float) -> str | None:
    """Why a run with these numbers has diverged, or None if it has not."""
    if not math.isfinite(loss):
        return f"the loss became {loss}"
    if first_loss > 0 and loss > BLOW_UP * first_loss:
        return f"the loss {loss:.3g} is over 10^6 times step 1's ({first_loss:.3g})"
    if not largest_parameter <= BLOW_UP:  # nan too
        return f"a parameter reached {largest_parameter:.3g} (over 10^6 in size)"
    return None


def largest(parameters) -> float:
    """The largest parameter's size: what the rule's third test reads (``Value``s)."""
    return max((abs(p.data) for p in parameters), default=0.0)
