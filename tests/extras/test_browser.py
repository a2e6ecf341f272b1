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
    page.keyboard.press("Control+s")  # the save dialog, prefilled with micrograd-run.json
    with page.expect_download(timeout=PATIENCE * 1000) as download:
        page.keyboard.press("Enter")
    saved = tmp_path / "micrograd-run.json"
    # The app's own state: three steps taken, saved on the server and offered to the browser.
    assert json.loads(saved.read_text())["session"]["step"] == 3
    offered = Path(download.value.path()).read_text()
    assert download.value.suggested_filename == "micrograd-run.json"
    assert offered == saved.read_text()
    assert page.screenshot() != before

    page.keyboard.press("Control+e")  # the loss history as CSV
    with page.expect_download(timeout=PATIENCE * 1000) as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "micrograd-history.csv"
    assert len(Path(download.value.path()).read_text().splitlines()) == 1 + 3  # header, 3 steps

    page.keyboard.press("p")  # export to PyTorch: also a download
    with page.expect_download(timeout=PATIENCE * 1000) as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "micrograd_model.py"
    assert "STEPS_DONE = 3" in Path(download.value.path()).read_text()
    page.close()


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
