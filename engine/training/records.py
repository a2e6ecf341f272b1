"""The records a training run is described by, shared by the session and its saved state.

``SessionConfig`` (what decides a run), ``BugEvent`` (a bug switched on or off),
``StepResult`` (what one update did) and ``Snapshot`` (an immutable copy of a run,
plain floats, that panes and screens draw from). They live apart from
``engine/training/session.py`` so that ``saved_state.py`` can check a saved run
without importing the session that makes one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.losses import LOSSES
from engine.nn import ACTIVATIONS
from engine.optim import Schedule
from engine.training.health import Health
from engine.training.history import History
from engine.training.symptoms import StepTrace
from engine.training.timeline import Ghost


@dataclass(frozen=True)
class SessionConfig:
    """Everything that decides a run, apart from the data and the bugs."""

    hidden: tuple[int, ...] = (4, 4)
    activation: str = "tanh"
    output_activation: str | None = None  # None: tanh nets end in tanh, others linear
    loss: str = "sse"
    lr: float = 0.05
    lr_end: float | None = None  # None: constant learning rate
    decay_steps: int = 100
    l2: float = 0.0  # alpha * sum(p**2) added to the loss
    weight_decay: float = 0.0
    seed: int = 0
    # Samples per step, drawn afresh each step (None: every sample, the full batch).
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden layer sizes must be positive integers, got {self.hidden}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r} (known: {', '.join(LOSSES)})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {self.lr}")

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.lr, self.lr_end, self.decay_steps)


@dataclass(frozen=True)
class StepResult:
    step: int  # the number of updates done, this one included
    loss: float
    accuracy: float
    grad_norm: float  # norm of the gradient the update applied
    weight_norm: float  # after the update
    lr: float
    diverged: bool


@dataclass(frozen=True)
class BugEvent:
    step: int  # the bug takes effect from the update after this many steps
    bug_id: str
    on: bool


@dataclass(frozen=True)
class Snapshot:
    """An immutable copy of a session's state, all plain floats."""

    step: int
    config: SessionConfig
    layer_sizes: tuple[int, ...]  # (inputs, hidden..., 1)
    weights: tuple[tuple[tuple[float, ...], ...], ...]  # [layer][neuron][input]
    biases: tuple[tuple[float, ...], ...]  # [layer][neuron]
    weight_grads: tuple[tuple[tuple[float, ...], ...], ...]
    bias_grads: tuple[tuple[float, ...], ...]
    inputs: tuple[tuple[float, ...], ...]
    targets: tuple[float, ...]
    predictions: tuple[float, ...]  # the model's outputs at the last forward pass
    loss: float  # the loss of the last forward pass (nan before the first)
    accuracy: float
    lr: float  # the rate the next update will use
    history: History
    bugs: frozenset[str]
    bug_events: tuple[BugEvent, ...]
    diverged_at: int | None
    diverged_reason: str | None
    test_inputs: tuple[tuple[float, ...], ...] = ()
    test_targets: tuple[float, ...] = ()
    test_loss: float = math.nan
    test_accuracy: float = math.nan
    # While any bug is on: a clean run from the same seed, in lockstep.
    twin_history: History | None = None
    # When the last step ran with a bug: the gradient clean code would have computed
    # at its weights (None when it ran clean: then the gradients are the true ones).
    true_gradients: tuple[float, ...] | None = None
    # When the last step ran with a bug: its gradients stage by stage (engine/training/symptoms.py).
    # A diagnosis, not part of the run's state: not saved, so left out of == and repr.
    trace: StepTrace | None = field(default=None, compare=False, repr=False)
    # Dead and saturated neurons at these weights, exploding or vanishing gradients at
    # this step (engine/training/health.py). Derived from the rest: left out of == too.
    health: Health | None = field(default=None, compare=False, repr=False)
    # Set when this is a past step of the run (TrainingSession.view): the run's step now.
    present: int | None = None
    # The future the last branch left (engine/training/timeline.py), until a reset.
    ghost: Ghost | None = field(default=None, compare=False, repr=False)

    @property
    def dead(self) -> int:
        """How many hidden neurons are dead (0 when not measured)."""
        return len(self.health.dead) if self.health else 0

    @property
    def saturated(self) -> int:
        return len(self.health.saturated) if self.health else 0

    @property
    def parameters(self) -> tuple[float, ...]:
        """Every parameter in ``MLP.parameters()`` order."""
        return tuple(_flatten(self.weights, self.biases))

    @property
    def gradients(self) -> tuple[float, ...]:
        return tuple(_flatten(self.weight_grads, self.bias_grads))


def _flatten(weights, biases) -> Iterable[float]:
    for layer_w, layer_b in zip(weights, biases):
        for neuron_w, b in zip(layer_w, layer_b):
            yield from neuron_w
            yield b
