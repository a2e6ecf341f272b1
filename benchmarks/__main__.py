"""``python -m benchmarks [--quick]``: steps/s per workload and contender, memory, start-up,
time travel.

The contenders take turns within each repeat (interleaved, so a busy moment
of the machine hurts them alike); the table shows each one's median and its
ratio to micrograd 0.1.0 measured in the same run. Steps are timed in CPU
time of this process (``time.process_time``): every contender is single
threaded (PyTorch is set to one thread), and other work on the machine then
distorts the numbers far less than wall time would. ``--wall`` times wall
clock instead.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from benchmarks.time_travel import run_time_travel
from benchmarks.workloads import EPISODE, WORKLOADS, Contender, Step, contenders

ROOT = Path(__file__).resolve().parent.parent
clock = time.process_time

# micrograd's recursive topological sort goes as deep as the graph (~1,190 for W3).
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


class Timing:
    """Steps/s samples of one contender on one workload."""

    def __init__(self, contender: Contender, step: Step, block: float, repeats: int, slow: int):
        self.contender = contender
        self.step = step
        self.rates: list[float] = []
        self.max_samples = repeats
        # The first step compiles (ours) or warms caches; it also tells the block size.
        start = clock()
        step()
        first = clock() - start
        if first > block:  # a slow contender: that step counts, one step per block, fewer blocks
            self.rates.append(1 / first)
            self.steps_per_block = 1
            self.max_samples = slow
        else:
            start = clock()
            step()
            second = clock() - start
            steps = max(1, int(block / max(second, 1e-7)))
            if steps >= EPISODE:  # whole episodes: every phase of training weighs the same
                steps = round(steps / EPISODE) * EPISODE
            self.steps_per_block = steps

    @property
    def done(self) -> bool:
        return len(self.rates) >= self.max_samples

    def measure(self) -> None:
        step = self.step
        n = self.steps_per_block
        start = clock()
        for _ in range(n):
            step()
        self.rates.append(n / (clock() - start))
        gc.collect()  # leave no garbage of this contender to the next one

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def run_speed(quick: bool, only: Sequence[str], out) -> list[tuple[str, list[Timing]]]:
    block = 0.25 if quick else 1.0
    repeats = 3 if quick else 5
    results = []
    for w in WORKLOADS:
        if only and w.key not in only:
            continue
        print(f"{w.key} {w.title}", file=out, flush=True)
        timings = []
        skipped = [c.title for c in contenders() if not w.runs(c.key)]
        if skipped:
            print(f"  (not run: {', '.join(skipped)}: a Value graph per step)", file=out)
        for c in contenders():
            if not w.runs(c.key):
                continue
            timings.append(Timing(c, c.make(w), block, repeats, slow=1 if quick else 3))
            gc.collect()
        for _ in range(repeats):
            for t in timings:
                if not t.done:
                    t.measure()
        for t in timings:
            print(
                f"  {t.contender.title:<42} {t.median:12,.2f} steps/s  "
                f"({len(t.rates)} x {t.steps_per_block} steps)",
                file=out,
                flush=True,
            )
        results.append((w.key, timings))
    return results


def table(results: list[tuple[str, list[Timing]]]) -> str:
    rows = [
        "| workload | contender | steps/s (median) | × micrograd | steps/s × M mult-adds |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for key, timings in results:
        base = next((t.median for t in timings if t.contender.key == "micrograd"), None)
        work = next(w for w in WORKLOADS if w.key == key).multiply_adds() / 1e6
        for t in timings:
            ratio = f"{t.median / base:,.1f}×" if base else "n/a"
            rows.append(
                f"| {key} | {t.contender.title} | {t.median:,.2f} | {ratio} | "
                f"{t.median * work:,.1f} |"
            )
    return "\n".join(rows)


def work_rate_line(results: list[tuple[str, list[Timing]]]) -> str | None:
    """The fast path's steps/s per million multiply-adds, W1 against W4 (target: within 2x)."""
    rates = {}
    for key, timings in results:
        work = next(w for w in WORKLOADS if w.key == key).multiply_adds() / 1e6
        for t in timings:
            if t.contender.key == "fast":
                rates[key] = t.median * work
    if "W1" not in rates or "W4" not in rates:
        return None
    return (
        f"work rate (fast): {rates['W1']:,.1f} steps/s x M multiply-adds on W1, "
        f"{rates['W4']:,.1f} on W4 (W4/W1 = {rates['W4'] / rates['W1']:.2f}; "
        f"target: W4 at least half of W1)"
    )


_COMPILE_PROBE = """
import resource, sys, time
from benchmarks.workloads import WORKLOADS
from engine.fast import CompiledNet
from engine.nn import MLP

w = next(w for w in WORKLOADS if w.key == sys.argv[1])
data = w.data()
model = MLP(len(data.xs[0]), w.sizes, w.activation, seed=1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.process_time()
net = CompiledNet(model, w.loss, w.l2, data.xs, data.ys)
net.forward_function(False)
for skip in (False, True):
    net.backward_function(False, False, skip)
took = time.process_time() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(took, before / 1024, peak / 1024, int(net.shape.loops))
"""


