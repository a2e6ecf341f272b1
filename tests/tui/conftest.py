"""Helpers for driving the dashboard in tests: fixed seeds, no timers."""

from __future__ import annotations

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
