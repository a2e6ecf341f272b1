"""The command palette's own commands: every action, dataset presets, run speeds."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

import datasets
from engine.bugs import CATALOGUE
from tui.cli.demos import DEMOS
from tui.dashboard.pacing import SPEEDS, speed_label

# (title, action, what it does): the actions the palette offers by name; the key
# each is bound to is added from the app's bindings.
ACTIONS: list[tuple[str, str, str]] = [
    ("Step once", "step", "forward, zero_grad, backward, update"),
    ("Run / pause", "toggle_run", "train continuously, or stop"),
    ("Reset", "reset", "back to the seed's initial weights"),
    ("Halve the learning rate", "lr_down", ""),
    ("Double the learning rate", "lr_up", ""),
    (
        "Run settings…",
        "settings",
        "dataset, samples, noise, split, layers, activation, loss, lr, seed",
    ),
    ("Swap decision boundary / predictions", "swap_boundary", ""),
    (
        "Draw mode: your own points",
        "draw_mode",
        "2-D data: add and remove points on the decision boundary",
    ),
    ("Undo the last drawn point", "undo_draw", ""),
    ("Redo the drawn point", "redo_draw", ""),
    (
        "Export the data",
        "export_data",
        "the points, drawn ones included, as CSV for --data",
    ),
    ("Save the run", "save_session", "to a JSON file you can --load"),
    ("Export the loss history", "export_history", "as CSV"),
    ("Export to PyTorch", "export_torch", "a script that continues this run in torch"),
    ("Gradient check", "gradcheck", "backprop vs finite differences"),
    (
        "Graph and chain-rule stepper",
        "graph",
        "draw_dot-style value graph; step forward and backward node by node",
    ),
    ("Toggle log scale", "toggle_log", "loss plot"),
    (
        "Toggle log step axis",
        "toggle_step_axis",
        "loss plot: a long run's first steps spread out",
    ),
    (
        "Full speed / watchable pace",
        "full_speed",
        "as fast as it goes, or back to the default pace",
    ),
    ("Help", "help", "every key, pane and bug"),
]


class DashboardCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        keys = {b.action: app.key_label(b) for b in app.BINDINGS if isinstance(b, Binding)}
        commands: list[tuple[str, Callable[[], object], str]] = [
            (title, partial(app.run_action, action), f"{what} ({keys[action]})".lstrip())
            for title, action, what in ACTIONS
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
