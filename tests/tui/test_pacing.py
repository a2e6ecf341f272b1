"""Pacing: frames and grids spaced to a share of the time, on a clock the test moves."""

from __future__ import annotations

import pytest

from tui.dashboard import pacing
from tui.dashboard.pacing import Pacer, frame_pacer, grid_pacer, speed_label


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_job_may_start_at_once():
    assert Pacer(0.1, clock=FakeClock()).wait() == 0.0


def test_a_job_is_followed_after_its_cost_over_the_share():
    clock = FakeClock()
    pacer = Pacer(0.1, 0.0, 10.0, clock)
    started = clock.now
    clock.now += 0.02  # the job took 20 ms
    pacer.done(started)
    # 20 ms at a tenth of the time: the next starts 200 ms after this one started
    assert pacer.wait() == pytest.approx(0.18)
    clock.now = started + 0.199
    assert pacer.wait() > 0
    clock.now = started + 0.2
    assert pacer.wait() == 0.0


def test_the_interval_is_kept_between_its_bounds():
    clock = FakeClock()
    pacer = Pacer(0.5, 0.25, 1.0, clock)
    pacer.done(clock.now, cost=0.001)  # cheap: still no sooner than min_interval
    assert pacer.wait() == pytest.approx(0.25)
    pacer.done(clock.now, cost=5.0)  # costly: still no later than max_interval
    assert pacer.wait() == pytest.approx(1.0)


def test_the_interval_counts_from_the_start_so_a_slow_job_still_repeats():
    clock = FakeClock()
    pacer = Pacer(0.1, 0.0, 0.5, clock)
    started = clock.now
    clock.now += 0.6  # longer than max_interval
    pacer.done(started)
    assert pacer.wait() == 0.0


def test_a_share_outside_zero_to_one_is_refused():
    for share in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="share"):
            Pacer(share)


def test_frames_come_at_most_15_and_at_least_2_times_a_second():
    clock = FakeClock()
    frames = frame_pacer(clock)
    frames.done(clock.now, cost=0.0)  # drawn at once
    assert frames.wait() == pytest.approx(1 / 15)
    frames.done(clock.now, cost=10.0)  # a frame that took very long
    assert frames.wait() == pytest.approx(0.5)
    frames.done(clock.now, cost=0.014)  # ~7% of the time: one frame every 0.2 s
    assert frames.wait() == pytest.approx(0.014 / pacing.FRAME_SHARE)


def test_grids_take_their_share_and_come_at_least_twice_a_second():
    clock = FakeClock()
    grids = grid_pacer(clock)
    grids.done(clock.now, cost=0.01)
    assert grids.wait() == pytest.approx(0.01 / pacing.GRID_SHARE)
    grids.done(clock.now, cost=1.0)
    assert grids.wait() == pytest.approx(pacing.GRID_MAX_INTERVAL)


def test_speed_labels():
    assert [speed_label(s) for s in pacing.SPEEDS] == ["max", "20/s", "5/s", "1/s"]
    assert speed_label(5.0, unit=" steps/s") == "5 steps/s"
