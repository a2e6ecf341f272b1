"""While a bug is on: one line saying, in the last step's numbers, what went wrong."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.nn import parameter_names
from engine.training.records import Snapshot
from engine.training.symptoms import symptom


def symptom_text(snapshot: Snapshot) -> Text:
    out = Text("symptom ", style="bold #ff7b72")
    if snapshot.trace is None:
        out.append("take a step with the bug on to see what it does to the gradients", style="dim")
    else:
        out.append(symptom(snapshot.trace, parameter_names(snapshot.layer_sizes)))
    return out


class SymptomLine(Static):
    """Shown only while a bug is on; computed from the run itself (engine/training/symptoms.py)."""

    def show(self, snapshot: Snapshot) -> None:
        self.display = bool(snapshot.bugs)
        if snapshot.bugs:
            self.update(symptom_text(snapshot))
