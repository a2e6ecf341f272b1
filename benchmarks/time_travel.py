"""Time travel in the engine: what moving the history cursor costs, and what a long run's
timeline keeps (``engine/training/timeline.py``, ``travel.py``).

* the cursor: on the moons preset after 500 steps, ``view(s - 1)`` right after ``view(s)``
  (one step back) and ``view(s + 1)`` right after ``view(s)`` (one step forward), median
  over many ``s``, against one ``step()`` of the same run (issue 23's target: 50 ms);
* memory: after 10,000 steps of the tutorial and of moons, the timeline's counted bytes
  (``Timeline.bytes``, what its budget is held to) and the memory its checkpoints take as
  tracemalloc measures it, against ``BUDGET``; a run past the budget keeps every
  ``stride``-th step;
* a branch: ``rewind`` from step 10,000 of moons to the middle, against a ``step()``.

Timed in CPU time of this process, as the steps/s table is (``--wall``: wall clock).
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import time
import tracemalloc
from array import array

import datasets
from engine.training.presets import PRESETS
from engine.training.session import TrainingSession
from engine.training.timeline import BUDGET, Checkpoint, Timeline

TARGET_MS = 50.0  # moving the cursor one step on moons (issue 23)


def _trained(name: str, steps: int) -> TrainingSession:
    data = datasets.make(name)
    session = TrainingSession(PRESETS[name], data.xs, data.ys)
    gc.disable()  # a step's garbage is freed by reference counts; the collector only costs
    try:
        for _ in range(steps):
            session.step()
    finally:
        gc.enable()
    return session


def cursor_times(session: TrainingSession, samples: int, clock, seed: int = 0):
    """Median seconds of one step back, one step forward (each right after a view of
    ``s``) and one ``step()`` of ``session``, over ``samples`` random steps ``s``."""
    back, forward, steps = [], [], []
    top = session.step_count
    for s in random.Random(seed).sample(range(2, top - 1), samples):
        session.view(s)
        start = clock()
        session.view(s - 1)
        back.append(clock() - start)
        session.view(s)
        start = clock()
        session.view(s + 1)
        forward.append(clock() - start)
        start = clock()
        session.step()
        steps.append(clock() - start)
    return statistics.median(back), statistics.median(forward), statistics.median(steps)


def _fresh(c: Checkpoint) -> Checkpoint:
    """A copy of ``c`` sharing with it only what a run's checkpoints share: ``math.nan``
    (no test set, no full loss). ``x * 1.0`` is a new float object."""

    def copied(a):
        return None if a is None else array("d", a)

    def number(x: float) -> float:
        return x if math.isnan(x) else x * 1.0

    return Checkpoint(
        c.step + 0,
        copied(c.data),
        copied(c.grad),
        copied(c.predictions),
        *(number(x) for x in (c.loss, c.accuracy, c.test_loss, c.test_accuracy, c.full_loss)),
        copied(c.true_gradients),
    )


def measured_bytes(timeline: Timeline, present: int) -> int:
    """The memory ``timeline``'s checkpoints take, by tracemalloc: fresh copies of them
    recorded into a timeline of their own. Measured on copies, as tracing the whole run
    would slow its steps tenfold."""
    kept = [timeline.checkpoint(s) for s in range(timeline.origin, present + 1)]
    kept = [c for c in kept if c is not None]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        copy = Timeline(timeline.stretches[0], _fresh(kept[0]), budget=2**62)
        for c in kept[1:]:
            copy.record(_fresh(c))
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def memory_line(name: str, session: TrainingSession) -> str:
    timeline = session.timeline
    counted, measured = timeline.bytes, measured_bytes(timeline, session.step_count)
    kept = "every step" if timeline.stride == 1 else f"every {timeline.stride} steps (stride)"
    return (
        f"  {name} after {session.step_count:,} steps: {len(timeline):,} checkpoints, "
        f"{kept}; counted {counted / 2**20:.1f} MB, tracemalloc {measured / 2**20:.1f} MB "
        f"of the {BUDGET / 2**20:.0f} MB budget ({measured / BUDGET:.0%})"
    )


def cursor_line(label: str, session: TrainingSession, samples: int, clock) -> str:
    back, forward, step = cursor_times(session, samples, clock)
    worst = max(back, forward) * 1000
    verdict = "ok" if worst <= TARGET_MS else "SLOW"
    return (
        f"  {label}: one step back {back * 1000:.2f} ms ({back / step:.2f}x a step), "
        f"forward {forward * 1000:.2f} ms ({forward / step:.2f}x), step() {step * 1000:.2f} ms; "
        f"median of {samples} (target {TARGET_MS:.0f} ms: {verdict})"
    )


def run_time_travel(quick: bool, out, clock=time.process_time) -> str:
    samples = 30 if quick else 100
    long_moons = 4_000 if quick else 10_000
    lines = ["", "Time travel (engine), the history cursor and the timeline's memory:"]
    moons = _trained("moons", 500)
    lines.append(cursor_line("moons, 500 steps", moons, samples, clock))
    print("\n".join(lines), file=out, flush=True)
    for name, steps in (("tutorial", 10_000), ("moons", long_moons)):
        session = _trained(name, steps)
        lines.append(memory_line(name, session))
        print(lines[-1], file=out, flush=True)
        if name == "moons" and session.timeline.stride > 1:
            label = f"moons, {steps:,} steps (stride {session.timeline.stride})"
            lines.append(cursor_line(label, session, samples // 3, clock))
            print(lines[-1], file=out, flush=True)
        if name == "moons":
            lines.append(rewind_line(session, clock))
            print(lines[-1], file=out, flush=True)
    return "\n".join(lines)


def rewind_line(session: TrainingSession, clock) -> str:
    """A branch from the middle of a long run: most of its cost is replaying the history
    rows the long run has thinned away and the branch keeps."""
    present, at = session.step_count, session.step_count // 2 + 1
    start = clock()
    session.rewind(at)
    took = clock() - start
    start = clock()
    session.step()
    step = clock() - start
    return (
        f"  rewind from step {present:,} to {at:,} (moons): {took:.2f} s, "
        f"{took / step:,.0f}x a step (the history rows a run of {at:,} steps keeps, replayed)"
    )


if __name__ == "__main__":
    import sys

    run_time_travel("--quick" in sys.argv, sys.stdout)
