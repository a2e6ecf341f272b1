"""A training run a UI can drive from one thread and watch from another.

``TrainingSession`` owns the model, the data, the loss, the optimizer, the
active bugs and the full history. ``step()`` is the lecture's training loop
body: forward, zero_grad, backward, update. ``snapshot()`` returns an
immutable copy of plain floats, safe to read while another thread trains.
"""

from __future__ import annotations

import math
import random
import threading
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from engine import bugs
from engine.gradcheck import GradCheckResult, gradcheck
from engine.losses import LOSSES, l2_penalty
from engine.nn import ACTIVATIONS, MLP
from engine.optim import SGD, Schedule
from engine.value import Value


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

    def __post_init__(self) -> None:
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden layer sizes must be positive integers, got {self.hidden}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r} (known: {', '.join(LOSSES)})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {self.lr}")

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.lr, self.lr_end, self.decay_steps)


class SessionDiverged(RuntimeError):
    """Raised by ``step()`` once the loss has become inf or NaN."""


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
class History:
    """One entry per update: index i belongs to step i + 1."""

    loss: tuple[float, ...] = ()
    accuracy: tuple[float, ...] = ()
    grad_norm: tuple[float, ...] = ()
    weight_norm: tuple[float, ...] = ()
    lr: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.loss)


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


def _norm(values: Iterable[float]) -> float:
    return math.sqrt(math.fsum(v * v for v in values))


def accuracy(scores: Sequence[float], targets: Sequence[float]) -> float:
    """Fraction of samples whose score has the target's sign."""
    if not scores:
        return math.nan
    hits = sum((s > 0) == (y > 0) for s, y in zip(scores, targets))
    return hits / len(scores)


