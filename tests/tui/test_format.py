"""How numbers are drawn: sparklines."""

from __future__ import annotations

import math

from tui.dashboard import format as fmt


def test_a_history_of_zeros_is_a_flat_baseline() -> None:
    """zero-grad-after-backward's |grad| is 0 every step: a baseline, not an alarm."""
    assert fmt.sparkline([0.0] * 12, 12) == "▁" * 12


def test_only_non_finite_values_get_the_distinct_mark() -> None:
    line = fmt.sparkline([1.0, 0.0, 10.0, math.inf, math.nan, 100.0], 6)
    assert line[1] == "▁"  # zero: the baseline
    assert line[3] == line[4] == "!"
    assert "!" not in line[:3] + line[5]
    assert line[0] < line[2] < line[5]  # positive values rise above the baseline, on a log scale
    assert line[0] != "▁"


def test_small_gradients_keep_their_digits() -> None:
    """Late in training gradients read +0.00 / -0.00: keep the digits that matter."""
    assert fmt.number(0.0012, 5) == "+1e-3"
    assert fmt.number(-0.000159, 5) == "-2e-4"
    assert fmt.number(3e-7, 7) == "+3.0e-7"
    assert fmt.number(0.0, 5) == "+0.00"  # a true 0 stays 0
    assert fmt.number(0.5, 5) == "+0.50"
    assert len(fmt.number(1.2e-12, 5)) == 5  # never wider than its column
