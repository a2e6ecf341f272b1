"""Neuron health: which neurons stopped learning, and whether the gradients explode
or vanish.

Three classic ways a net breaks without a bug in its code:

* a ReLU neuron whose output is 0 on every training point is *dead*: its local
  gradient is 0 on every point, so no weight feeding it ever changes again;
* a tanh neuron with |t| > 0.99 on every point (a sigmoid one with t < 0.01 or
  t > 0.99 on every point) is *saturated*: its local gradient ``1 - t**2``
  (``t * (1 - t)``) is below 0.02 (0.0099) everywhere, so it barely learns;
* the gradients *explode* when their norm grew more than 100x in 10 steps, and
  *vanish* when layer 1's gradient norm is below 1e-6 of the last layer's.

Every hidden neuron with a non-linear activation is measured. The output neuron is
not: a tanh net that has learned to classify every point gives outputs near +1 or
-1 everywhere, which is its goal, not a fault. A linear neuron passes every
gradient on and is never marked.

Which weights: a run's ``Health`` at step N describes the neurons at the weights
*after* step N's update (those a ``--save`` at step N holds, the weights the
panes show), on every training point; the gradient rules read step N's
gradients (computed at the weights before that update, the ones the update
applied, as the panes' gradients are). ``TrainingSession.health()`` measures it.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

DEAD = "dead"
SATURATED = "saturated"
# The mark a neuron carries wherever it is drawn (weights, gradients, the Graph screen).
MARKS = {DEAD: "✕", SATURATED: "≈"}
SATURATION = 0.99  # |tanh| above this (sigmoid within 0.01 of 0 or 1) on every point
GROWTH = 100.0  # the gradient norm grew more than this ...
GROWTH_STEPS = 10  # ... over this many steps: exploding
VANISHING = 1e-6  # layer 1's gradient norm below this fraction of the last layer's

Neuron = tuple[int, int]  # (layer, neuron), both counted from 0


def neuron_state(activation: str, outputs: Sequence[float]) -> str | None:
    """``DEAD``, ``SATURATED`` or None for a neuron with these outputs on every point."""
    if not outputs:
        return None
    if activation == "relu":
        # relu gives exactly 0.0 where its input is not positive (nan included).
        return DEAD if not any(outputs) else None
    if activation == "tanh":
        return SATURATED if all(abs(t) > SATURATION for t in outputs) else None
    if activation == "sigmoid":
        low, high = 1 - SATURATION, SATURATION
        return SATURATED if all(t < low or t > high for t in outputs) else None
    return None  # a linear neuron passes every gradient on


def growth(norm_now: float, norm_before: float) -> float | None:
    """How many times the gradient norm grew (None: no positive norm to compare with)."""
    if not (norm_before > 0 and math.isfinite(norm_before)):
        return None
    return norm_now / norm_before


def layer_gradient_norms(
    layer_sizes: Sequence[int], gradients: Sequence[float]
) -> tuple[float, ...]:
    """Each layer's gradient norm (weights and biases), gradients in ``MLP.parameters()``
    order, layer sizes from the inputs."""
    norms = []
    start = 0
    for nin, nout in itertools.pairwise(layer_sizes):
        end = start + nout * (nin + 1)
        part = gradients[start:end]
        norms.append(math.sqrt(math.fsum(map(operator.mul, part, part))))
        start = end
    return tuple(norms)


@dataclass(frozen=True)
class Health:
    """What is unhealthy in a run at ``step`` (see the module's note for which weights)."""

    step: int
    dead: tuple[Neuron, ...] = ()
    saturated: tuple[Neuron, ...] = ()
    # The gradient norm at this step over the one GROWTH_STEPS steps before (None:
    # the run is younger, or that norm was 0).
    growth: float | None = None
    # Layer 1's gradient norm over the last layer's (None: no step yet, or the last's is 0).
    first_to_last: float | None = None

    @property
    def exploding(self) -> bool:
        return self.growth is not None and self.growth > GROWTH

    @property
    def vanishing(self) -> bool:
        return self.first_to_last is not None and self.first_to_last < VANISHING

    def state(self, layer: int, neuron: int) -> str | None:
        """``DEAD``, ``SATURATED`` or None for neuron (layer, neuron), from 0."""
        if (layer, neuron) in self.dead:
            return DEAD
        if (layer, neuron) in self.saturated:
            return SATURATED
        return None

    def counts(self) -> str:
        """ "3 dead, 1 saturated": the non-zero counts, "" for a healthy net."""
        parts = []
        if self.dead:
            parts.append(f"{len(self.dead)} dead")
        if self.saturated:
            parts.append(f"{len(self.saturated)} saturated")
        return ", ".join(parts)

    def gradient_line(self) -> str:
        """A short sentence when the gradients explode or vanish, "" when they do neither."""
        lines = []
        if self.exploding:
            lines.append(f"exploding: |grad| ×{self.growth:,.0f} in {GROWTH_STEPS} steps")
        if self.vanishing:
            lines.append(f"vanishing: layer 1's |grad| is {self.first_to_last:.1g} of the last's")
        return "; ".join(lines)


def measure(
    step: int,
    activations: Sequence[str],
    outputs: Sequence[Sequence[Sequence[float]]],
    layer_norms: Sequence[float] = (),
    norm_now: float = math.nan,
    norm_before: float | None = None,
) -> Health:
    """The health of a net whose layer ``i`` (activation ``activations[i]``) gave
    ``outputs[i][neuron]`` on the training points, with the step's gradient norm per
    layer (``layer_norms``, inputs side first), and the whole gradient's norm now and
    ``GROWTH_STEPS`` steps before (None: the run is younger)."""
    found: dict[str, list[Neuron]] = {DEAD: [], SATURATED: []}
    hidden = zip(activations[:-1], outputs[:-1])  # the output neuron: see the module's note
    for li, (activation, layer) in enumerate(hidden):
        for ni, column in enumerate(layer):
            state = neuron_state(activation, column)
            if state is not None:
                found[state].append((li, ni))
    first_to_last = None
    if len(layer_norms) >= 2 and layer_norms[-1] > 0 and math.isfinite(layer_norms[-1]):
        first_to_last = layer_norms[0] / layer_norms[-1]
    return Health(
        step,
        tuple(found[DEAD]),
        tuple(found[SATURATED]),
        None if norm_before is None else growth(norm_now, norm_before),
        first_to_last,
    )


class HealthLog:
    """Since which step each neuron has been unhealthy, fed one ``Health`` per step."""

    def __init__(self) -> None:
        self.since: dict[Neuron, tuple[str, int]] = {}

    def add(self, health: Health) -> None:
        now = {n: DEAD for n in health.dead} | {n: SATURATED for n in health.saturated}
        for neuron in list(self.since):
            if self.since[neuron][0] != now.get(neuron):
                del self.since[neuron]
        for neuron, state in now.items():
            self.since.setdefault(neuron, (state, health.step))

    def unhealthy(self) -> list[tuple[Neuron, str, int]]:
        """Each unhealthy neuron, its state and the step it became so, in net order."""
        return [(n, state, step) for n, (state, step) in sorted(self.since.items())]
