"""While a bug is on: one line saying, in the last step's numbers, what went wrong.
With no bug on, while some neurons are dead or saturated: what their marks mean."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.nn import parameter_names
from engine.training.health import DEAD, MARKS, SATURATED
from engine.training.records import Snapshot
from engine.training.symptoms import symptom
from tui.dashboard import format as fmt


def symptom_text(snapshot: Snapshot) -> Text:
    out = Text("symptom ", style="bold #ff7b72")
    if snapshot.trace is None:
        out.append("take a step with the bug on to see what it does to the gradients", style="dim")
    else:
        out.append(symptom(snapshot.trace, parameter_names(snapshot.layer_sizes)))
    return out


def health_text(snapshot: Snapshot) -> Text | None:
    """What the weights and gradients panes' marks mean, while any neuron has one."""
    health = snapshot.health
    if health is None or not (health.dead or health.saturated):
        return None
    out = Text("health ", style="bold #e3b341")
    if health.dead:
        out.append(f"{MARKS[DEAD]} {len(health.dead)} dead", style=fmt.HEALTH[DEAD])
        out.append(": output 0 on every training point, so no point sends their weights a gradient")
    if health.saturated:
        if health.dead:
            out.append(" · ")
        out.append(
            f"{MARKS[SATURATED]} {len(health.saturated)} saturated", style=fmt.HEALTH[SATURATED]
        )
        if snapshot.config.activation == "sigmoid":
            out.append(": within 0.01 of 0 or 1 on every point, local gradient under 0.01")
        else:
            out.append(": |t| > 0.99 on every point, so their local gradient is under 0.02")
    out.append(" · how this run trained, not a bug in the code", style="dim")
    return out


class SymptomLine(Static):
    """Shown while a bug is on (computed from the run itself: engine/training/symptoms.py),
    or, with none on, while a neuron is dead or saturated (engine/training/health.py)."""

    def show(self, snapshot: Snapshot) -> None:
        health = None if snapshot.bugs else health_text(snapshot)
        self.display = bool(snapshot.bugs) or health is not None
        self.set_class(health is not None, "-health")
        if snapshot.bugs:
            self.update(symptom_text(snapshot))
        elif health is not None:
            self.update(health)
