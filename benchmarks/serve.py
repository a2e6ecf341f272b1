"""``python -m benchmarks.serve [--tabs 30]``: a classroom on one server, in one Chromium.

Starts ``micrograd-tui serve`` on a free loopback port, opens ``--tabs`` tabs in one
headless Chromium (Debian's, driven by playwright: nothing is downloaded) and reports:

* the time until every tab shows its dashboard (its app process started and drew);
* the time from pressing space in every tab until every app has taken step 1: each tab
  then presses ctrl+s, and the run it downloads (served, a tab's files are downloads)
  must say step 1, so the figure is the app's own state, not a guess from pixels;
* the server's total memory (the server and all its apps, VmRSS from /proc), and per tab;
* CPU per idle tab: each app's user+system time over 10 s of nobody pressing anything;
* that closing the tabs ends their apps (and how many were left).

Run by ``make bench-serve``, and as a section of ``make bench`` where Chromium is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDLE_SECONDS = 10.0
PATIENCE = 180.0  # turns a hang into a failure; every wait ends once its state is reached
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(predicate, what: str):
    deadline = time.monotonic() + PATIENCE
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return result


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def run_serve(tabs: int = 30, out=sys.stdout) -> str:
    """The classroom benchmark; its summary line (or why it did not run)."""
    chromium = shutil.which("chromium")
    try:
        import textual_serve  # noqa: F401
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "Serve: not run (needs the browser extra: make bench-serve installs it)"
    if chromium is None:
        return "Serve: not run (needs chromium: apt-get install chromium)"
    folder = tempfile.mkdtemp(prefix="micrograd-bench-serve-")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--port", str(port), "--max-sessions", str(tabs)],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        server.stdout.readline()  # the banner: listening
        idle_rss = _rss(server.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 1200, "height": 800})
            context.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort()
            )
            start = time.perf_counter()
            pages = []
            for _ in range(tabs):
                page = context.new_page()
                page.goto(url)
                pages.append(page)
            for page in pages:
                page.wait_for_selector("body.-first-byte", timeout=PATIENCE * 1000)
            apps = _until(
                lambda: len(_children(server.pid)) >= tabs and _children(server.pid),
                f"{tabs} app processes",
            )
            shown = time.perf_counter() - start
            print(f"  serve: {tabs} dashboards drawn in {shown:.1f} s", file=out, flush=True)
            start = time.perf_counter()
            for page in pages:
                page.mouse.click(600, 10)
                page.keyboard.press("Space")
            steps = []
            for page in pages:
                with page.expect_download(timeout=PATIENCE * 1000) as download:
                    page.keyboard.press("Control+s")
                run = json.loads(Path(download.value.path()).read_text())
                steps.append(run["session"]["step"])
            stepped = time.perf_counter() - start
            total = sum(_rss(p) for p in _tree(server.pid))
            per_tab = (total - idle_rss) / tabs
            print(
                f"  serve: all took step 1 ({steps.count(1)} of {tabs} saved step 1) in "
                f"{stepped:.1f} s; memory {total / 2**20:.0f} MB",
                file=out,
                flush=True,
            )
            before = {p: _cpu(p) for p in apps}
            time.sleep(IDLE_SECONDS)
            idle = [(_cpu(p) - before[p]) / IDLE_SECONDS * 100 for p in apps]
            idle_mean = sum(idle) / len(idle)
            idle_worst = max(idle)
            context.close()
            browser.close()
        _until(lambda: not any(_alive(p) for p in apps), "the apps to end with their tabs")
        left = sum(_alive(p) for p in apps)
    finally:
        server.terminate()
        server.wait()
        server.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)
    return (
        f"Serve ({tabs} tabs, one Chromium, one server on loopback): dashboards drawn "
        f"in {shown:.1f} s; space in each until all {steps.count(1)} saved step 1: "
        f"{stepped:.1f} s; memory {total / 2**20:.0f} MB in all (server and apps), "
        f"{per_tab / 2**20:.0f} MB per tab; idle CPU per tab {idle_mean:.2f}% of a core "
        f"(worst {idle_worst:.2f}%) over {IDLE_SECONDS:.0f} s; tabs closed: "
        f"{len(apps) - left} of {len(apps)} apps ended"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    parser.add_argument("--tabs", type=int, default=30, help="browser tabs (default 30)")
    args = parser.parse_args()
    print(run_serve(args.tabs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
