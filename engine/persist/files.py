"""Every file the app writes goes through ``write_text``; every file it loads, ``read_text``.

What ``write_text(path, text)`` does depends on what is at ``path``:

=========================================  ==============================================
at the path                                what happens
=========================================  ==============================================
nothing yet, or a regular file             atomic: a temporary file in the same folder,
                                           flushed to disk, renamed over the old one; an
                                           old file keeps its permissions (and owner)
a symbolic link                            the file it points to, as above; the link stays
``-``                                      standard output (when the caller allows it)
``/dev/stdout``, ``/dev/stderr``,          written into that open file of this program (so
``/dev/fd/N``, ``/proc/self/fd/N``         ``> out.txt 2>&1`` keeps everything in order);
                                           0, 1 and 2 only when the caller allows ``-``
a character device (``/dev/null``), a      written through, never replaced; a pipe that no
named pipe                                 program reads from is refused
a socket, a block device (a disk)          refused
a folder, a missing folder, no             refused: ``FileProblem`` names the path and the
permission, a full disk                    reason, and an old file stays as it was
=========================================  ==============================================

``check_writable(path)`` answers the same question without writing, so a
command can refuse a destination before it trains for an hour.

``read_text(path, limit, what)`` reads at most ``limit`` bytes, in pieces, and
refuses binary junk (not UTF-8, or a NUL byte) at the first piece that holds it, so
``/dev/zero``, ``/dev/urandom`` or a huge log are refused within a second
without filling memory.

We run as root on some machines, where ``os.replace`` onto ``/dev/null`` would
turn it into a regular file: that is why nothing but a regular file (or a new
path) is ever renamed over.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fcntl
import os
import secrets
import stat
import sys

STDOUT = "-"  # the path that means standard output
READ_PIECE = 1 << 20  # bytes read at a time

PathLike = str | os.PathLike

# Paths that name one of this process's open files: written into that open file, never
# reopened or renamed over, so that `> out.txt 2>&1` in the shell keeps everything in order.
_OWN_FILES = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_OWN_FILE_FOLDERS = ("/dev/fd/", "/proc/self/fd/")


class FileProblem(ValueError):
    """A file could not be written or read; the message is ``PATH: reason``."""

    def __init__(self, path: PathLike, reason: str) -> None:
        super().__init__(f"{os.fspath(path) or repr('')}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


# -- writing ---------------------------------------------------------------------------


def is_standard_output(path: PathLike) -> bool:
    """True for ``-``, ``/dev/stdout``, ``/dev/fd/1`` and ``/proc/self/fd/1``: where we print."""
    return os.fspath(path) == STDOUT or _own_file(os.fspath(path)) == 1


def _own_file(name: str) -> int | None:
    """The descriptor ``name`` names (``/dev/stderr``: 2, ``/dev/fd/5``: 5), or None."""
    absolute = os.path.abspath(name)
    if absolute in _OWN_FILES:
        return _OWN_FILES[absolute]
    for folder in _OWN_FILE_FOLDERS:
        number = absolute.removeprefix(folder)
        if number != absolute and number.isdigit():
            return int(number)
    return None


def check_writable(path: PathLike, allow_stdout: bool = True) -> str | None:
    """Why ``write_text(path, ...)`` would be refused (``PATH: reason``), or None.

    Does not open anything: a named pipe is only tried for a reader when written.
    """
    try:
        kind, target = _destination(path, allow_stdout)
        if kind == "atomic":  # a new file in that folder: the temporary file, at least
            folder = os.path.dirname(target)
            if not os.path.isdir(folder):
                raise FileProblem(path, f"no such directory {folder}")
            if not os.access(folder, os.W_OK | os.X_OK):
                read_only = os.statvfs(folder).f_flag & os.ST_RDONLY
                why = "read-only file system" if read_only else "permission denied"
                raise FileProblem(path, f"cannot create files in {folder} ({why})")
    except FileProblem as problem:
        return str(problem)
    return None


def write_text(path: PathLike, text: str, allow_stdout: bool = True) -> str:
    """Write ``text`` to ``path`` as the module docstring says; returns where it went.

    That is the absolute path written (a link's target) or ``"standard output"``.
    FileProblem, naming ``path`` and the reason, if it cannot; a regular file
    that was there is then as it was.
    """
    kind, target = _destination(path, allow_stdout)
    if kind == "stdout":
        sys.stdout.write(text)
        sys.stdout.flush()
        return "standard output"
    try:
        if kind == "open":
            for stream in (sys.stdout, sys.stderr):  # what was printed comes first
                stream.flush()
            _write_all(int(target), text.encode("utf-8"))
            return os.fspath(path)
        if kind == "through":
            _write_through(os.fspath(path), target, text.encode("utf-8"))
        else:
            _write_atomically(target, text)
    except OSError as err:
        raise FileProblem(path, f"cannot write it: {err.strerror or err}") from err
    return target


def _destination(path: PathLike, allow_stdout: bool) -> tuple[str, str]:
    """What to write: ("stdout", "-"), ("open", a descriptor of ours), ("through", a device or
    pipe to open) or ("atomic", a regular file or new path); FileProblem saying why not."""
    name = os.fspath(path)
    if name == STDOUT:
        if not allow_stdout:
            raise FileProblem(name, "standard output is not available here; give a file name")
        return "stdout", name
    if not name:
        raise FileProblem(name, "no file name given")
    descriptor = _own_file(name)
    if descriptor in (0, 1, 2) and not allow_stdout:  # e.g. a dashboard drawing on them
        stream = ("standard input", "standard output", "standard error")[descriptor]
        raise FileProblem(name, f"{stream} is not available here; give a file name")
    if descriptor is not None:
        try:
            os.fstat(descriptor)
        except OSError:
            raise FileProblem(name, f"this program has no open file {descriptor}") from None
        return "open", str(descriptor)
    absolute = os.path.abspath(name)
    try:
        info = os.stat(absolute)  # follows links: what would be written
    except FileNotFoundError:  # a new file (or a link to one): the write says if its folder is not
        return "atomic", os.path.realpath(absolute)
    except NotADirectoryError:
        raise FileProblem(name, "a part of the path before the file name is not a folder")
    except OSError as err:  # a link loop, permission denied on the way, a name too long
        raise FileProblem(name, f"cannot write it: {err.strerror or err}") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise FileProblem(name, "is a directory; give a file name")
    if stat.S_ISSOCK(mode):
        raise FileProblem(name, "is a socket; write to a file, a pipe or - instead")
    if stat.S_ISBLK(mode):
        raise FileProblem(name, "is a block device (a disk); refusing to write over it")
    target = os.path.realpath(absolute)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        if not os.access(target, os.W_OK):
            raise FileProblem(name, "cannot write it: Permission denied")
        return "through", target
    return "atomic", target


def _write_through(name: str, target: str, data: bytes) -> None:
    """Open ``target`` (a device, a pipe, one of our own open files) and write ``data`` into it."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK  # NONBLOCK: a pipe nobody reads fails now
    try:
        fd = os.open(target, flags)
    except OSError as err:
        if err.errno == errno.ENXIO:  # what opening a named pipe with no reader gives
            raise FileProblem(name, "a named pipe no program is reading from") from None
        raise
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_atomically(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: if anything fails, the old file stays as it was.

    Writes a temporary file beside it, flushes it to disk, then renames it
    over ``path`` (``os.replace`` is atomic on one file system). Raises OSError.
    """
    directory, name = os.path.split(path)
    try:
        old = os.stat(path)  # keep an existing file's permissions and owner
    except OSError:
        old = None
    while True:
        temp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 before the umask: a new file gets the permissions any new file would.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if old is not None:
            os.chmod(temp, stat.S_IMODE(old.st_mode))
            with contextlib.suppress(OSError):  # only root may give a file away
                os.chown(temp, old.st_uid, old.st_gid)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable (POSIX)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- reading ---------------------------------------------------------------------------


def read_text(path: PathLike, limit: int, what: str) -> str:
    """The UTF-8 text of ``path``, at most ``limit`` bytes; FileProblem naming it and why not.

    ``what`` names the kind of file in messages ("a session file"). Text that
    is not UTF-8 and binary junk (a NUL byte) are refused at the first piece
    that holds them; anything longer than ``limit`` as soon as it is.
    """
    name = os.fspath(path)
    too_big = f"larger than {describe_size(limit)}, the most {what} may be"
    if os.path.isdir(name):
        raise FileProblem(name, f"is a directory, not {what}")
    decoder = codecs.getincrementaldecoder("utf-8")()
    pieces: list[str] = []
    total = 0
    try:
        with open(name, "rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise FileProblem(name, too_big)
            while True:
                piece = f.read(min(READ_PIECE, limit + 1 - total))
                total += len(piece)
                text = decoder.decode(piece, final=not piece)
                if "\0" in text:
                    raise FileProblem(name, f"not {what}: binary data (a NUL byte)")
                pieces.append(text)
                if not piece:
                    break
                if total > limit:
                    raise FileProblem(name, too_big)
    except UnicodeDecodeError as err:  # err.object: the bytes it held back, then this piece
        at = total - len(err.object) + err.start
        raise FileProblem(name, f"not {what}: not UTF-8 text (byte {at})") from None
    except FileNotFoundError:
        raise FileProblem(name, "no such file") from None
    except OSError as err:
        raise FileProblem(name, f"cannot read it: {err.strerror or err}") from None
    return "".join(pieces)


def read_head(path: PathLike, size: int = 4096) -> str | None:
    """The first ``size`` bytes of a regular file as text (undecodable bytes replaced), to
    tell what kind of file it is; None when ``path`` is no regular file or cannot be read."""
    name = os.fspath(path)
    try:
        if not stat.S_ISREG(os.stat(name).st_mode):
            return None
        with open(name, "rb") as f:
            return f.read(size).decode("utf-8", errors="replace")
    except OSError:
        return None


def describe_size(size: int) -> str:
    """``64 MB`` for 64 MiB: how a limit is written in messages and the README."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} bytes"
