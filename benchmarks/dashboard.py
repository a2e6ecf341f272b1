"""The dashboard under load: training speed against headless, key latency, memory.

Runs the real app headless (``App.run_test``) at 120x40, trains at full speed
in its worker thread, and compares with ``TrainingSession.step()`` looping in
a plain thread for the same wall time. Key latency is the time from a key
event entering the app's queue to its action running, while training runs.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import replace

from textual import events
from textual.worker import WorkerCancelled

from engine.training.timeline import BUDGET
from tui.cli.config import PRESETS, RunConfig
from tui.dashboard.app import MicrogradApp


def _config(dataset: str) -> RunConfig:
    return RunConfig(dataset=dataset, session=replace(PRESETS[dataset]))


def headless_rate(dataset: str, seconds: float) -> float:
    """Steps/s of the session alone, stepped from a thread as the dashboard's worker does."""
    session = _config(dataset).build_session()
    session.step()  # compile outside the timing, as the app's first step would
    stop = threading.Event()
    count = 0

    def loop() -> None:
        nonlocal count
        while not stop.is_set():
            session.step()
            count += 1

    thread = threading.Thread(target=loop)
    start = time.perf_counter()
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    return count / (time.perf_counter() - start)


async def _pause_training(app: MicrogradApp, pilot) -> None:
    app.action_toggle_run()
    try:
        await app.workers.wait_for_complete()
    except WorkerCancelled:  # the training worker ends cancelled, as a pause does
        pass
    await pilot.pause()


async def _dashboard(dataset: str, seconds: float, presses: int) -> tuple[float, list[float], int]:
    app = MicrogradApp(_config(dataset), freeze_gc=True)
    latencies: list[float] = []
    pressed_at: list[float] = []
    original = app.action_toggle_log

    def timed_toggle_log() -> None:
        latencies.append(time.perf_counter() - pressed_at[-1])
        original()

    app.action_toggle_log = timed_toggle_log  # type: ignore[method-assign]
    app.trainer.speed = None  # full speed, as f sets it (r alone starts at DEFAULT_SPEED)
    async with app.run_test(size=(120, 40)) as pilot:
        app.session.step()  # compile first, as headless_rate does
        start_step = app.session.step_count
        app.action_toggle_run()
        start = time.perf_counter()
        gap = seconds / (presses + 1)
        for _ in range(presses):
            await asyncio.sleep(gap)
            pressed_at.append(time.perf_counter())
            await app._press_keys(["l"])  # what Pilot.press does, without waiting for idle
        await asyncio.sleep(gap)
        steps = app.session.step_count - start_step
        elapsed = time.perf_counter() - start
        await _pause_training(app, pilot)
    return steps / elapsed, latencies, steps


def dashboard_rate(dataset: str, seconds: float, presses: int = 10) -> tuple[float, list[float]]:
    rate, latencies, _ = asyncio.run(_dashboard(dataset, seconds, presses))
    return rate, latencies


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _dashboard_memory(total: int) -> tuple[float, float, int, float, float]:
    """RSS after 1,000 and after ``total`` tutorial steps trained by the dashboard's worker,
    and the run's checkpoints (MB) at each (time travel keeps them, within a budget)."""
    app = MicrogradApp(_config("tutorial"), freeze_gc=True)
    app.trainer.speed = None  # full speed: at 20 steps/s the run would take hours
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_toggle_run()
        while app.session.step_count < 1_000:
            await asyncio.sleep(0.05)
        early = _rss_mb()
        early_kept = app.session.timeline.bytes / 2**20
        while app.session.step_count < total:
            await asyncio.sleep(0.2)
        late = _rss_mb()
        late_kept = app.session.timeline.bytes / 2**20
        steps = app.session.step_count
        await _pause_training(app, pilot)
    return early, late, steps, early_kept, late_kept


def _idle(app: MicrogradApp) -> bool:
    """Nothing left to process or paint: every queue empty, no widget waiting to redraw."""
    nodes = (app, *app._registry)
    if any(node._message_queue.qsize() or node._next_callbacks for node in nodes):
        return False
    screen = app.screen
    return not (screen._dirty_widgets or screen._layout_required or screen._repaint_required)


