"""Helpers for driving the dashboard in tests: fixed seeds, no timers."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from tui.app import MicrogradApp
from tui.config import PRESETS, RunConfig


def make_app(dataset: str = "tutorial", bugs: tuple[str, ...] = (), **session) -> MicrogradApp:
    config = RunConfig(dataset=dataset, session=replace(PRESETS[dataset], **session), bugs=bugs)
    return MicrogradApp(config)


@pytest.fixture
def app() -> MicrogradApp:
    return make_app()


async def wait_for(predicate, pilot, timeout: float = 10.0) -> None:
    """Let the app run until ``predicate()`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)
