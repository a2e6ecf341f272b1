"""A served dashboard's rules: every browser tab is a stranger to the server's files.

``micrograd-tui serve`` tells each app it starts (through its environment) that it is
served, where its tabs keep their files, and which folder the teacher shared for data:

* ``SERVED``: set for every served app. Such an app never touches a path a browser user
  types: it saves and exports into a private folder of its own (``tab_folder()``, made
  at its start, removed when it ends) and offers each file as a download.
* ``TABS_ROOT``: the folder the server made for its tabs' folders (removed when the
  server stops, so a tab killed with its server leaves nothing behind either).
* ``DATA_DIR``: the folder ``serve --data-dir`` names, or unset: loading is then off.
  A file is chosen from its list (``data_files()``), by name, never by a typed path:
  ``data_path()`` refuses a name with a separator or ``..``, and one whose real path
  (symlinks resolved) leaves the folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

SERVED = "MICROGRAD_TUI_SERVED"
TABS_ROOT = "MICROGRAD_TUI_TABS_ROOT"
DATA_DIR = "MICROGRAD_TUI_DATA_DIR"
DATA_SUFFIXES = (".csv",)
LOADING_OFF = (
    "loading files is off on this server; the teacher can share a folder with "
    "'micrograd-tui serve --data-dir DIR'"
)


class NotShared(ValueError):
    """A name that is not a file in the shared data folder; the message says why."""


def served() -> bool:
    return bool(os.environ.get(SERVED))


_tab_folder: str | None = None


def tab_folder() -> str:
    """This served app's private folder, made on first use and removed at exit."""
    global _tab_folder
    if _tab_folder is None or not os.path.isdir(_tab_folder):
        root = os.environ.get(TABS_ROOT) or None
        _tab_folder = tempfile.mkdtemp(prefix="tab-", dir=root)
        atexit.register(shutil.rmtree, _tab_folder, ignore_errors=True)
    return _tab_folder


def in_tab_folder(name: str) -> str:
    """Where a served app writes the file ``name`` (a plain file name: no folders)."""
    return os.path.join(tab_folder(), os.path.basename(name))


def data_dir() -> str | None:
    """The shared data folder (its real path), or None when loading is off."""
    folder = os.environ.get(DATA_DIR)
    return os.path.realpath(folder) if folder else None


def data_files() -> list[str]:
    """The names a student may choose from: the shared folder's CSV files, sorted."""
    folder = data_dir()
    if folder is None:
        return []
    names = []
    for name in sorted(os.listdir(folder)):
        try:
            path = data_path(name)
        except NotShared:
            continue
        if os.path.isfile(path):
            names.append(name)
    return names


def data_path(name: str) -> str:
    """The real path of the shared file ``name``; NotShared if it is anything else."""
    folder = data_dir()
    if folder is None:
        raise NotShared(LOADING_OFF)
    if not name or name in (".", "..") or os.sep in name or (os.altsep and os.altsep in name):
        raise NotShared(f"{name!r} is not a file name in the shared folder")
    if not name.endswith(DATA_SUFFIXES):
        raise NotShared(f"{name!r} is not a CSV file")
    real = os.path.realpath(os.path.join(folder, name))
    if os.path.dirname(real) != folder:
        raise NotShared(f"{name!r} leads outside the shared folder")
    return real
