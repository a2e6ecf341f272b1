"""A large run is built off the UI thread, shows what it is doing, and can be cancelled."""

from __future__ import annotations

import threading
from dataclasses import replace

from tests.support.pilot import SIZE, make_app, wait_for
from tui.cli.config import PRESETS, RunConfig
from tui.dashboard.runs import BACKGROUND_BUILD_FROM, builds_slowly
from tui.dashboard.screens.building import BuildingScreen

# 150 x 150 hidden: 23,251 weights, over BACKGROUND_BUILD_FROM; builds in well under a second.
WIDE = RunConfig(dataset="moons", session=replace(PRESETS["moons"], hidden=(150, 150)))


def test_which_runs_are_built_in_the_background():
    assert builds_slowly(WIDE)
    assert not builds_slowly(RunConfig(dataset="moons", session=PRESETS["moons"]))
    many = RunConfig(dataset="moons", samples=BACKGROUND_BUILD_FROM, session=PRESETS["moons"])
    assert builds_slowly(many)


async def test_a_large_run_is_built_in_a_worker_then_replaces_the_run(monkeypatch):
    opened: list[BuildingScreen] = []

    class Recorded(BuildingScreen):
        def on_mount(self) -> None:
            opened.append(self)
            super().on_mount()

    monkeypatch.setattr("tui.dashboard.runs.BuildingScreen", Recorded)
    app = make_app("moons")
    async with app.run_test(size=SIZE) as pilot:
        old = app.session
        app.runs.replace(WIDE, "Apply the new settings")  # at step 0: no question asked
        await wait_for(lambda: app.session is not old, pilot)
        assert len(opened) == 1
        screen = opened[0]
        assert not isinstance(app.screen, BuildingScreen)
        assert app.session.config.hidden == (150, 150) and app.session.step_count == 0
        assert app.run_config == WIDE
        assert screen.phases[0] == "generating the data…"
        assert "23,251 weights, 100 points" in screen.phases[1]
        assert screen.phases[2:] == ["compiling the training step…", "ready"]
        assert app.session.passes.compiled is not None  # in the worker


async def test_escape_cancels_a_build_and_keeps_the_run(monkeypatch):
    release = threading.Event()
    original = RunConfig.load_data

    def slow_load(config):
        if threading.current_thread() is not threading.main_thread():
            release.wait()  # the build is stuck generating until the test lets it go
        return original(config)

    monkeypatch.setattr(RunConfig, "load_data", slow_load)
    app = make_app("moons")
    try:
        await cancel_a_stuck_build(app, release)
    finally:
        release.set()  # however the test ends, the worker's thread is let go


async def cancel_a_stuck_build(app, release: threading.Event) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        old, steps = app.session, app.session.step_count
        app.runs.replace(WIDE, "Apply the new settings")
        await pilot.pause()
        await pilot.press("y")  # discard the run of 1 step
        await wait_for(lambda: isinstance(app.screen, BuildingScreen), pilot)
        screen = app.screen
        await wait_for(lambda: screen.phases == ["generating the data…"], pilot)
        # The UI thread is free while the worker is stuck: the key is handled at once.
        await pilot.press("escape")
        assert not isinstance(app.screen, BuildingScreen)
        release.set()
        await wait_for(lambda: not screen.workers._workers, pilot)  # the worker ended
        await pilot.pause()
        assert app.session is old and app.session.step_count == steps
        assert screen.phases == ["generating the data…"]  # it stopped at the next phase
