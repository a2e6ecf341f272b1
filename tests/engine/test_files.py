"""engine/persist/files.py: what a write does to each kind of path, and bounded reads.

Real files, links, named pipes, sockets and (as root) device nodes made with
``mknod`` in a temporary folder; a full disk is a tiny tmpfs where the tests
may mount one, else an ENOSPC injected at the write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.persist import files
from engine.persist.files import FileProblem, check_writable, read_text, write_text

ROOT = os.geteuid() == 0
REPO = Path(__file__).resolve().parents[2]
needs_root = pytest.mark.skipif(not ROOT, reason="mknod and mount need root")


def kind(path) -> str:
    mode = os.lstat(path).st_mode
    for name in ("LNK", "REG", "CHR", "BLK", "FIFO", "SOCK", "DIR"):
        if getattr(stat, f"S_IS{name}")(mode):
            return name
    raise AssertionError(mode)


def refused(path, *fragments, allow_stdout=True) -> str:
    with pytest.raises(FileProblem) as caught:
        write_text(path, "new\n", allow_stdout)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return message


# -- regular files and new paths: atomic ------------------------------------------------


def test_a_new_path_and_a_regular_file_are_written_whole(tmp_path):
    path = tmp_path / "run.json"
    assert write_text(path, "one\n") == str(path)
    assert path.read_text() == "one\n"
    write_text(path, "two\n")
    assert path.read_text() == "two\n" and kind(path) == "REG"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary file left


def test_an_old_file_keeps_its_permissions_and_owner(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    if ROOT:
        os.chown(path, 4321, 8765)
    write_text(path, "new\n")
    info = os.stat(path)
    assert stat.S_IMODE(info.st_mode) == 0o640
    if ROOT:
        assert (info.st_uid, info.st_gid) == (4321, 8765)


# -- links: the target is written, the link stays --------------------------------------------


def test_a_link_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "target.json").write_text("old\n")
    os.chmod(tmp_path / "target.json", 0o600)
    link = tmp_path / "link.json"
    link.symlink_to("target.json")
    assert write_text(link, "new\n") == str(tmp_path / "target.json")
    assert kind(link) == "LNK" and os.readlink(link) == "target.json"
    assert (tmp_path / "target.json").read_text() == "new\n"
    assert stat.S_IMODE(os.stat(tmp_path / "target.json").st_mode) == 0o600


def test_a_link_to_a_new_file_creates_the_file(tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "out" / "fresh.json")
    write_text(link, "new\n")
    assert kind(link) == "LNK" and (tmp_path / "out" / "fresh.json").read_text() == "new\n"


def test_a_link_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    refused(tmp_path / "a", "cannot write it", "symbolic links")


# -- standard output -------------------------------------------------------------------------


def test_dash_is_standard_output(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert write_text("-", "a,b\n1,2\n") == "standard output"
    assert capsys.readouterr().out == "a,b\n1,2\n"
    assert not (tmp_path / "-").exists()
    refused("-", "standard output is not available here", allow_stdout=False)
    assert "standard output" in check_writable("-", allow_stdout=False)
    refused("/dev/stdout", "standard output is not available here", allow_stdout=False)
    refused("/dev/stderr", "standard error is not available here", allow_stdout=False)


def test_dev_stdout_writes_into_the_open_file_in_order(tmp_path):
    """`> out.txt 2>&1`: what was printed, then the file, then what is printed after."""
    out = tmp_path / "out.txt"
    script = (
        "import sys; from engine.persist.files import write_text\n"
        "print('before', file=sys.stderr)\n"
        "write_text('/dev/stdout', 'the file\\n')\n"
        "print('after', file=sys.stderr)\n"
    )
    with out.open("w") as f:
        subprocess.run([sys.executable, "-c", script], stdout=f, stderr=f, check=True, cwd=REPO)
    assert out.read_text() == "before\nthe file\nafter\n" and kind(out) == "REG"
    assert files.is_standard_output("/dev/stdout") and files.is_standard_output("-")
    assert not files.is_standard_output("/dev/stderr")


def test_a_descriptor_we_do_not_have_is_refused():
    refused("/dev/fd/987", "this program has no open file 987")


# -- devices, pipes and sockets: never replaced ------------------------------------------------


@needs_root
def test_a_null_device_is_written_through_and_stays_a_device(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    assert write_text(null, "x" * 100_000) == str(null)
    assert kind(null) == "CHR" and os.stat(null).st_rdev == os.makedev(1, 3)


@needs_root
def test_a_full_device_is_a_one_line_error_and_stays_a_device(tmp_path):
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    assert check_writable(full) is None  # only writing can tell
    refused(full, "cannot write it: No space left on device")
    assert kind(full) == "CHR" and os.stat(full).st_rdev == os.makedev(1, 7)


@needs_root
def test_a_block_device_is_refused_and_untouched(tmp_path):
    disk = tmp_path / "disk"
    os.mknod(disk, 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    assert "block device" in check_writable(disk)
    refused(disk, "is a block device")
    assert kind(disk) == "BLK"


def test_a_named_pipe_is_written_through_to_its_reader(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    opened = threading.Event()

    def read():
        # Open without waiting (so the writer finds a reader), then wait for the writer's first
        # bytes before reading to the end: an early read would see end of file at once.
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opens at once, writer or not
        opened.set()
        select.select([fd], [], [])
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as f:
            received.append(f.read())

    reader = threading.Thread(target=read)
    reader.start()
    opened.wait()
    write_text(fifo, "through the pipe\n" * 10_000)  # more than a pipe's buffer
    reader.join()
    assert received == [b"through the pipe\n" * 10_000]
    assert kind(fifo) == "FIFO"


def test_a_named_pipe_nobody_reads_is_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert check_writable(fifo) is None  # checking must not open it: a reader would see EOF
    refused(fifo, "a named pipe no program is reading from")
    assert kind(fifo) == "FIFO"


def test_a_socket_is_refused_and_stays_a_socket(tmp_path):
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert "is a socket" in check_writable(path)
        refused(path, "is a socket")
        assert kind(path) == "SOCK"


# -- folders, permissions, full disks: one line, the old file intact -------------------------------


def test_a_folder_and_a_missing_folder(tmp_path):
    assert check_writable(tmp_path) == f"{tmp_path}: is a directory; give a file name"
    refused(tmp_path, "is a directory")
    missing = tmp_path / "no" / "run.json"
    assert check_writable(missing) == f"{missing}: no such directory {tmp_path / 'no'}"
    refused(missing, "cannot write it: No such file or directory")
    (tmp_path / "file").write_text("")
    refused(tmp_path / "file" / "run.json", "not a folder")
    assert check_writable("") == "'': no file name given"


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A tiny file system of its own at ``folder``, or None where it cannot be mounted."""
    folder.mkdir()
    mounted = (
        ROOT
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        yield folder if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_leaves_the_old_file(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "small", "64k") as disk:
        if disk is None:  # no tmpfs here: the operating system's answer, injected at the write

            def no_space(*args):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            disk = tmp_path / "small"
            monkeypatch.setattr(files.os, "fsync", no_space)
        path = disk / "run.json"
        path.write_text("old\n")
        with pytest.raises(FileProblem) as caught:
            write_text(path, "x" * 200_000)
        assert str(caught.value) == f"{path}: cannot write it: No space left on device"
        assert path.read_text() == "old\n"
        assert sorted(p.name for p in disk.iterdir()) == ["run.json"]  # no temporary file left


def test_no_permission_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    path.write_text("old\n")
    if ROOT:  # root may write anywhere: let the operating system refuse as it would a user

        def denied(*args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

        monkeypatch.setattr(files.os, "open", denied)
    else:
        os.chmod(tmp_path, 0o500)
        assert "(permission denied)" in check_writable(path)
    try:
        refused(path, "cannot write it: Permission denied")
    finally:
        os.chmod(tmp_path, 0o700)
    assert path.read_text() == "old\n"


@needs_root
def test_a_read_only_file_system_leaves_the_old_file(tmp_path):
    with tmpfs(tmp_path / "ro", "1m") as disk:
        if disk is None:
            pytest.skip("cannot mount a tmpfs here")
        (disk / "run.json").write_text("old\n")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        assert "(read-only file system)" in check_writable(disk / "run.json")
        refused(disk / "run.json", "cannot write it: Read-only file system")
        assert (disk / "run.json").read_text() == "old\n"


# -- bounded reading -------------------------------------------------------------------------


def read_refused(path, limit, *fragments) -> str:
    with pytest.raises(FileProblem) as caught:
        read_text(path, limit, "a test file")
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_reading_text_within_the_limit(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("héllo\n" * 1000)
    assert read_text(path, 7000, "a test file") == "héllo\n" * 1000


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path):
    path = tmp_path / "big.txt"
    with path.open("wb") as f:
        f.truncate(3 << 30)  # 3 GB that take no disk: refused without reading them
    read_refused(path, 1 << 20, "larger than 1 MB, the most a test file may be")


def test_endless_devices_are_refused_at_the_first_piece():
    read_refused("/dev/zero", 256 << 20, "not a test file: binary data (a NUL byte)")
    read_refused("/dev/urandom", 256 << 20, "not a test file: not UTF-8 text")


def test_an_endless_pipe_of_text_stops_at_the_limit(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    stop = threading.Event()

    def write_forever():
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as f:
            while not stop.is_set():
                f.write(b"1,2,1\n" * 10_000)

    writer = threading.Thread(target=write_forever)
    writer.start()
    try:
        read_refused(fifo, 4 << 20, "larger than 4 MB")
    finally:
        stop.set()
        writer.join()


def test_text_split_across_pieces_and_a_cut_character(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "READ_PIECE", 3)  # every multi-byte character crosses a piece
    path = tmp_path / "a.txt"
    path.write_text("ééé€€")
    assert read_text(path, 100, "a test file") == "ééé€€"
    path.write_bytes("éé".encode() + b"\xe2\x82")  # ends inside a character
    read_refused(path, 100, "not UTF-8 text (byte 4)")
    path.write_bytes(b"ok\n\xff")
    read_refused(path, 100, "not UTF-8 text (byte 3)")


def test_missing_file_and_folder_when_reading(tmp_path):
    read_refused(tmp_path / "nope", 100, "no such file")
    read_refused(tmp_path, 100, "is a directory, not a test file")
