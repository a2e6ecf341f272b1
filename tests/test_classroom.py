"""A served dashboard's rules (tui/cli/classroom.py) and the terminal's: no typed path reaches
a file outside the shared folder; messages about a file never quote it when served."""

from __future__ import annotations

import os

import pytest

from datasets import DatasetError, parse_csv
from tests.support.cli import run_cli
from tui.cli import classroom
from tui.cli.data_file import load_csv
from tui.cli.saved_run import DATA, HISTORY, SESSION, TORCH, replace_question, written_by_us
from tui.cli.serve import is_loopback


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A shared data folder with one CSV, a secret beside it, and links of every kind."""
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "moons.csv").write_text("x,y,label\n0.5,1,1\n2,-1,0\n")
    (folder / "notes.txt").write_text("not data")
    secret = tmp_path / "secret.csv"
    secret.write_text("x,label\nsecret-token-abc,1\n")
    (folder / "escape.csv").symlink_to(secret)
    (folder / "inside.csv").symlink_to(folder / "moons.csv")
    monkeypatch.setenv(classroom.SERVED, "1")
    monkeypatch.setenv(classroom.DATA_DIR, str(folder))
    return folder


def test_only_the_shared_folders_own_csv_files_are_listed(shared):
    assert classroom.data_files() == ["inside.csv", "moons.csv"]


@pytest.mark.parametrize(
    "name, why",
    [
        ("../secret.csv", "not a file name"),
        ("/etc/passwd", "not a file name"),
        ("sub/x.csv", "not a file name"),
        ("..", "not a file name"),
        ("", "not a file name"),
        ("notes.txt", "not a CSV file"),
        ("escape.csv", "leads outside the shared folder"),
    ],
)
def test_a_name_that_leaves_the_folder_is_refused(shared, name, why):
    with pytest.raises(classroom.NotShared, match=why):
        classroom.data_path(name)


def test_a_shared_name_is_its_real_path_inside(shared):
    assert classroom.data_path("moons.csv") == os.path.realpath(shared / "moons.csv")
    assert classroom.data_path("inside.csv") == os.path.realpath(shared / "moons.csv")


def test_without_a_shared_folder_loading_is_off_and_says_how_to_turn_it_on(monkeypatch):
    monkeypatch.setenv(classroom.SERVED, "1")
    monkeypatch.delenv(classroom.DATA_DIR, raising=False)
    assert classroom.data_files() == []
    with pytest.raises(classroom.NotShared, match="serve --data-dir DIR"):
        classroom.data_path("moons.csv")


def test_served_messages_about_a_file_never_quote_it(tmp_path, monkeypatch):
    path = tmp_path / "s.csv"
    path.write_text("x,label\n1,1\nsecret-token-abc,0\n")
    with pytest.raises(DatasetError) as terminal:
        load_csv(path)
    assert str(terminal.value).endswith(":3: column 1: not a number: 'secret-token-abc'")
    monkeypatch.setenv(classroom.SERVED, "1")
    with pytest.raises(DatasetError) as served:
        load_csv(path)
    assert str(served.value) == f"{path}:3: column 1: not a number"
    for text in ("x,label\n1,7\n2,1\n", "x,label\n1,1\n2,1\n", "x,label\n1,1\n2,inf\n"):
        with pytest.raises(DatasetError) as err:
            parse_csv(text, "f.csv", quote=False)
        assert "7" not in str(err.value) and "inf" not in str(err.value)


def test_a_terminal_quotes_at_most_a_short_printable_excerpt():
    cell = "\x1b[31m" + "x" * 100
    with pytest.raises(DatasetError) as err:
        parse_csv(f"x,label\n1,1\n{cell},0\n", "f.csv")
    message = str(err.value)
    assert "\x1b" not in message and "\\x1b" in message
    assert message.endswith("…(cut)") and "x" * 30 not in message


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.4.5.6", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.0.2.7", False),
        ("::", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_replacing_asks_and_warns_for_a_file_micrograd_tui_did_not_write(tmp_path, capsys):
    run = tmp_path / "run.json"
    history = tmp_path / "history.csv"
    code, _, _ = run_cli(
        capsys, "train", "--steps", "2", "--save", str(run), "--history-csv", str(history)
    )
    assert code == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    assert replace_question(tmp_path / "none.json", SESSION) is None
    assert replace_question("/dev/null", SESSION) is None  # written through, not replaced
    assert (
        replace_question(run, SESSION) == f"{run} exists (a run micrograd-tui saved). Replace it?"
    )
    assert "not a run micrograd-tui saved" in replace_question(notes, SESSION)
    assert "not a loss history" in replace_question(run, HISTORY)
    assert "exists (a loss history" in replace_question(history, HISTORY)
    assert written_by_us("x1,x2,label\n1,2,1\n", DATA)
    assert written_by_us('#!/usr/bin/env python3\n"""A micrograd-tui run, continued', TORCH)
    assert not written_by_us("x1,x2,y\n", DATA)


def test_a_served_tab_keeps_a_smaller_time_travel_budget(monkeypatch):
    """30 tabs share the server: each run's checkpoints stay within SERVED_BUDGET."""
    from engine.training import timeline
    from tui import served_app
    from tui.cli.config import RunConfig

    monkeypatch.setattr(timeline, "BUDGET", timeline.BUDGET)  # restored after the test
    started = []
    monkeypatch.setattr(served_app, "die_with_the_server", lambda: None)
    monkeypatch.setattr(served_app.classroom, "tab_folder", lambda: None)
    monkeypatch.setattr(served_app, "dashboard_main", lambda argv: started.append(argv) or 0)
    assert served_app.main(["--dataset", "moons"]) == 0 and started == [["--dataset", "moons"]]
    session = RunConfig().build_session()  # the tutorial: about 1.1 KB a checkpoint
    assert session.timeline.budget == timeline.SERVED_BUDGET == 10 * 2**20
    for _ in range(12_000):
        session.step()
    assert session.timeline.stride > 1 and session.timeline.bytes <= timeline.SERVED_BUDGET
