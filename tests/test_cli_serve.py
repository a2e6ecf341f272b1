"""`micrograd-tui serve`: its flags are checked before anything is served (no extras needed).

Serving itself, in Chromium, is tests/extras/test_browser.py (`make test-browser`).
"""

from __future__ import annotations

import shlex
import sys

import pytest

from tests.support.cli import assert_one_line_error, run_cli
from tui.cli.serve import app_command, url


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--port", "0"), ["--port", "from 1 to 65535, got 0"]),
        (("--port", "http"), ["--port", "whole number"]),
        (("--dataset", "nope"), ["--dataset", "unknown dataset"]),
        (("--hidden", "4,,4"), ["--hidden", "layer 2 is empty"]),
        (("--load", "missing.json"), ["missing.json"]),
        (("--load", "missing.json", "--seed", "3"), ["drop --seed"]),
        (("--hots", "0.0.0.0"), ["unrecognized arguments: --hots"]),
    ],
)
def test_bad_serve_flags_are_one_line_and_exit_2(argv, words, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "serve", *argv)
    assert_one_line_error(code, out, err, "micrograd-tui serve", *words)


def test_without_textual_serve_it_says_how_to_get_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # `import textual_serve` fails
    code, out, err = run_cli(capsys, "serve", "--dataset", "xor")
    assert_one_line_error(code, out, err, "textual-serve", "micrograd-tui[serve]", "make serve")


def test_each_tab_runs_the_app_with_the_flags_given_but_host_and_port():
    command = app_command(["--dataset", "moons", "--hidden", "8,8", "--load", "my run.json"])
    assert command.startswith("exec ")  # the shell makes way: the app is the server's child
    words = shlex.split(command[len("exec ") :])
    assert words == [
        sys.executable,
        *("-m", "tui.served_app", "--dataset", "moons", "--hidden", "8,8", "--load", "my run.json"),
    ]


def test_the_url_is_one_a_browser_opens():
    assert url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert url("::1", 8080) == "http://[::1]:8080"
