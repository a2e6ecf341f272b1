"""The Graph screen on one moons sample (986 values): opening it, and every stepper key.

Runs the real app headless (``App.run_test``) at 120x40. A key's time is the
screen's work for it: the key's action, then drawing every visible row of the
graph and the panel (what the next frame needs), timed directly. Pilot's own
round trip (press, wait for idle, repaint) costs more than that on its own
(about 70 ms on a busy 2-core machine for an unbound key), so it is shown
apart, as an upper bound. Target: 50 ms per key. Memory: the heap
(tracemalloc) after opening sample after sample must stay flat: each graph
replaces the last.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import tracemalloc
from dataclasses import replace

from engine.training.presets import PRESETS
from tui.cli.config import RunConfig
from tui.dashboard.app import MicrogradApp
from tui.dashboard.screens.graph import GraphCanvas, GraphScreen

TARGET_MS = 50.0
KEYS = ("right", "left", "end", "home", "down", "up", "enter", "full_stop", "z")
NAMES = {
    "full_stop": ". (next sample)",
    "z": "Pilot round trip, unbound z",
    "enter": "enter (open/close neuron)",
}


ACTIONS = {
    "m": "model",
    "right": "step(1)",
    "left": "step(-1)",
    "end": "end",
    "home": "home",
    "down": "move_focus(1)",
    "up": "move_focus(-1)",
    "enter": "expand",
    "full_stop": "sample(1)",
}


def _draw(screen: GraphScreen) -> None:
    """What the next frame needs from the screen: every visible row, the title and panel."""
    canvas = screen.query_one(GraphCanvas)
    for y in range(canvas.size.height):
        canvas.render_line(y)
    for name in ("#graph-title", "#graph-panel"):
        screen.query_one(name).render()


async def _timed(pilot, key: str) -> float:
    screen = pilot.app.screen
    if key not in ACTIONS:  # Pilot's own round trip, for scale
        start = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        return time.perf_counter() - start
    start = time.perf_counter()
    await screen.run_action(ACTIONS[key])
    _draw(screen)
    elapsed = time.perf_counter() - start
    await pilot.pause()
    return elapsed


async def _measure(repeats: int) -> tuple[dict[str, list[float]], int, float, float]:
    app = MicrogradApp(
        RunConfig(dataset="moons", session=replace(PRESETS["moons"])), freeze_gc=True
    )
    times: dict[str, list[float]] = {"open (m)": []}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        for _ in range(repeats):
            await pilot.press("x")  # back to an example, so that m opens the model again
            await pilot.pause()
            times["open (m)"].append(await _timed(pilot, "m"))
        nodes = len(screen.graph.nodes)
        await pilot.press("end")  # forward done: the keys below act mid-graph
        await pilot.pause()
        for key in KEYS:
            series = times.setdefault(key, [])
            for i in range(repeats):
                if key == "enter":  # on a neuron: open it, then close it; both are timed
                    canvas = screen.query_one(GraphCanvas)
                    group = next(iter(screen.picture.groups))
                    if not screen.state.expanded:
                        canvas.set_focus_key(screen.picture.groups[group][-1])
                if key in ("home", "end") and i % 2:  # from both passes
                    await pilot.press("right")
                series.append(await _timed(pilot, key))
        # Memory: open sample after sample; the heap after the first few and at the end.
        gc.collect()
        tracemalloc.start()
        for _ in range(3):
            await pilot.press("full_stop")
        await pilot.pause()
        gc.collect()
        early = tracemalloc.get_traced_memory()[0]
        for _ in range(repeats * 2):
            await pilot.press("full_stop")
        await pilot.pause()
        gc.collect()
        late = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    return times, nodes, early / 1e6, late / 1e6


def run_graph_screen(quick: bool, out) -> str:
    repeats = 5 if quick else 15
    times, nodes, early, late = asyncio.run(_measure(repeats))
    lines = ["", f"Graph screen (120x40, headless app), one moons sample's graph ({nodes} values):"]
    for key, series in times.items():
        median, worst = statistics.median(series) * 1000, max(series) * 1000
        verdict = "ok" if worst <= TARGET_MS else ("median ok" if median <= TARGET_MS else "SLOW")
        lines.append(
            f"  {NAMES.get(key, key):28} median {median:6.1f} ms, worst {worst:6.1f} ms"
            f" over {len(series):2} (target {TARGET_MS:.0f} ms: {verdict})"
        )
    lines.append(
        f"  heap after opening 3 samples {early:.1f} MB, after {3 + repeats * 2}: {late:.1f} MB"
        f" ({(late - early) / early:+.1%}; bounded: each graph replaces the last)"
    )
    text = "\n".join(lines)
    print(text, file=out, flush=True)
    return text


if __name__ == "__main__":
    import sys

    run_graph_screen("--quick" in sys.argv, sys.stdout)
