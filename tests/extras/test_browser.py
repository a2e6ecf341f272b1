"""`micrograd-tui serve` in a real browser: Debian's Chromium, driven by playwright.

Needs the `serve` and `browser` extras and `chromium` on the PATH (`make
test-browser` installs them); plain `make test` deselects the ``browser``
marker, and without them these tests skip. No browser is ever downloaded:
playwright drives the system's Chromium, and the page may reach nothing but
the server on loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.extras import need_module, need_program

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Only turns a hang into a failure: every wait below ends as soon as its state is reached.
PATIENCE = 60.0


def until(predicate, what: str, timeout: float = PATIENCE):
    """Poll ``predicate`` until it returns something true; fail naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


class Served:
    """A `micrograd-tui serve` process on a free loopback port, started in ``folder``.

    The port was free when ``free_port`` looked, but another process (other tests run on
    this machine too) may take it before the server listens: the server then says so and
    exits with 2 before its banner, and a new port is tried.
    """

    def __init__(self, folder: Path, *flags: str, tries: int = 5) -> None:
        for _ in range(tries):
            self.port = free_port()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tui", "serve", "--port", str(self.port), *flags],
                cwd=folder,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.banner = self.process.stdout.readline()
            if self.banner or self.process.wait() != 2:
                break
            self.process.stdout.close()  # the port was taken meanwhile: another one
        self.apps: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def app_pids(self) -> list[int]:
        pids = [pid for pid in children(self.process.pid) if running(pid)]
        self.apps.update(pids)
        return pids

    def stop(self) -> None:
        """Leave nothing behind, whatever the test did."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        for pid in self.apps:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(autouse=True, scope="module")
def _serve_extra():
    """Checked only when these tests run (a deselected module imports nothing)."""
    need_module("textual_serve", "browser")


@pytest.fixture(scope="module")
def browser():
    sync_api = need_module("playwright.sync_api", "browser")
    chromium_path = need_program("chromium", "apt-get install chromium", "browser")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def start(*flags: str) -> Served:
        served = Served(tmp_path, *flags)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def open_dashboard(browser, served: Served):
    """A page on the served dashboard, its app process started; (page, app pid)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    # Nothing but the server: the page's web font (Google Fonts) is refused, not fetched.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(f"http://127.0.0.1:{served.port}/")
            else route.abort()
        ),
    )
    page.goto(served.url)
    page.wait_for_selector("body.-first-byte", timeout=PATIENCE * 1000)  # the app has drawn
    (app,) = until(served.app_pids, "the app process")
    page.mouse.click(700, 10)  # focus the terminal
    return page, app


def test_the_dashboard_answers_keys_in_the_browser_and_saving_downloads(browser, serve, tmp_path):
    served = serve()
    assert served.banner.strip() == f"micrograd-tui: serving the dashboard at {served.url[:-1]}"
    page, _ = open_dashboard(browser, served)
    before = page.screenshot()

    for _ in range(3):
        page.keyboard.press("Space")
    # Served, a tab asks for no path: the run goes to its own folder and to the browser.
    with page.expect_download(timeout=PATIENCE * 1000) as download:
        page.keyboard.press("Control+s")
    assert download.value.suggested_filename == "micrograd-run.json"
    offered = json.loads(Path(download.value.path()).read_text())
    assert offered["session"]["step"] == 3  # the app's own state: three steps taken
    assert list(tmp_path.iterdir()) == []  # nothing in the folder the server runs in
    assert page.screenshot() != before

    with page.expect_download(timeout=PATIENCE * 1000) as download:
        page.keyboard.press("Control+e")  # the loss history as CSV
    assert download.value.suggested_filename == "micrograd-history.csv"
    assert len(Path(download.value.path()).read_text().splitlines()) == 1 + 3  # header, 3 steps

    with page.expect_download(timeout=PATIENCE * 1000) as download:
        page.keyboard.press("p")  # export to PyTorch: also a download
    assert download.value.suggested_filename == "micrograd_model.py"
    assert "STEPS_DONE = 3" in Path(download.value.path()).read_text()
    page.close()


