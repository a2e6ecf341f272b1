"""Whether ``engine``, ``datasets`` and ``tui`` are micrograd-tui's own packages.

They are common names: Hugging Face's ``datasets`` in particular. Installed into the same
environment, another package of the same name replaces ours (pip writes both into one
folder) or comes first on ``sys.path``. The command checks before importing anything of
ours, without importing the other package (which may be large, or fail): each of our
packages says whose it is in its ``__init__.py`` (``OWNER_MARK``).
"""

from __future__ import annotations

import importlib.util

OWNER_MARK = '__owner__ = "micrograd-tui"'
PACKAGES = ("engine", "datasets", "tui")
INSTALL_HINT = (
    "install micrograd-tui in an environment of its own: "
    "'pipx install .' or 'uv tool install .' in its folder"
)


def shadowed() -> str | None:
    """What shadows one of our packages, in one sentence, or None when all three are ours."""
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None or not origin.endswith("__init__.py"):
            where = "is missing" if spec is None else f"is {origin or 'a namespace package'}"
            return f"the package {name!r} {where}, not micrograd-tui's"
        try:
            with open(origin, encoding="utf-8", errors="replace") as f:
                head = f.read(4096)
        except OSError as err:
            return f"cannot read the package {name!r} at {origin} ({err.strerror})"
        if OWNER_MARK not in head:
            return (
                f"the package {name!r} found at {origin} is not micrograd-tui's: another "
                f"package named {name!r} (such as Hugging Face's datasets) shadows it"
            )
    return None