async def _press_and_paint(app: MicrogradApp, key: str, char: str) -> float:
    """Seconds from a key event posted to the app until nothing is left to paint (no Pilot
    waits: they sleep in 20 ms slices)."""
    start = time.perf_counter()
    app.post_message(events.Key(key, char))
    await asyncio.sleep(0)
    while not _idle(app):
        await asyncio.sleep(0.0005)
    return time.perf_counter() - start


async def _time_travel(steps: int, moves: int) -> tuple[list[float], ...]:
    """Moons after ``steps`` steps: ``<`` then ``>`` pressed ``moves`` times each. Returns
    (the action: the past step rebuilt and handed to every pane; key to screen painted;
    the same for l, which redraws the loss plot only, and for space, a training step,
    which redraws every pane too), in seconds."""
    app = MicrogradApp(_config("moons"), freeze_gc=True)
    actions: list[float] = []
    original = app.travel.move

    def timed_move(by: int) -> None:
        start = time.perf_counter()
        original(by)
        actions.append(time.perf_counter() - start)

    app.travel.move = timed_move  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(steps):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        painted = [await _press_and_paint(app, "less_than_sign", "<") for _ in range(moves)]
        painted += [await _press_and_paint(app, "greater_than_sign", ">") for _ in range(moves)]
        log = [await _press_and_paint(app, "l", "l") for _ in range(moves)]
        app.travel.forget()
        step = [await _press_and_paint(app, "space", " ") for _ in range(moves)]
    return actions, painted, log, step


def run_dashboard(quick: bool, out) -> str:
    seconds = 4.0 if quick else 10.0
    lines = ["", "Dashboard at full speed (120x40, headless app), W2 moons preset:"]
    headless = headless_rate("moons", seconds)
    rate, latencies = dashboard_rate("moons", seconds)
    lines.append(f"  headless TrainingSession.step() in a thread: {headless:,.1f} steps/s")
    lines.append(
        f"  dashboard worker while drawing:              {rate:,.1f} steps/s "
        f"({rate / headless:.0%} of headless; target >= 70%)"
    )
    if latencies:
        lines.append(
            f"  key press to action while training: "
            f"median {statistics.median(latencies) * 1000:.0f} ms,"
            f" max {max(latencies) * 1000:.0f} ms over {len(latencies)} presses (target < 100 ms)"
        )
    actions, painted, log, step = asyncio.run(_time_travel(500, 20 if quick else 60))
    lines.append(
        f"  time travel, moons at step 500, a step back or forward (< >), {len(painted)} moves:"
        f"\n    the step rebuilt and handed to every pane: median "
        f"{statistics.median(actions) * 1000:.1f} ms, max {max(actions) * 1000:.1f} ms "
        f"(target < 50 ms)\n    key to every pane painted: median "
        f"{statistics.median(painted) * 1000:.0f} ms, max {max(painted) * 1000:.0f} ms "
        f"(space, a step, which repaints every pane too: median "
        f"{statistics.median(step) * 1000:.0f} ms; l, the loss plot only: "
        f"{statistics.median(log) * 1000:.0f} ms)"
    )
    total = 20_000 if quick else 100_000
    early, late, steps, early_kept, late_kept = asyncio.run(_dashboard_memory(total))
    rest = (late - late_kept) - (early - early_kept)
    lines.append(
        f"  dashboard memory, tutorial: RSS {early:.1f} MB after 1,000 steps, {late:.1f} MB after "
        f"{steps:,}; the time-travel checkpoints {early_kept:.1f} MB -> {late_kept:.1f} MB "
        f"(budget {BUDGET / 2**20:.0f} MB); everything else {rest:+.1f} MB "
        f"({rest / early:+.1%}; target within 10%)"
    )
    text = "\n".join(lines)
    print(text, file=out, flush=True)
    return text


if __name__ == "__main__":
    import sys

    run_dashboard("--quick" in sys.argv, sys.stdout)
