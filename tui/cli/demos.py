"""A demo per bug: the run where its harm is plainest within 30 steps, and why.

Each setting was chosen by training every preset with the bug and its clean
twin for 30 steps (``micrograd-tui train --dataset D --bug B --twin``) and
keeping the one where the buggy run falls furthest behind the twin, or shows
its bug most plainly. Every claim in a ``why`` sentence is checked against
the run by tests/tui/test_demos.py; the numbers are seed 0's.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import bugs
from tui.cli.config import PRESETS, RunConfig

DEMO_STEPS = 30  # what each sentence is about, and what the tests check


@dataclass(frozen=True)
class Demo:
    bug: str
    dataset: str
    why: str  # one sentence: why this setting shows the bug

    def run_config(self) -> RunConfig:
        """The dataset's preset at seed 0 (the sentence's numbers), with the bug on."""
        return RunConfig(dataset=self.dataset, session=PRESETS[self.dataset], bugs=(self.bug,))


DEMOS: dict[str, Demo] = {
    demo.bug: demo
    for demo in (
        Demo(
            bugs.OVERWRITE_GRAD,
            "tutorial",
            "Every weight feeds all 4 samples' forward passes but keeps only the last "
            "path's gradient, so the loss stalls near 4.2 while the clean twin's falls "
            "below 0.03 within 30 steps.",
        ),
        Demo(
            bugs.SKIP_ZERO_GRAD,
            "moons",
            "On moons the gradients left over from earlier steps pile up and overshoot: "
            "the loss jumps above 10 by step 5 and is still over 10× the clean twin's at "
            "step 30 (on the tutorial data the same momentum happens to help).",
        ),
        Demo(
            bugs.ZERO_GRAD_AFTER_BACKWARD,
            "tutorial",
            "backward() finds the true gradient each step and the wipe after it leaves the "
            "update nothing, so the loss stays at its first value, 7.73, while the clean "
            "twin's falls below 0.03 within 30 steps.",
        ),
        Demo(
            bugs.GRADIENT_ASCENT,
            "tutorial",
            "The gradients are right but every update climbs them, so the loss rises from "
            "7.73 to near its ceiling of 16 (all 4 predictions wrong by almost 2) while the "
            "clean twin's falls below 0.03 within 30 steps.",
        ),
        Demo(
            bugs.TANH_DERIVATIVE,
            "tutorial",
            "The tutorial net is all tanh, so the wrong derivative acts everywhere: "
            "backprop is over 50× the true gradient at step 1 and the loss lurches up and "
            "down while the clean twin's falls smoothly below 0.03 within 30 steps.",
        ),
        Demo(
            bugs.FORWARD_ORDER_BACKWARD,
            "tutorial",
            "Walking from the leaves, backward() hands on every gradient before it arrives, "
            "so backprop itself is 0 (not wiped afterwards) and the loss stays at 7.73 while "
            "the clean twin's falls below 0.03 within 30 steps.",
        ),
    )
}
