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

A classroom (``--host 0.0.0.0``): every browser is a stranger. Beyond loopback each
request (the page, its websocket, its downloads) needs the server's token, in the link
(``?token=...``) or in the cookie the first visit leaves; without it the answer is a
403 and a one-line page. At most ``--max-sessions`` tabs run at once: one more gets a
page that says the server is full, and no process. Each app is told it is served
(``tui/cli/classroom.py``): it writes only into its own folder, under a folder this
server makes and removes, and reads data only from the folder ``--data-dir`` shares.

Linux only, like the rest of the ``serve`` extra's promises; the textual-serve
import happens in ``serve()``, so the extra is needed only to serve.
"""

from __future__ import annotations

import asyncio
import ctypes
import hmac
import ipaddress
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tui.cli import classroom

SERVER_PID_VARIABLE = "MICROGRAD_TUI_SERVER_PID"
EXIT_GRACE = 3.0  # seconds an app gets to exit on SIGTERM before it is killed
DEFAULT_MAX_SESSIONS = 40
TOKEN_COOKIE = "micrograd_tui_token"
REFUSED_PAGE = (
    "<!doctype html><title>micrograd-tui</title><p>micrograd-tui: this dashboard needs the "
    "link with its token; ask whoever runs the server for it.</p>"
)
FULL_PAGE = (
    "<!doctype html><title>micrograd-tui</title><p>micrograd-tui: the server is full "
    "({sessions} dashboards are open, its limit); close a tab or try again later.</p>"
)


@dataclass(frozen=True)
class Classroom:
    """Who may come in: the token (None: anyone who reaches the port) and how many at once."""

    token: str | None = None
    max_sessions: int = DEFAULT_MAX_SESSIONS
    data_dir: str | None = None  # shared with every tab for loading data; None: loading is off


def is_loopback(host: str) -> bool:
    """Whether ``host`` listens on this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _same(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


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


def serve(app_argv: Sequence[str], host: str, port: int, room: Classroom | None = None) -> int:
    """Serve the dashboard at ``host:port`` until Ctrl+C or SIGTERM; exit code."""
    from aiohttp import web
    from textual_serve.server import Server

    room = room or Classroom()

    @web.middleware
    async def gate(request: web.Request, handler):  # type: ignore[no-untyped-def]
        """The token on every route, and the limit on tabs at the page and its websocket."""
        came_with_token = False
        if room.token is not None:
            came_with_token = _same(request.query.get("token"), room.token)
            if not (came_with_token or _same(request.cookies.get(TOKEN_COOKIE), room.token)):
                return web.Response(status=403, text=REFUSED_PAGE, content_type="text/html")
        route = request.match_info.route.name
        if route in ("index", "websocket") and server.sessions >= room.max_sessions:
            page = FULL_PAGE.format(sessions=server.sessions)
            return web.Response(status=503, text=page, content_type="text/html")
        if route == "websocket":
            server.sessions += 1  # counted from before its process starts
            try:
                return await handler(request)
            finally:
                server.sessions -= 1
        response = await handler(request)
        if came_with_token:  # the next requests (websocket, downloads) carry it themselves
            response.set_cookie(TOKEN_COOKIE, room.token, httponly=True, samesite="Strict")
        return response

    class DashboardServer(Server):
        sessions = 0  # tabs whose app runs (their websockets are open)

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(gate)
            return app

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
                    f"micrograd-tui: serving the dashboard at {link}\n"
                    "Open it in a browser; each tab runs its own dashboard "
                    f"(at most {room.max_sessions} at once). "
                    "Ctrl+C stops the server and every dashboard it started.",
                    flush=True,
                ),
            )

        async def on_startup(self, app) -> None:  # type: ignore[no-untyped-def]
            pass  # textual-serve's banner; ours follows once the port is open

        async def on_shutdown(self, app) -> None:  # type: ignore[no-untyped-def]
            end_children()

    link = url(host, port) + (f"/?token={room.token}" if room.token else "")
    tabs_root = tempfile.mkdtemp(prefix="micrograd-tui-serve-")
    os.environ[SERVER_PID_VARIABLE] = str(os.getpid())
    os.environ[classroom.SERVED] = "1"
    os.environ[classroom.TABS_ROOT] = tabs_root
    if room.data_dir is not None:
        os.environ[classroom.DATA_DIR] = os.path.realpath(room.data_dir)
    else:
        os.environ.pop(classroom.DATA_DIR, None)
    command = app_command(app_argv)
    server = DashboardServer(command, host, port, "micrograd-tui", url(host, port))
    try:
        server.serve()
    finally:
        end_children()  # whatever stopped the server, no app outlives it
        shutil.rmtree(tabs_root, ignore_errors=True)  # nor any file a tab wrote
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
