"""The status bar: where the run is, in one line."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

from engine.training.records import Snapshot
from tui.dashboard import format as fmt


def status_text(snapshot: Snapshot, state: str, steps_per_s: float | None, speed: str) -> Text:
    out = Text()
    past = snapshot.present is not None  # time travel: a past step of the run
    if past:
        state = "viewing"
    badge = {
        "running": "bold black on #3fb950",
        "paused": "bold black on #d29922",
        "diverged": "bold white on #b00020",
        "viewing": "bold black on #79c0ff",
    }[state]
    out.append(f" {state.upper()} ", style=badge)
    out.append(f" step {snapshot.step}", style="bold")
    if past:
        out.append(f" of {snapshot.present}", style="bold")
        out.append(" (end: present)", style="bold #79c0ff")
    batch = snapshot.config.batch_size
    out.append(
        "  batch loss " if batch is not None and batch < len(snapshot.targets) else "  loss "
    )
    out.append(fmt.short(snapshot.loss) if snapshot.step else "–", style="bold")
    out.append("  acc ")
    acc = snapshot.accuracy
    out.append(f"{acc:.0%}" if snapshot.step and not math.isnan(acc) else "–", style="bold")
    if snapshot.test_targets and snapshot.step:
        out.append("  test ")
        out.append(
            f"{fmt.short(snapshot.test_loss)}/{snapshot.test_accuracy:.0%}", style="bold #ffa657"
        )
    if snapshot.twin_history is not None and len(snapshot.twin_history):
        out.append("  twin ")
        twin = snapshot.twin_history.until(snapshot.step)  # a past step's: its own
        out.append(fmt.short(twin.loss[-1]) if len(twin) else "–", style="bold green")
    out.append(f"  lr {fmt.short(snapshot.lr)}")
    if state == "running" and steps_per_s:
        out.append(f"  {steps_per_s:,.0f} steps/s")
    if speed != "max":
        out.append(f"  speed {speed}", style="dim")
    counts = snapshot.health.counts() if snapshot.health is not None else ""
    if counts:  # "3 dead, 1 saturated": only when a neuron is
        out.append(f"  {counts}", style="bold #f85149" if snapshot.dead else "bold #e3b341")
    if snapshot.bugs:
        out.append("  bugs: ", style="dim")
        out.append(", ".join(sorted(snapshot.bugs)), style="bold red")
    if snapshot.diverged_reason:
        out.append(f"  {snapshot.diverged_reason}: lower lr with [, reset with ctrl+r", style="red")
    return out


class StatusBar(Static):
    """Not a pane: it also shows the app's own state (running, speed, steps per second)."""

    HELP_TITLE = "Status"
    HELP = (
        "Paused / running / diverged (or viewing a past step: 'step 40 of 120', end returns "
        "to the present), step, loss, accuracy, learning rate, steps per "
        "second, how many neurons are dead or saturated (when any are), active bugs. A run "
        "diverges when its loss is inf or nan, above 10^6 times its first step's, or a "
        "parameter passes 10^6 in size: it pauses and says why."
    )

    def show(self, snapshot: Snapshot, state: str, steps_per_s: float | None, speed: str) -> None:
        self.update(status_text(snapshot, state, steps_per_s, speed))
