"""The command palette's own commands: every action, dataset presets, run speeds."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

import datasets
from engine.bugs import CATALOGUE
from tui.demos import DEMOS
from tui.pacing import SPEEDS, speed_label


class DashboardCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = [
            (
                "Step once",
                partial(app.run_action, "step"),
                "forward, zero_grad, backward, update (space)",
            ),
            (
                "Run / pause",
                partial(app.run_action, "toggle_run"),
                "train continuously, or stop (r)",
            ),
            (
                "Reset",
                partial(app.run_action, "reset"),
                "back to the seed's initial weights (ctrl+r)",
            ),
            ("Halve the learning rate", partial(app.run_action, "lr_down"), "([)"),
            ("Double the learning rate", partial(app.run_action, "lr_up"), "(])"),
            (
                "Run settings…",
                partial(app.run_action, "settings"),
                "dataset, samples, noise, split, layers, activation, loss, lr, seed (c)",
            ),
            (
                "Swap decision boundary / predictions",
                partial(app.run_action, "swap_boundary"),
                "(b)",
            ),
            (
                "Draw mode: your own points",
                partial(app.run_action, "draw_mode"),
                "2-D data: add and remove points on the decision boundary (d)",
            ),
            ("Undo the last drawn point", partial(app.run_action, "undo_draw"), "(u)"),
            ("Redo the drawn point", partial(app.run_action, "redo_draw"), "(U)"),
            (
                "Export the data",
                partial(app.run_action, "export_data"),
                "the points, drawn ones included, as CSV for --data (ctrl+d)",
            ),
            (
                "Save the run",
                partial(app.run_action, "save_session"),
                "to a JSON file you can --load (ctrl+s)",
            ),
            (
                "Export the loss history",
                partial(app.run_action, "export_history"),
                "as CSV (ctrl+e)",
            ),
            (
                "Export to PyTorch",
                partial(app.run_action, "export_torch"),
                "a script that continues this run in torch (p)",
            ),
            (
                "Gradient check",
                partial(app.run_action, "gradcheck"),
                "backprop vs finite differences (g)",
            ),
            (
                "Graph and chain-rule stepper",
                partial(app.run_action, "graph"),
                "draw_dot-style value graph; step forward and backward node by node (v)",
            ),
            ("Toggle log scale", partial(app.run_action, "toggle_log"), "loss plot (l)"),
            (
                "Toggle log step axis",
                partial(app.run_action, "toggle_step_axis"),
                "loss plot: a long run's first steps spread out (x)",
            ),
            (
                "Full speed / watchable pace",
                partial(app.run_action, "full_speed"),
                "as fast as it goes, or back to the default pace (f)",
            ),
            ("Help", partial(app.run_action, "help"), "every key, pane and bug (?)"),
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