class TrainingSession:
    """Model + data + loss + optimizer + bugs + history, behind one lock."""

    def __init__(
        self,
        config: SessionConfig,
        xs: Sequence[Sequence[float]],
        ys: Sequence[float],
        bug_ids: Iterable[str] = (),
    ):
        if not xs or len(xs) != len(ys):
            raise ValueError(f"need matching, non-empty inputs and targets ({len(xs)} vs {len(ys)})")
        widths = {len(x) for x in xs}
        if len(widths) != 1:
            raise ValueError(f"every sample needs the same number of features, got {sorted(widths)}")
        self.config = config
        self.xs = tuple(tuple(float(v) for v in x) for x in xs)
        self.ys = tuple(float(y) for y in ys)
        self._lock = threading.RLock()
        self._bugs = bugs.validate(bug_ids)
        self._bug_events: list[BugEvent] = [BugEvent(0, b, True) for b in sorted(self._bugs)]
        self.reset()

    # -- state -----------------------------------------------------------------

    @property
    def nin(self) -> int:
        return len(self.xs[0])

    @property
    def step_count(self) -> int:
        return self._step

    @property
    def bugs(self) -> frozenset[str]:
        return self._bugs

    @property
    def diverged_at(self) -> int | None:
        return self._diverged_at

    def reset(self) -> None:
        """Back to step 0 with the seed's initial weights; the bugs stay as they are."""
        with self._lock:
            cfg = self.config
            self.model = MLP(
                self.nin, list(cfg.hidden) + [1], cfg.activation, cfg.output_activation, cfg.seed
            )
            self.optimizer = SGD(self.model.parameters(), cfg.schedule, cfg.weight_decay)
            self._step = 0
            self._history = {k: array("d") for k in History.__dataclass_fields__}
            self._predictions: tuple[float, ...] = ()
            self._loss = math.nan
            self._accuracy = math.nan
            self._diverged_at: int | None = None
            self._diverged_reason: str | None = None
            self._bug_events = [BugEvent(0, b, True) for b in sorted(self._bugs)]

    def set_bugs(self, bug_ids: Iterable[str]) -> None:
        """Switch on exactly these bugs from the next step on."""
        with self._lock:
            new = bugs.validate(bug_ids)
            for bug_id in sorted(new ^ self._bugs):
                self._bug_events.append(BugEvent(self._step, bug_id, bug_id in new))
            self._bugs = new

    def toggle_bug(self, bug_id: str) -> bool:
        """Flip one bug; returns whether it is now on."""
        with self._lock:
            self.set_bugs(self._bugs ^ {bug_id})
            return bug_id in self._bugs

    def set_learning_rate(self, lr: float) -> None:
        """Change the rate (a decaying schedule keeps its shape, scaled)."""
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {lr}")
        with self._lock:
            factor = lr / self.optimizer.schedule.at(self._step)
            self.optimizer.schedule = self.optimizer.schedule.scaled(factor)
            self.config = replace(
                self.config,
                lr=self.optimizer.schedule.start,
                lr_end=self.optimizer.schedule.end,
            )

    @property
    def learning_rate(self) -> float:
        """The rate the next update will use."""
        return self.optimizer.schedule.at(self._step)

    # -- training --------------------------------------------------------------

    def _forward(self) -> tuple[Value, list[Value]]:
        scores = [self.model(x) for x in self.xs]
        loss = LOSSES[self.config.loss](scores, self.ys)
        if self.config.l2:
            loss = loss + l2_penalty(self.model.parameters(), self.config.l2)
        return loss, scores

    def step(self) -> StepResult:
        """One update: forward, zero_grad, backward, SGD step."""
        with self._lock, bugs.injected(self._bugs):
            if self._diverged_at is not None:
                raise SessionDiverged(self._diverged_reason)
            loss, scores = self._forward()

            if not bugs.is_on(bugs.SKIP_ZERO_GRAD):  # the bug leaves this call out
                self.model.zero_grad()
            loss.backward()
            if bugs.is_on(bugs.ZERO_GRAD_AFTER_BACKWARD):
                self.model.zero_grad()  # the bug: wipes what backward() just computed

            params = self.model.parameters()
            grad_norm = _norm(p.grad for p in params)
            self._predictions = tuple(s.data for s in scores)
            self._loss = loss.data
            self._accuracy = accuracy(self._predictions, self.ys)
            number = self._step + 1
            lr = self.optimizer.schedule.at(self._step)

            diverged = not math.isfinite(loss.data)
            if diverged:
                # Keep the weights that produced it, for inspection; no update.
                self._diverged_at = number
                self._diverged_reason = f"diverged at step {number}: the loss became {loss.data}"
            else:
                self.optimizer.step(self._step)
            self._step = number
            weight_norm = _norm(p.data for p in params)
            record = {
                "loss": loss.data,
                "accuracy": self._accuracy,
                "grad_norm": grad_norm,
                "weight_norm": weight_norm,
                "lr": lr,
            }
            for key, value in record.items():
                self._history[key].append(value)
            return StepResult(number, loss.data, self._accuracy, grad_norm, weight_norm, lr, diverged)

    def evaluate(self) -> tuple[float, float]:
        """Loss and accuracy at the current weights, without touching gradients."""
        with self._lock:
            loss, scores = self._forward()
            return loss.data, accuracy([s.data for s in scores], self.ys)

    def gradcheck(self, max_parameters: int | None = None, seed: int = 0) -> GradCheckResult:
        """Backprop (with the active bugs) vs finite differences at the current weights.

        With ``max_parameters``, checks that many parameters chosen at random
        (reproducibly from ``seed``). Weights and gradients are left as they were.
        """
        with self._lock, bugs.injected(self._bugs):
            params = self.model.parameters()
            saved = [p.grad for p in params]
            indices = None
            if max_parameters is not None and max_parameters < len(params):
                indices = sorted(random.Random(seed).sample(range(len(params)), max_parameters))
            try:
                return gradcheck(lambda: self._forward()[0], params, indices)
            finally:
                for p, g in zip(params, saved):
                    p.grad = g

    # -- reading ---------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """An immutable copy of everything a UI draws."""
        with self._lock:
            layers = self.model.layers
            return Snapshot(
                step=self._step,
                config=self.config,
                layer_sizes=(self.nin,) + tuple(len(layer.neurons) for layer in layers),
                weights=tuple(
                    tuple(tuple(w.data for w in n.w) for n in layer.neurons) for layer in layers
                ),
                biases=tuple(tuple(n.b.data for n in layer.neurons) for layer in layers),
                weight_grads=tuple(
                    tuple(tuple(w.grad for w in n.w) for n in layer.neurons) for layer in layers
                ),
                bias_grads=tuple(tuple(n.b.grad for n in layer.neurons) for layer in layers),
                inputs=self.xs,
                targets=self.ys,
                predictions=self._predictions,
                loss=self._loss,
                accuracy=self._accuracy,
                lr=self.learning_rate,
                history=History(**{k: tuple(v) for k, v in self._history.items()}),
                bugs=self._bugs,
                bug_events=tuple(self._bug_events),
                diverged_at=self._diverged_at,
                diverged_reason=self._diverged_reason,
            )
