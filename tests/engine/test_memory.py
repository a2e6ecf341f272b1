"""Long runs keep memory flat: RSS growth per step, measured (no timings).

The full 100,000-step run belongs to ``make bench``; this one runs 15,000
tutorial steps, past the first thinning of the history at step 4,097.
"""

from __future__ import annotations

import gc
import os
import sys

import pytest

import datasets
from engine.training.history import HISTORY_POINTS
from engine.training.presets import PRESETS
from engine.training.session import TrainingSession

WARM_UP = 5_000  # past the history's first thinning
WINDOWS, WINDOW = 4, 2_500


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_rss_growth_per_step_is_bounded():
    data = datasets.make("tutorial")
    session = TrainingSession(PRESETS["tutorial"], data.xs, data.ys)
    # Its checkpoints (engine/training/timeline.py) grow up to the timeline's budget, then
    # thin: a small budget here, so that they are thinning by the end of the warm-up.
    session.timeline.budget = 100_000
    assert WARM_UP > HISTORY_POINTS
    for _ in range(WARM_UP):
        session.step()
    gc.collect()
    start = before = rss_bytes()
    per_step = []
    for _ in range(WINDOWS):
        for _ in range(WINDOW):
            session.step()
        gc.collect()
        after = rss_bytes()
        per_step.append((after - before) / WINDOW)
        before = after
    # A leak of one float per step (24 bytes) shows in every window; the allocator
    # taking a fresh arena shows in one. So: the quietest window is flat, and the
    # whole run grows by far less than a history entry (64 bytes) per step.
    assert min(per_step) <= 8, per_step
    assert (before - start) / (WINDOWS * WINDOW) < 64, per_step
    assert before <= start * 1.10
    assert len(session.snapshot().history) <= HISTORY_POINTS + 512
    assert session.timeline.bytes <= 100_000
