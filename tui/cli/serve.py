"""``micrograd-tui serve``: the dashboard in a browser, through textual-serve.

Each browser tab that opens the page gets its own app process, started by
textual-serve with the flags given to ``serve``. textual-serve 1.1.3 asks
an app to quit when its tab closes, but an app outlives a server that stops
(or is killed): nothing then reads its output or tells it to go. So here:

* The app is the server's own child (the shell textual-serve starts it
  with ``exec``s it), and it asks Linux for SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``): even a server killed with ``kill -9``
  takes its apps with it. An app whose server is gone has no screen and no
  keyboard, so there is nothing left for it to finish.
* When the server stops (Ctrl+C, SIGTERM) it first asks each app to exit
  (SIGTERM: Textual's web driver exits cleanly on it), waits up to
  ``EXIT_GRACE`` seconds, then kills what is left, before it returns.

Linux only, like the rest of the ``serve`` extra's promises; the textual-serve
import happens in ``serve()``, so the extra is needed only to serve.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence

SERVER_PID_VARIABLE = "MICROGRAD_TUI_SERVER_PID"
EXIT_GRACE = 3.0  # seconds an app gets to exit on SIGTERM before it is killed
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def url(host: str, port: int) -> str:
    """The address a browser opens: ``http://127.0.0.1:8000``, IPv6 in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def app_command(app_argv: Sequence[str]) -> str:
    """The shell command textual-serve runs per browser tab: this module, ``exec``ed."""
    return shlex.join([sys.executable, "-m", "tui.served_app", *app_argv]).join(("exec ", ""))


def child_pids() -> list[int]:
    """This process's children (Linux: /proc/self/task/*/children)."""
    pids = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                pids.extend(int(pid) for pid in f.read().split())
        except OSError:  # the thread ended meanwhile
            continue
    return pids


def end_children(grace: float = EXIT_GRACE) -> list[int]:
    """SIGTERM every child, SIGKILL those still there after ``grace`` seconds; their pids."""
    children = child_pids()
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.05)
    for pid in children:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    for pid in children:
        _reap(pid)
    return children


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """Running (not yet exited, or exited but not reaped: a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # reaped already (asyncio's child watcher)
        pass


def serve(app_argv: Sequence[str], host: str, port: int) -> int:
    """Serve the dashboard at ``host:port`` until Ctrl+C or SIGTERM; exit code."""
    from aiohttp import web
    from textual_serve.server import Server

    class DashboardServer(Server):
        def serve(self, debug: bool = False) -> None:
            """textual-serve's ``serve()``, announcing the URL once it listens, not before."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            for stop in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(stop, self.request_exit)
            web.run_app(
                self._make_app(),
                host=self.host,
                port=self.port,
                handle_signals=False,
                loop=loop,
                print=lambda _: print(
                    f"micrograd-tui: serving the dashboard at {self.public_url}\n"
                    "Open it in a browser; each tab runs its own dashboard. "
                    "Ctrl+C stops the server and every dashboard it started.",
                    flush=True,
                ),
            )

        async def on_startup(self, app) -> None:  # type: ignore[no-untyped-def]
            pass  # textual-serve's banner; ours follows once the port is open

        async def on_shutdown(self, app) -> None:  # type: ignore[no-untyped-def]
            end_children()

    os.environ[SERVER_PID_VARIABLE] = str(os.getpid())
    command = app_command(app_argv)
    server = DashboardServer(command, host, port, "micrograd-tui", url(host, port))
    try:
        server.serve()
    finally:
        end_children()  # whatever stopped the server, no app outlives it
    return 0


def die_with_the_server() -> None:
    """In a served app: be killed when the server goes, or exit now if it has gone already."""
    expected = os.environ.get(SERVER_PID_VARIABLE)
    if expected is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(expected):  # the server died before prctl took effect
        os._exit(1)
