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


@pytest.fixture(params=["unrolled", "loops"])
def codegen_form(request, monkeypatch) -> Iterator[str]:
    """Run a fast-path test with each form of generated code: one line per multiply
    (small nets) and one line per layer (wide nets), whatever the net's width.

    In the loops form only layers of at most 2 inputs write their sums out, so the
    small nets of the tests take both kinds of layer (moons: 2 inputs, then wider).
    """
    from engine.fast import codegen, compiled

    monkeypatch.setattr(compiled, "LOOPS_FROM", 0 if request.param == "loops" else 2**62)
    monkeypatch.setattr(codegen, "NARROW", 2)
    # The compiled functions are cached by shape; NARROW is not part of it.
    caches = (compiled._forward_function, compiled._backward_function)
    for cache in caches:
        cache.cache_clear()
    yield request.param
    for cache in caches:
        cache.cache_clear()