def test_a_typed_path_reaches_no_file_outside_the_tabs_folder(browser, serve, tmp_path):
    """A student types an absolute path after ctrl+s, as at a terminal: it is keys, not a path."""
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "victim.json"
    target.write_text("the server's own file")
    served = serve()
    page, app = open_dashboard(browser, served)
    tabs_root = Path(until(lambda: tab_folder_of(app), "the tab's folder")).parent
    with page.expect_download(timeout=PATIENCE * 1000):
        page.keyboard.press("Control+s")
    page.keyboard.type(str(target))
    page.keyboard.press("Enter")
    page.keyboard.press("Space")  # a key after: the app is still there and answering
    assert target.read_text() == "the server's own file"
    assert [p.name for p in outside.iterdir()] == ["victim.json"]
    (folder,) = tabs_root.iterdir()
    # The path's letters were keys (its p exported to PyTorch): files of the app's own names,
    # in the tab's own folder, and nowhere else.
    names = {p.name for p in folder.iterdir()}
    assert "micrograd-run.json" in names
    assert names <= {"micrograd-run.json", "micrograd_model.py", "micrograd-history.csv"} | {
        "micrograd-data.csv"
    }
    page.close()
    until(lambda: not running(app), "the app to end with its tab")
    until(lambda: not any(tabs_root.iterdir()), "the tab's folder to be removed")


def tab_folder_of(pid: int) -> str | None:
    """The private folder a served app made (its environment names the root it is under)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    except OSError:
        return None
    root = Path(env.get(b"MICROGRAD_TUI_TABS_ROOT", b"").decode())
    found = list(root.iterdir()) if root.name and root.is_dir() else []
    return str(found[0]) if found else None


def fetch(url: str, cookie: str | None = None) -> tuple[int, str, str]:
    """(status, body, Set-Cookie) of a GET, errors included."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=PATIENCE) as answer:
            return answer.status, answer.read().decode(), answer.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), ""


def test_without_the_token_every_route_is_refused_and_no_app_starts(browser, serve):
    token = "classroom-token-1234"
    served = serve("--token", token)
    base = served.url
    assert served.banner.strip().endswith(f"{base}?token={token}")
    for route in ("", "ws", "download/anything", "static/css/xterm.css", "?token=wrong"):
        status, body, _ = fetch(base + route)
        assert (status, body.count("needs the link with its token")) == (403, 1), route
    status, _, cookie = fetch(f"{base}?token={token}")
    assert status == 200 and cookie.startswith(f"micrograd_tui_token={token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert fetch(base + "static/css/xterm.css", f"micrograd_tui_token={token}")[0] == 200
    assert served.app_pids() == []  # nothing refused started a process
    # A browser that came with the link keeps working on the cookie (its websocket).
    page = browser.new_page()
    page.goto(f"{base}?token={token}")
    page.wait_for_selector("body.-first-byte", timeout=PATIENCE * 1000)
    until(served.app_pids, "the app process")
    page.close()


def test_the_tab_over_the_limit_gets_a_full_page_and_no_process(browser, serve):
    served = serve("--max-sessions", "2")
    first, app = open_dashboard(browser, served)
    second, other = open_dashboard_again(browser, served, app)
    status, body, _ = fetch(served.url)
    assert status == 503 and "the server is full (2 dashboards are open" in body
    third = browser.new_page()
    third.goto(served.url)
    assert "the server is full" in third.inner_text("body")
    assert sorted(served.app_pids()) == sorted([app, other])
    first.close()  # a tab that closes frees its place
    until(lambda: not running(app), "the first app to end")
    until(lambda: fetch(served.url)[0] == 200, "a free place")
    third.goto(served.url)
    third.wait_for_selector("body.-first-byte", timeout=PATIENCE * 1000)
    until(lambda: len(served.app_pids()) == 2, "the third tab's app")
    second.close()
    third.close()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_stopping_the_server_ends_every_app_it_started(stop, browser, serve):
    served = serve("--dataset", "moons")
    first, app = open_dashboard(browser, served)
    second, other = open_dashboard_again(browser, served, app)
    served.process.send_signal(getattr(signal, stop))
    code = served.process.wait(timeout=PATIENCE)
    assert code == (-signal.SIGKILL if stop == "SIGKILL" else 0)
    until(lambda: not running(app) and not running(other), "the apps to end")
    first.close()
    second.close()


def open_dashboard_again(browser, served: Served, first_app: int):
    """A second tab: its own app process."""
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(f"http://127.0.0.1:{served.port}/")
            else route.abort()
        ),
    )
    page.goto(served.url)
    page.wait_for_selector("body.-first-byte", timeout=PATIENCE * 1000)
    pids = until(lambda: [p for p in served.app_pids() if p != first_app], "a second app")
    return page, pids[0]


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            check=False,
            timeout=PATIENCE,
        )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"micrograd-tui serve: error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    )
