"""Shared by the engine tests."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest


@contextmanager
def _gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@pytest.fixture(scope="session")
def gc_paused() -> Callable[[], AbstractContextManager[None]]:
    """A context manager that pauses the cyclic garbage collector.

    Value graphs hold no reference cycles, so while training a big net the
    collector's passes over them are wasted time; pausing it changes no result.
    """
    return _gc_paused
