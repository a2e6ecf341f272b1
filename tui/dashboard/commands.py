"""The command palette's own commands: every action, dataset presets, run speeds."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

import datasets
from engine.bugs import CATALOGUE
from tui.cli.demos import DEMOS, HEALTH_DEMOS
from tui.dashboard.actions import palette_entries
from tui.dashboard.pacing import SPEEDS, speed_label


class DashboardCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = [
            (title, partial(app.run_action, action), what)
            for title, action, what in palette_entries()
        ]
        for i, bug in enumerate(CATALOGUE, start=1):
            commands.append(
                (
                    f"Toggle bug: {bug.id}",
                    partial(app.run_action, f"toggle_bug({i})"),
                    f"{bug.title} ({i})",
                )
            )
        for bug in CATALOGUE:
            commands.append(
                (
                    f"Why? Explain bug: {bug.id}",
                    partial(app.run_action, f"bug_detail('{bug.id}')"),
                    "the buggy line beside the correct one, and why it breaks training",
                )
            )
        for bug in CATALOGUE:
            demo = DEMOS[bug.id]
            commands.append(
                (
                    f"Demo bug: {bug.id} on {demo.dataset}",
                    partial(app.run_action, f"demo('{bug.id}')"),
                    "where its harm is plainest within 30 steps, with the clean twin",
                )
            )
        for demo in HEALTH_DEMOS.values():
            commands.append(
                (
                    f"Demo: {demo.title}",
                    partial(app.runs.health_demo, demo.key),
                    f"{demo.dataset} at lr {demo.lr:g}: no bug, its neurons die or saturate",
                )
            )
        for name in datasets.DATASETS:
            commands.append(
                (
                    f"Dataset: {name}",
                    partial(app.choose_dataset, name),
                    "switch to its preset; asks first",
                )
            )
        for speed in SPEEDS:
            label = speed_label(speed, unit=" steps/s")
            commands.append(
                (f"Run speed: {label}", partial(app.set_speed, speed), "how fast r trains")
            )
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
