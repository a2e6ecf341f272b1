"""The dashboard fixture; helpers live in tests/support/pilot.py."""

from __future__ import annotations

import pytest

from tests.support.pilot import make_app
from tui.app import MicrogradApp


@pytest.fixture
def app() -> MicrogradApp:
    return make_app()
