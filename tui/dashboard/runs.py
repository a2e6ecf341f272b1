"""The runs room: switching to another run (a dataset's preset, new settings, a bug's
demo), asking first when the current one has steps, building a large one off the UI
thread (``BuildingScreen``), cancellable."""

from __future__ import annotations

import os
from dataclasses import replace

from textual.app import App

import datasets
from engine.training import budget
from engine.training.session import TrainingSession
from tui.cli.config import PRESETS, ConfigError, RunConfig
from tui.cli.demos import DEMOS, HEALTH_DEMOS
from tui.dashboard.screens.building import BuildingScreen
from tui.dashboard.screens.dialogs import ConfirmDialog
from tui.dashboard.screens.settings import RunSettingsScreen
from tui.dashboard.widgets.boundary import DecisionBoundary

# From this many weights or points a new run is built in a worker (BuildingScreen):
# drawing 20,000 weights or generating 20,000 points takes a noticeable moment.
BACKGROUND_BUILD_FROM = 20_000


def builds_slowly(config: RunConfig) -> bool:
    """Whether building ``config``'s run could hold up the UI for a noticeable moment."""
    if config.data_path:
        try:
            return os.path.getsize(config.data_path) > 1_000_000
        except OSError:
            return False  # the build reports the problem at once
    samples = config.samples or datasets.default_samples(config.dataset)
    weights = budget.parameter_count(datasets.features(config.dataset), config.session.hidden)
    return max(samples, weights) >= BACKGROUND_BUILD_FROM


def architecture(session: TrainingSession) -> str:
    """The run's model in one line: "MLP(2, [16, 16, 1]) relu · loss hinge · seed 0"."""
    cfg = session.config
    sizes = [session.nin, *cfg.hidden, 1]
    return f"MLP({sizes[0]}, {sizes[1:]}) {cfg.activation} · loss {cfg.loss} · seed {cfg.seed}"


class Runs:
    """Replaces ``app.session`` and ``app.run_config`` with another run's."""

    def __init__(self, app: App) -> None:
        self.app = app

    def current(self) -> RunConfig:
        """The running run's config, with its settings and bugs as they are now."""
        app = self.app
        return replace(
            app.run_config, session=app.session.config, bugs=tuple(sorted(app.session.bugs))
        )

    def choose_dataset(self, name: str) -> None:
        """Switch to a dataset's preset; asks first if the current run has steps."""
        if name not in datasets.DATASETS:
            self.app.notify(f"Unknown dataset {name!r}.", severity="error")
            return
        session = self.app.session
        config = RunConfig(
            dataset=name,
            session=replace(PRESETS[name], seed=session.config.seed),
            bugs=tuple(sorted(session.bugs)),
        )
        self.replace(config, f"Switch to the {name} preset")

    def settings(self) -> None:
        current = self.current()

        def apply(config: RunConfig | None) -> None:
            if config is None or config == current:
                return
            self.replace(config, "Apply the new settings")

        self.app.push_screen(RunSettingsScreen(current), apply)

    def demo(self, bug_id: str) -> None:
        """Load the run where ``bug_id`` shows plainest, bug on, clean twin beside it."""
        demo = DEMOS.get(bug_id)
        if demo is None:
            self.app.notify(f"There is no demo of {bug_id!r}.", severity="warning")
            return

        def loaded() -> None:
            self.app.notify(demo.why, title=f"Demo: {bug_id} on {demo.dataset}", timeout=8)

        self.replace(demo.run_config(), f"Load the {bug_id} demo", then=loaded)

    def health_demo(self, key: str) -> None:
        """Load a run whose neurons die or saturate (no bug on), and say why."""
        if self.app.quiz is not None:  # a demo would replace the quiz's run
            self.app.notify("Demos open after the quiz.", timeout=3)
            return
        demo = HEALTH_DEMOS[key]

        def loaded() -> None:
            self.app.notify(demo.why, title=f"Demo: {demo.title} (not a bug)", timeout=10)

        self.replace(demo.run_config(), f"Load the {demo.title} demo", then=loaded)

    def replace(self, config: RunConfig, what: str, then=None) -> None:
        """Start ``config``'s run in place of this one (asking first if it has steps).

        ``then``: called once it has started, to say more than ``what`` does. A
        large run is built off the UI thread (``BuildingScreen``), and can be cancelled.
        """
        app = self.app

        def switch(session: TrainingSession | str | None) -> None:
            if session is None:
                app.notify("Cancelled: kept the current run.", timeout=3)
                return
            if isinstance(session, str):
                app.notify(session, title="Could not start that run", severity="error")
                return
            app.trainer.stop()
            app.run_config = config
            app.session = session
            boundary = app.query_one(DecisionBoundary)
            if boundary.drawing and session.nin != 2:
                boundary.set_drawing(False)
            if then is None:
                app.notify(f"{what}: {architecture(session)}.")
            else:
                then()
            app.refresh_panes()

        def apply(confirmed: bool | None) -> None:
            if not confirmed:
                app.notify("Kept the current run.", timeout=2)
                return
            if builds_slowly(config):
                # Off the UI thread, with its progress shown; escape cancels it.
                app.push_screen(BuildingScreen(config, what), switch)
                return
            try:
                switch(config.build_session())
            except (ConfigError, datasets.DatasetError, ValueError) as err:
                switch(str(err))

        steps = app.session.step_count
        if steps == 0:
            apply(True)
        else:
            app.push_screen(
                ConfirmDialog(
                    f"{what}? This discards the current run ({steps} steps).",
                    yes="Discard and switch",
                ),
                apply,
            )
