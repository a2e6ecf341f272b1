"""A demo per bug: the run where its harm is plainest within 30 steps, and why; and
two demos of ways a net breaks that are no bug in the code (``HEALTH_DEMOS``).

Each setting was chosen by training every preset with the bug and its clean
twin for 30 steps (``micrograd-tui train --dataset D --bug B --twin``) and
keeping the one where the buggy run falls furthest behind the twin, or shows
its bug most plainly. Every claim in a ``why`` sentence is checked against
the run by tests/tui/test_demos.py; the numbers are seed 0's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


# -- neuron health: not bugs -------------------------------------------------------

HEALTH_DEMO_STEPS = 100  # what each sentence is about, and what the tests check


@dataclass(frozen=True)
class HealthDemo:
    """A preset at another learning rate, where neurons die or saturate within
    ``HEALTH_DEMO_STEPS`` steps (engine/training/health.py). No bug is on: the
    code is right, the run breaks anyway."""

    key: str
    title: str  # "dead ReLUs": the palette says "Demo: dead ReLUs"
    dataset: str
    lr: float
    why: str  # one sentence, every number in it measured (tests/tui/test_demos.py)

    def run_config(self) -> RunConfig:
        """The dataset's preset at seed 0 and this rate (a decaying schedule keeps its shape)."""
        preset = PRESETS[self.dataset]
        lr_end = None if preset.lr_end is None else preset.lr_end * self.lr / preset.lr
        return RunConfig(dataset=self.dataset, session=replace(preset, lr=self.lr, lr_end=lr_end))


HEALTH_DEMOS: dict[str, HealthDemo] = {
    demo.key: demo
    for demo in (
        HealthDemo(
            "dead-relus",
            "dead ReLUs",
            "moons",
            5.0,
            "At 5× the preset's learning rate the first updates push most ReLUs below 0 on "
            "every point: 22 of the 32 are dead by step 3 and 21 still are at step 100, while "
            "the loss only creeps from 28 (step 5) to 25 and accuracy ends at 68% (at the "
            "preset's rate: 5 dead, 100%).",
        ),
        HealthDemo(
            "saturated-tanh",
            "saturated tanh",
            "tutorial",
            1.0,
            "At 20× the preset's learning rate 5 of the 8 hidden tanh neurons are past "
            "|t| > 0.99 on all 4 points by step 3, so their local gradient 1 - t² is under "
            "0.02: the loss sits at 8 (2 of 4 right) from step 5 to step 100, while at the "
            "preset's rate it is below 0.03 by step 30.",
        ),
    )
}