def run_compile(only: Sequence[str], out) -> list[str]:
    """Compile time and peak RSS of each workload's fast path, each in a fresh process."""
    lines = []
    for w in WORKLOADS:
        if only and w.key not in only:
            continue
        done = subprocess.run(
            [sys.executable, "-c", _COMPILE_PROBE, w.key],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        took, before, peak, loops = done.stdout.split()
        form = "loops" if int(loops) else "unrolled"
        line = (
            f"compile {w.key} ({form}): {float(took):.2f} s CPU, peak RSS {float(peak):.0f} MB "
            f"({float(before):.0f} MB before compiling)"
        )
        if w.key == "W4":
            line += "; target < 1 s and < 300 MB"
        print(line, file=out, flush=True)
        lines.append(line)
    return lines


_MEMORY_PROBE = """
import sys, time
from engine.training.session import TrainingSession
from tui.cli.config import PRESETS
import datasets

def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * __import__('os').sysconf('SC_PAGE_SIZE') / 1e6

data = datasets.make('tutorial')
session = TrainingSession(PRESETS['tutorial'], data.xs, data.ys)
first, total = int(sys.argv[1]), int(sys.argv[2])
for _ in range(first):
    session.step()
session.snapshot()
early, early_kept = rss_mb(), session.timeline.bytes / 1e6
start = time.perf_counter()
for _ in range(total - first):
    session.step()
session.snapshot()
rate = (total - first) / (time.perf_counter() - start)
print(early, rss_mb(), rate, early_kept, session.timeline.bytes / 1e6)
"""


def run_memory(total: int, out) -> str:
    """RSS after 1,000 tutorial steps and after ``total``, in a fresh process."""
    if not Path("/proc/self/statm").exists():
        return "memory: skipped (needs /proc)"
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, "1000", str(total)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    early, late, rate, early_kept, late_kept = map(float, done.stdout.split())
    # Time travel's checkpoints grow by design, up to their budget: counted apart.
    rest = (late - late_kept) - (early - early_kept)
    line = (
        f"memory: RSS {early:.1f} MB after 1,000 tutorial steps (TrainingSession, fast), "
        f"{late:.1f} MB after {total:,}: time-travel checkpoints {early_kept:.1f} -> "
        f"{late_kept:.1f} MB (within their 50 MB budget), everything else {rest:+.1f} MB "
        f"({rest / early:+.1%}; target within ±10%); {rate:,.0f} steps/s on the way"
    )
    print(line, file=out, flush=True)
    return line


def run_startup(runs: int, out) -> str:
    """Wall time of ``micrograd-tui train --steps 0``, median of ``runs``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui", "train", "--steps", "0"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
    line = (
        f"start-up: micrograd-tui train --steps 0 takes {statistics.median(times) * 1000:.0f} ms "
        f"(median of {runs}; target < 1 s)"
    )
    print(line, file=out, flush=True)
    return line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="short blocks and runs: about a minute"
    )
    parser.add_argument("--wall", action="store_true", help="time wall clock, not CPU time")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="W1|W2|W3|W4",
        help="run only this workload (repeatable); memory and start-up still run",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch without numpy
    global clock
    if args.wall:
        clock = time.perf_counter
    out = sys.stdout
    print(f"machine: {machine()}", file=out)
    print(f"timing: {'wall clock' if args.wall else 'CPU time of this process'}", file=out)
    if not any(c.key == "torch" for c in contenders()):
        print("PyTorch: not installed, skipped (pip install torch to compare)", file=out)
    print(file=out, flush=True)
    compiles = run_compile(args.only, out)
    print(file=out, flush=True)
    results = run_speed(args.quick, args.only, out)
    print(file=out)
    memory = run_memory(30_000 if args.quick else 100_000, out)
    startup = run_startup(3 if args.quick else 7, out)
    time_travel = run_time_travel(args.quick, out, clock)
    from benchmarks.dashboard import run_dashboard  # imports Textual: only here

    dashboard = run_dashboard(args.quick, out)
    from benchmarks.graph_screen import run_graph_screen

    graph_screen = run_graph_screen(args.quick, out)
    from benchmarks.serve import run_serve  # where Chromium and the browser extra are

    served = run_serve(5 if args.quick else 30, out)
    print("\n" + table(results), file=out)
    work = work_rate_line(results)
    print("\n" + "\n".join([*compiles, *([work] if work else [])]), file=out)
    timing = "wall clock" if args.wall else "CPU time"
    print(
        f"\n{memory}\n{startup}\n{time_travel}\n{dashboard}\n{graph_screen}\n{served}\n"
        f"machine: {machine()}; steps/s in {timing}",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
