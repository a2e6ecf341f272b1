"""Issue 16's tables, as a user types them: what `train --save/--history-csv` does to each kind
of path, and `--data`/`--load` on endless devices, huge and binary files.

The commands run as separate processes (the way a user runs them), each
reporting its own peak memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from datasets.csv import MAX_CSV_BYTES, MAX_CSV_COLUMNS, MAX_CSV_ROWS
from engine.persist.session_file import MAX_JSON_DEPTH, MAX_SESSION_BYTES

REPO = Path(__file__).resolve().parent.parent
ROOT = os.geteuid() == 0
MEMORY_CAP_KB = 300_000  # "memory staying under a few hundred MB"

# Runs main() and, at exit, writes its peak memory (KB) to the file named by the first argument.
# VmHWM is this process's own peak: ru_maxrss would carry over pytest's, inherited across exec.
_RUNNER = """
import re, sys
from tui.main import main
try:
    code = main(sys.argv[2:])
except SystemExit as done:
    code = done.code
finally:
    status = open("/proc/self/status").read()
    with open(sys.argv[1], "w") as f:
        f.write(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
sys.exit(code)
"""


def run(tmp_path, *argv, cwd=None) -> tuple[int, str, str, int]:
    """Exit code, stdout, stderr and peak memory (KB) of ``micrograd-tui *argv``."""
    peak = tmp_path / ".peak"
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(peak), *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd or tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,  # a guard against hanging forever, not a measurement
        check=False,
    )
    return done.returncode, done.stdout, done.stderr, int(peak.read_text())


def one_line(err: str, *words: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def kind(path) -> int:
    return stat.S_IFMT(os.lstat(path).st_mode)


# -- writing: the first table ---------------------------------------------------------------


@pytest.mark.skipif(not ROOT, reason="mknod needs root")
def test_save_to_a_full_device_leaves_the_device(tmp_path):
    full = tmp_path / "full"  # /dev/full, made here so a failure cannot break the machine's
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    code, out, err, _ = run(tmp_path, "train", "--steps", "2", "--save", full)
    assert code == 2 and "done: 2 steps" in out and "saved" not in out
    one_line(err, f"{full}: cannot write it: No space left on device")
    assert kind(full) == stat.S_IFCHR and os.stat(full).st_rdev == os.makedev(1, 7)


@pytest.mark.skipif(not ROOT, reason="mknod needs root")
def test_save_to_a_null_device_leaves_the_device(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    code, out, err, _ = run(tmp_path, "train", "--steps", "1", "--save", null)
    assert code == 0 and f"saved the run at step 1 to {null}" in out and err == ""
    assert kind(null) == stat.S_IFCHR and os.stat(null).st_rdev == os.makedev(1, 3)


def test_save_to_a_fifo_writes_through_it(tmp_path):
    fifo = tmp_path / "FIFO"
    os.mkfifo(fifo)
    received = []
    opened = threading.Event()

    def read():
        # Open without waiting (so the writer finds a reader), then wait for the writer's first
        # bytes before reading to the end: an early read would see end of file at once.
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        opened.set()
        select.select([fd], [], [])
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as f:
            received.append(f.read())

    reader = threading.Thread(target=read)
    reader.start()
    opened.wait()
    code, out, err, _ = run(tmp_path, "train", "--steps", "1", "--save", "FIFO")
    reader.join()
    assert code == 0 and err == "" and "saved the run at step 1" in out
    document = json.loads(received[0])
    assert document["format"] == "micrograd-tui session" and document["session"]["step"] == 1
    assert kind(fifo) == stat.S_IFIFO


def test_save_to_a_fifo_nobody_reads_is_one_line(tmp_path):
    os.mkfifo(tmp_path / "FIFO")
    code, out, err, _ = run(tmp_path, "train", "--steps", "1", "--save", "FIFO")
    assert code == 2 and "done: 1 steps" in out
    one_line(err, "FIFO: a named pipe no program is reading from")
    assert kind(tmp_path / "FIFO") == stat.S_IFIFO


def test_save_to_a_link_writes_its_target(tmp_path):
    (tmp_path / "target.json").write_text("old\n")
    (tmp_path / "link.json").symlink_to("target.json")
    code, out, err, _ = run(tmp_path, "train", "--steps", "1", "--save", "link.json")
    assert code == 0 and err == "" and f"to {tmp_path / 'target.json'}" in out
    assert kind(tmp_path / "link.json") == stat.S_IFLNK
    assert json.loads((tmp_path / "target.json").read_text())["session"]["step"] == 1


def test_history_csv_dash_is_standard_output(tmp_path):
    code, out, err, _ = run(tmp_path, "train", "--steps", "3", "--history-csv", "-")
    assert code == 0
    lines = out.splitlines()
    header = "step,loss,accuracy,grad_norm,weight_norm,lr,test_loss,test_accuracy,full_loss"
    assert lines[0] == header
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]
    assert "done: 3 steps" in err and "wrote the loss history to standard output" in err
    assert not (tmp_path / "-").exists()


def test_save_dash_is_a_session_on_standard_output(tmp_path):
    code, out, err, _ = run(tmp_path, "train", "--steps", "2", "--save", "-", "--json")
    assert code == 0 and json.loads(out)["session"]["step"] == 2
    assert json.loads(err.splitlines()[-1])["summary"] is True  # --json lines go to stderr


def test_both_to_standard_output_is_refused(tmp_path):
    code, out, err, _ = run(
        tmp_path, "train", "--save", "-", "--history-csv", "/dev/stdout", "--steps", "100000"
    )
    assert code == 2 and out == ""
    one_line(err, "--save and --history-csv cannot both write to standard output")


@pytest.mark.parametrize("bad", ["folder", "missing folder", "socket", "block device"])
def test_a_bad_destination_fails_before_training(bad, tmp_path):
    """`train --steps 100000 --save BAD` refuses before it trains, not after."""
    path = tmp_path / "bad"
    with contextlib.ExitStack() as stack:
        if bad == "folder":
            path.mkdir()
            reason = "is a directory"
        elif bad == "missing folder":
            path = path / "run.json"
            reason = "no such directory"
        elif bad == "socket":
            server = stack.enter_context(socket.socket(socket.AF_UNIX))
            server.bind(str(path))
            reason = "is a socket"
        else:
            if not ROOT:
                pytest.skip("mknod needs root")
            os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(7, 0))
            reason = "is a block device"
        before = kind(path) if path.exists() else None
        code, out, err, _ = run(tmp_path, "train", "--steps", "100000", "--save", path)
        assert code == 2 and out == ""  # not one step trained
        one_line(err, f"cannot write {path}: {reason}")
        assert (kind(path) if path.exists() else None) == before


# -- reading: the second table ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "device", "reason"),
    [
        ("--data", "/dev/zero", "not a CSV data file: binary data (a NUL byte)"),
        ("--load", "/dev/zero", "not a session file: binary data (a NUL byte)"),
        ("--data", "/dev/urandom", "not a CSV data file: not UTF-8 text"),
        ("--load", "/dev/urandom", "not a session file: not UTF-8 text"),
    ],
)
def test_endless_devices_are_refused(flag, device, reason, tmp_path):
    code, out, err, peak = run(tmp_path, "train", flag, device, "--steps", "1")
    assert code == 2 and out == ""
    one_line(err, f"{device}: {reason}")
    assert peak < MEMORY_CAP_KB


@pytest.mark.parametrize(
    ("flag", "limit", "what"),
    [("--data", MAX_CSV_BYTES, "a CSV data file"), ("--load", MAX_SESSION_BYTES, "a session file")],
)
def test_a_file_over_the_size_cap_is_refused(flag, limit, what, tmp_path):
    huge = tmp_path / "huge.log"
    with huge.open("wb") as f:
        f.truncate(limit + 1)  # sparse: no disk used, refused by its size
    code, out, err, peak = run(tmp_path, "train", flag, huge, "--steps", "1")
    assert code == 2 and out == ""
    one_line(err, f"{huge}: larger than {limit >> 20} MB, the most {what} may be")
    assert peak < MEMORY_CAP_KB


def test_a_csv_over_the_row_cap_is_refused(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("x,label\n" + "0.5,1\n" * (MAX_CSV_ROWS + 1))
    code, out, err, peak = run(tmp_path, "train", "--data", path, "--steps", "1")
    assert code == 2 and out == ""
    one_line(err, f"{path}: more than {MAX_CSV_ROWS:,} rows, the most a data file may hold")
    assert peak < MEMORY_CAP_KB


def test_a_csv_over_the_column_cap_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["1"] * (MAX_CSV_COLUMNS + 1)) + "\n")
    code, out, err, _ = run(tmp_path, "train", "--data", path, "--steps", "1")
    assert code == 2 and out == ""
    one_line(err, f"{path}:1: more than {MAX_CSV_COLUMNS:,} columns")


def test_a_session_nested_too_deep_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    code, out, err, _ = run(tmp_path, "train", "--load", path, "--steps", "1")
    assert code == 2 and out == ""
    one_line(err, f"{path}: not a session file: nested more than {MAX_JSON_DEPTH} levels deep")
