"""How numbers are drawn: sparklines."""

from __future__ import annotations

import math

from tui import format as fmt


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
