"""Tests that need an extra (PyTorch, a browser) skip without it, unless their make target runs.

`make test-torch` and `make test-browser` set MICROGRAD_TUI_REQUIRE_EXTRAS to ``torch`` or
``browser``: there a missing extra of that kind is a failure, so CI can never pass them by
skipping every test.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest

REQUIRED = set(os.environ.get("MICROGRAD_TUI_REQUIRE_EXTRAS", "").split(","))


def need_module(name: str, extra: str) -> ModuleType:
    """The module; if it is missing, skip the test module (fail under ``extra``'s target)."""
    if extra in REQUIRED:
        return importlib.import_module(name)
    return pytest.importorskip(name)


def need_program(name: str, install: str, extra: str) -> str:
    """The program's path; if it is not on the PATH, skip (fail under ``extra``'s target)."""
    path = shutil.which(name)
    if path is None:
        message = f"no {name} on the PATH ({install})"
        if extra in REQUIRED:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path
