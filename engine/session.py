"""A training run a UI can drive from one thread and watch from another.

``TrainingSession`` owns the model, the data, the loss, the optimizer, the
active bugs and the history. ``step()`` is the lecture's training loop
body: forward, zero_grad, backward, update. ``snapshot()`` returns an
immutable copy of plain floats, safe to read while another thread trains.

The forward and backward passes run on one of two backends: ``"fast"`` (the
default) compiles the model, loss and data to straight-line Python
(``engine/fast``) and gives the same numbers; ``"reference"`` builds the
``Value`` graph of ``engine/value.py`` every step, as in the lecture.

The history keeps every step while a run is short (``HISTORY_POINTS`` steps);
past that, older steps are thinned evenly and the latest ``RECENT_POINTS``
steps stay whole, so memory and ``snapshot()`` stay small however long it runs.

``export_state()`` and ``TrainingSession.from_state()`` save a run and resume
it bit for bit (weights, gradients, optimizer, history, bugs, clean twin);
``engine/persist.py`` writes them to a file.
"""

from __future__ import annotations

import math
import random
import threading
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from itertools import pairwise
from typing import Protocol

from engine import bugs
from engine.fast import CompiledNet
from engine.gradcheck import GradCheckResult, gradcheck
from engine.losses import LOSSES, l2_penalty
from engine.nn import ACTIVATIONS, MLP
from engine.optim import SGD, Schedule
from engine.value import Value

BACKENDS = ("fast", "reference")
HISTORY_POINTS = 4096  # steps kept whole before the older ones are thinned
RECENT_POINTS = 512  # the latest steps, always kept whole


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
    """One entry per kept step; ``steps[i]`` is the step entry i belongs to.

    Up to ``HISTORY_POINTS`` steps every step is kept (index i is step i + 1);
    in longer runs older steps are thinned, the latest ones kept whole.
    """

    loss: tuple[float, ...] = ()
    accuracy: tuple[float, ...] = ()
    grad_norm: tuple[float, ...] = ()
    weight_norm: tuple[float, ...] = ()
    lr: tuple[float, ...] = ()
    test_loss: tuple[float, ...] = ()  # nan where there is no test set
    test_accuracy: tuple[float, ...] = ()
    steps: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.loss)

    @property
    def is_thinned(self) -> bool:
        return bool(self.steps) and self.steps[-1] != len(self.steps)


_RECORDED = ("loss", "accuracy", "grad_norm", "weight_norm", "lr", "test_loss", "test_accuracy")


class _HistoryRecorder:
    """Every step while few, then evenly thinned older steps plus the latest ones whole.

    The archive keeps steps 1, 1 + stride, 1 + 2 * stride, ...; when it holds
    more than ``capacity`` the stride doubles and every other entry goes.
    Memory is bounded by ``capacity + recent`` entries.
    """

    def __init__(self, capacity: int = HISTORY_POINTS, recent: int = RECENT_POINTS):
        self._capacity = capacity
        self._stride = 1
        self._steps = array("q")
        self._archive = tuple(array("d") for _ in _RECORDED)
        self._recent: deque[tuple[float, ...]] = deque(maxlen=recent)
        self._view: History | None = History()

    def append(self, step: int, *values: float) -> None:
        self._view = None
        self._recent.append((step, *values))
        if (step - 1) % self._stride:
            return
        self._steps.append(step)
        for column, value in zip(self._archive, values):
            column.append(value)
        if len(self._steps) > self._capacity:
            self._stride *= 2  # keep steps 1, 1 + 2 * stride, ...: every other entry
            self._steps = self._steps[::2]
            self._archive = tuple(column[::2] for column in self._archive)

    def view(self) -> History:
        """An immutable copy: the archive up to the recent window, then the window."""
        if self._view is None:
            recent = list(zip(*self._recent))  # columns: steps, loss, accuracy, ...
            cut = bisect_left(self._steps, recent[0][0])  # archive entries before the window
            older = [self._steps[:cut], *(column[:cut] for column in self._archive)]
            steps, *columns = (tuple(old) + new for old, new in zip(older, recent))
            self._view = History(*columns, steps=steps)
        return self._view

    def state(self) -> dict:
        """The sizes and every kept step (``view()``'s columns): all ``restore`` needs."""
        view = self.view()
        columns = {name: list(getattr(view, name)) for name in _RECORDED}
        return {
            "capacity": self._capacity,
            "recent": self._recent.maxlen,
            "steps": list(view.steps),
            **columns,
        }

    @classmethod
    def restore(cls, state: dict, step_count: int) -> _HistoryRecorder:
        """The recorder a run at ``step_count`` holds, rebuilt from ``state()``.

        Which steps a run keeps follows from its length alone: the archive is
        steps 1, 1 + stride, ... (the smallest power-of-two stride that fits
        ``capacity``) and the window the latest ``recent`` steps. ValueError
        if ``state`` holds other steps.
        """
        capacity, recent = state["capacity"], state["recent"]
        if not (2 <= capacity <= 2**31 and capacity % 2 == 0 and 1 <= recent <= 2**31):
            raise ValueError(
                f"history: capacity must be an even number from 2 and recent at least 1, "
                f"got {capacity} and {recent}"
            )
        stride = 1
        while len(range(1, step_count + 1, stride)) > capacity:
            stride *= 2
        archived = range(1, step_count + 1, stride)
        window = range(max(1, step_count - recent + 1), step_count + 1)
        older = range(1, window.start, stride)  # archived steps before the window
        steps = state["steps"]
        # Compare lengths first: a hand-edited step count must not build a huge list.
        if len(steps) != len(older) + len(window) or steps != [*older, *window]:
            if not step_count:
                expected = "none"
            elif stride == 1:
                expected = f"steps 1 to {step_count}"
            else:
                expected = f"every {stride}th step from 1, then {window.start} to {step_count}"
            found = f"{len(steps)} steps" + (f", {steps[0]} to {steps[-1]}" if steps else "")
            raise ValueError(
                f"history.steps: a run at step {step_count} keeps {expected}; found {found}"
            )
        for name in _RECORDED:
            if len(state[name]) != len(steps):
                raise ValueError(
                    f"history.{name}: expected one value per kept step ({len(steps)}), "
                    f"found {len(state[name])}"
                )
        rows = dict(zip(steps, zip(*(state[name] for name in _RECORDED))))
        recorder = cls(capacity, recent)
        recorder._stride = stride
        recorder._steps = array("q", archived)
        recorder._archive = tuple(
            array("d", [rows[step][i] for step in archived]) for i in range(len(_RECORDED))
        )
        recorder._recent.extend((step, *rows[step]) for step in window)
        recorder._view = None if step_count else History()
        return recorder


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
    test_predictions: tuple[float, ...] = ()  # at the same weights as ``predictions``
    test_loss: float = math.nan
    test_accuracy: float = math.nan
    # While any bug is on: a clean run from the same seed, in lockstep.
    twin_history: History | None = None
    # When the last step ran with a bug: the gradient clean code would have computed
    # at its weights (None when it ran clean: then the gradients are the true ones).
    true_gradients: tuple[float, ...] | None = None

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


def _grad_norm(parameters: Sequence[Value]) -> float:
    return math.sqrt(math.fsum([p.grad * p.grad for p in parameters]))


def _weight_norm(parameters: Sequence[Value]) -> float:
    return math.sqrt(math.fsum([p.data * p.data for p in parameters]))


def _diverged_reason(step: int, loss: float) -> str:
    return f"diverged at step {step}: the loss became {loss}"


def accuracy(scores: Sequence[float], targets: Sequence[float]) -> float:
    """Fraction of samples whose score has the target's sign."""
    if not scores:
        return math.nan
    hits = sum([(s > 0) == (y > 0) for s, y in zip(scores, targets)])
    return hits / len(scores)


class _Loss(Protocol):
    """What ``step()`` needs of a loss: its value, and a backward pass."""

    data: float

    def backward(self) -> None: ...


class TrainingSession:
    """Model + data + loss + optimizer + bugs + history, behind one lock.

    ``backend="fast"`` (the default) runs forward and backward compiled
    (``engine/fast``); ``"reference"`` builds the ``Value`` graph. Both give
    the same losses, gradients and weights, bugs included.
    """

    def __init__(
        self,
        config: SessionConfig,
        xs: Sequence[Sequence[float]],
        ys: Sequence[float],
        bug_ids: Iterable[str] = (),
        backend: str = "fast",
        test_xs: Sequence[Sequence[float]] = (),
        test_ys: Sequence[float] = (),
    ):
        if not xs or len(xs) != len(ys):
            raise ValueError(
                f"need matching, non-empty inputs and targets ({len(xs)} vs {len(ys)})"
            )
        widths = {len(x) for x in xs}
        if len(widths) != 1:
            raise ValueError(
                f"every sample needs the same number of features, got {sorted(widths)}"
            )
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
        self.config = config
        self.backend = backend
        self.xs = tuple(tuple(float(v) for v in x) for x in xs)
        self.ys = tuple(float(y) for y in ys)
        if len(test_xs) != len(test_ys) or any(len(x) != len(xs[0]) for x in test_xs):
            raise ValueError(
                "the test set needs one target per sample and the training set's features"
            )
        self.test_xs = tuple(tuple(float(v) for v in x) for x in test_xs)
        self.test_ys = tuple(float(y) for y in test_ys)
        self._lock = threading.RLock()
        self._bugs = bugs.validate(bug_ids)
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

    @property
    def diverged_reason(self) -> str | None:
        """ "diverged at step N: the loss became inf", once it has."""
        return self._diverged_reason

    def reset(self) -> None:
        """Back to step 0 with the seed's initial weights; the bugs stay as they are."""
        with self._lock:
            cfg = self.config
            self.model = MLP(
                self.nin, list(cfg.hidden) + [1], cfg.activation, cfg.output_activation, cfg.seed
            )
            self.optimizer = SGD(self.model.parameters(), cfg.schedule, cfg.weight_decay)
            self._compiled: CompiledNet | None = None  # built at the first fast forward pass
            self._compiled_test: CompiledNet | None = None
            self._test_predictions: tuple[float, ...] = ()
            self._test_loss = math.nan
            self._test_accuracy = math.nan
            self._twin: TrainingSession | None = None
            self._true_gradients: tuple[float, ...] | None = None
            # (first update index, schedule): what a twin replays to use the same rates
            self._lr_log: list[tuple[int, Schedule]] = [(0, self.optimizer.schedule)]
            self._step = 0
            self._history = _HistoryRecorder()
            self._predictions: tuple[float, ...] = ()
            self._loss = math.nan
            self._accuracy = math.nan
            self._diverged_at: int | None = None
            self._diverged_reason: str | None = None
            self._bug_events: list[BugEvent] = [BugEvent(0, b, True) for b in sorted(self._bugs)]

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
            self._lr_log.append((self._step, self.optimizer.schedule))
            self.config = replace(
                self.config,
                lr=self.optimizer.schedule.start,
                lr_end=self.optimizer.schedule.end,
            )

    @property
    def twin_loss(self) -> float | None:
        """The clean twin's loss at the last step, while any bug is on."""
        twin = self._twin
        return twin._loss if self._bugs and twin is not None else None

    @property
    def test_metrics(self) -> tuple[float, float]:
        """Loss and accuracy on the held-out points at the last step (nan without them)."""
        return self._test_loss, self._test_accuracy

    @property
    def learning_rate(self) -> float:
        """The rate the next update will use."""
        return self.optimizer.schedule.at(self._step)

    # -- training --------------------------------------------------------------

    def _forward(self, held_out: bool = False) -> tuple[_Loss, tuple[float, ...]]:
        """The loss at the current weights, and each sample's score.

        ``held_out``: the same objective on the test points instead.
        """
        xs, ys = (self.test_xs, self.test_ys) if held_out else (self.xs, self.ys)
        if self.backend == "fast":
            cache = "_compiled_test" if held_out else "_compiled"
            compiled = getattr(self, cache)
            # Built on first use (a run of 0 steps never pays for it), and again
            # if the model object was replaced: it reads that model's Values.
            if compiled is None or compiled.model is not self.model:
                compiled = CompiledNet(self.model, self.config.loss, self.config.l2, xs, ys)
                setattr(self, cache, compiled)
            loss = compiled.forward()
            return loss, tuple(loss.predictions)
        loss, scores = self._value_forward(xs, ys)
        return loss, tuple(s.data for s in scores)

    def _clean_gradients(self) -> tuple[float, ...]:
        """What clean code computes at the current weights; leaves .grad as it was."""
        params = self.optimizer.parameters
        buggy = [p.grad for p in params]
        with bugs.injected(()):
            self.model.zero_grad()
            loss, _ = self._forward()
            loss.backward()
            clean = tuple(p.grad for p in params)
        for p, g in zip(params, buggy):
            p.grad = g
        return clean

    def _lr_at(self, update: int) -> float:
        """The rate this run used (or will use) for update number ``update`` (from 0)."""
        # The log starts at update 0, so some entry always applies.
        return next(s.at(update) for start, s in reversed(self._lr_log) if start <= update)

    def _advance_twin(self) -> None:
        """Bring the clean twin level with this run: same seed, data and rates, no bugs."""
        if self._twin is None:
            self._twin = TrainingSession(self.config, self.xs, self.ys, (), self.backend)
        twin = self._twin
        while twin._step < self._step and twin._diverged_at is None:
            twin.step(lr=self._lr_at(twin._step))

    def _value_forward(self, xs=None, ys=None) -> tuple[Value, list[Value]]:
        """The lecture's forward pass: the whole batch as one ``Value`` graph."""
        xs, ys = (self.xs, self.ys) if xs is None else (xs, ys)
        scores = [self.model(x) for x in xs]
        loss = LOSSES[self.config.loss](scores, ys)
        if self.config.l2:
            loss = loss + l2_penalty(self.model.parameters(), self.config.l2)
        return loss, scores

    def step(self, lr: float | None = None) -> StepResult:
        """One update: forward, zero_grad, backward, SGD step (at ``lr``, if given)."""
        with self._lock, bugs.injected(self._bugs):
            if self._diverged_at is not None:
                raise SessionDiverged(self._diverged_reason)
            loss, predictions = self._forward()

            if not bugs.is_on(bugs.SKIP_ZERO_GRAD):  # the bug leaves this call out
                self.model.zero_grad()
            loss.backward()
            if bugs.is_on(bugs.ZERO_GRAD_AFTER_BACKWARD):
                self.model.zero_grad()  # the bug: wipes what backward() just computed

            params = self.optimizer.parameters
            grad_norm = _grad_norm(params)
            self._predictions = predictions
            self._loss = loss.data
            self._accuracy = accuracy(predictions, self.ys)
            self._true_gradients = self._clean_gradients() if self._bugs else None
            if self.test_xs:
                test_loss, self._test_predictions = self._forward(held_out=True)
                self._test_loss = test_loss.data
                self._test_accuracy = accuracy(self._test_predictions, self.test_ys)
            number = self._step + 1
            if lr is None:
                lr = self.optimizer.schedule.at(self._step)

            diverged = not math.isfinite(loss.data)
            if diverged:
                # Keep the weights that produced it, for inspection; no update.
                self._diverged_at = number
                self._diverged_reason = _diverged_reason(number, loss.data)
            else:
                self.optimizer.step(self._step, lr)
            self._step = number
            weight_norm = _weight_norm(params)
            self._history.append(
                number,
                loss.data,
                self._accuracy,
                grad_norm,
                weight_norm,
                lr,
                self._test_loss,
                self._test_accuracy,
            )
            if self._bugs:
                self._advance_twin()
            return StepResult(
                number, loss.data, self._accuracy, grad_norm, weight_norm, lr, diverged
            )

    def evaluate(self) -> tuple[float, float]:
        """Loss and accuracy at the current weights, without touching gradients."""
        with self._lock:
            loss, predictions = self._forward()
            return loss.data, accuracy(predictions, self.ys)

    def gradcheck(self, max_parameters: int | None = None, seed: int = 0) -> GradCheckResult:
        """Backprop (with the active bugs) vs finite differences at the current weights.

        Backprop always on the reference ``Value`` engine. With ``max_parameters``,
        checks that many parameters chosen at random (reproducibly from
        ``seed``). Weights and gradients are left as they were.
        """
        with self._lock, bugs.injected(self._bugs):
            params = self.model.parameters()
            saved = [p.grad for p in params]
            indices = None
            if max_parameters is not None and max_parameters < len(params):
                indices = sorted(random.Random(seed).sample(range(len(params)), max_parameters))
            try:
                # Backprop on the lecture's engine; the finite differences may use
                # the fast forward pass, which gives the same loss.
                return gradcheck(
                    lambda: self._value_forward()[0],
                    params,
                    indices,
                    loss_value=lambda: self._forward()[0].data,
                )
            finally:
                for p, g in zip(params, saved):
                    p.grad = g

    # -- reading ---------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """An immutable copy of everything a UI draws (the history thinned in long runs)."""
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
                history=self._history.view(),
                bugs=self._bugs,
                bug_events=tuple(self._bug_events),
                diverged_at=self._diverged_at,
                diverged_reason=self._diverged_reason,
                test_inputs=self.test_xs,
                test_targets=self.test_ys,
                test_predictions=self._test_predictions,
                test_loss=self._test_loss,
                test_accuracy=self._test_accuracy,
                twin_history=self._twin._history.view() if self._bugs and self._twin else None,
                # Kept when the bugs go off, until the next step: the gradients are still buggy.
                true_gradients=self._true_gradients,
            )

    # -- saving and resuming -----------------------------------------------------

    def export_state(self) -> dict:
        """Everything a run needs to continue exactly, as plain lists, numbers and strings.

        ``from_state()`` is the inverse; ``engine/persist.py`` writes it as JSON.
        Floats are the session's own (inf and nan included).
        """
        with self._lock:
            state = self._state()
            state["data"] = {
                "xs": [list(x) for x in self.xs],
                "ys": list(self.ys),
                "test_xs": [list(x) for x in self.test_xs],
                "test_ys": list(self.test_ys),
            }
            return state

    def _state(self) -> dict:
        """Everything but the data (a clean twin shares its run's)."""
        params = self.model.parameters()
        return {
            "backend": self.backend,
            "config": {**asdict(self.config), "hidden": list(self.config.hidden)},
            "step": self._step,
            "bugs": sorted(self._bugs),
            "bug_events": [{"step": e.step, "bug": e.bug_id, "on": e.on} for e in self._bug_events],
            # In MLP.parameters() order: layer by layer, each neuron's weights then its bias.
            "parameters": {"data": [p.data for p in params], "grad": [p.grad for p in params]},
            "optimizer": {
                "schedule": asdict(self.optimizer.schedule),
                "lr_log": [{"from_update": start, **asdict(s)} for start, s in self._lr_log],
            },
            # What the last forward pass computed; its loss and accuracy are the history's last row.
            "last_step": {
                "predictions": list(self._predictions),
                "test_predictions": list(self._test_predictions),
                "true_gradients": (
                    None if self._true_gradients is None else list(self._true_gradients)
                ),
            },
            "diverged_at": self._diverged_at,
            "history": self._history.state(),
            "twin": None if self._twin is None else self._twin._state(),
        }

    @classmethod
    def from_state(cls, state: dict) -> TrainingSession:
        """The session ``export_state()`` described, ready to step on as if never stopped.

        ``state`` must have the types ``export_state()`` gives (``engine/persist.py``
        checks them when it reads a file). ValueError, naming the field, when
        the values do not fit together: a parameter count that is not the
        architecture's, bug events that do not lead to the bugs on, ...
        """
        data = state["data"]
        return cls._from_state(state, data["xs"], data["ys"], data["test_xs"], data["test_ys"])

    @classmethod
    def _from_state(cls, state: dict, xs, ys, test_xs, test_ys) -> TrainingSession:
        settings = state["config"]
        try:
            values = {f.name: settings[f.name] for f in fields(SessionConfig)}
            config = SessionConfig(**{**values, "hidden": tuple(values["hidden"])})
        except ValueError as err:
            raise ValueError(f"config: {err}") from None
        if config.output_activation not in (None, *ACTIVATIONS):
            raise ValueError(
                f"config.output_activation: unknown activation {config.output_activation!r}"
            )
        if state["backend"] not in BACKENDS:
            raise ValueError(
                f"backend: unknown backend {state['backend']!r} (known: {', '.join(BACKENDS)})"
            )
        try:
            bug_ids = bugs.validate(state["bugs"])
        except ValueError as err:
            raise ValueError(f"bugs: {err}") from None
        step = state["step"]
        if not 0 <= step < 2**53:
            raise ValueError(f"step: must be a whole number from 0, got {step}")
        widths = sorted({len(x) for x in xs})
        if not widths or widths[0] == 0:
            raise ValueError("data.xs: needs at least one sample with at least one feature")
        if len(widths) > 1:
            raise ValueError(
                f"data.xs: every sample needs the same number of features, got {widths}"
            )

        # Check the count before building anything: the architecture comes from the file.
        sizes = [len(xs[0]), *config.hidden, 1]
        count = sum((nin + 1) * nout for nin, nout in pairwise(sizes))
        weights, grads = state["parameters"]["data"], state["parameters"]["grad"]
        for key, values in (("data", weights), ("grad", grads)):
            if len(values) != count:
                raise ValueError(
                    f"parameters.{key}: MLP({sizes[0]}, {sizes[1:]}) has {count} parameters, "
                    f"found {len(values)} values"
                )
        try:
            session = cls(config, xs, ys, bug_ids, state["backend"], test_xs, test_ys)
        except ValueError as err:
            raise ValueError(f"data: {err}") from None

        session._step = step
        session._bug_events = cls._restore_bug_events(state["bug_events"], bug_ids, step)
        session._history = _HistoryRecorder.restore(state["history"], step)
        history = session._history.view()
        if step:
            session._loss, session._accuracy = history.loss[-1], history.accuracy[-1]
            session._test_loss = history.test_loss[-1]
            session._test_accuracy = history.test_accuracy[-1]

        # Only a run whose own update overflowed has non-finite weights.
        if not step or math.isfinite(history.weight_norm[-1]):
            for i, w in enumerate(weights):
                if not math.isfinite(w):
                    raise ValueError(
                        f"parameters.data[{i}]: {w} is not a finite number, but the run's "
                        f"last step left finite weights"
                    )
        for p, w, g in zip(session.model.parameters(), weights, grads):
            p.data, p.grad = w, g

        optimizer = state["optimizer"]
        lr_log = [
            (e["from_update"], Schedule(e["start"], e["end"], e["steps"]))
            for e in optimizer["lr_log"]
        ]
        if not lr_log or lr_log[0][0] != 0:
            raise ValueError("optimizer.lr_log: must begin with the schedule from update 0")
        for i, ((before, _), (start, _)) in enumerate(pairwise(lr_log), start=1):
            if not before <= start <= step:
                raise ValueError(
                    f"optimizer.lr_log[{i}]: from_update {start} is out of order "
                    f"(changes run from update 0 to the current step, {step})"
                )
        schedule = Schedule(**optimizer["schedule"])
        if not schedule == lr_log[-1][1] == config.schedule:
            raise ValueError(
                "optimizer.schedule: must equal the last entry of optimizer.lr_log and "
                "config's lr, lr_end and decay_steps"
            )
        session.optimizer.schedule = schedule
        session._lr_log = lr_log

        last = state["last_step"]
        expected = {
            "predictions": len(xs) if step else 0,
            "test_predictions": len(test_xs) if step else 0,
            "true_gradients": count,
        }
        for key, length in expected.items():
            if last[key] is not None and len(last[key]) != length:
                raise ValueError(
                    f"last_step.{key}: expected {length} values, found {len(last[key])}"
                )
        session._predictions = tuple(last["predictions"])
        session._test_predictions = tuple(last["test_predictions"])
        if last["true_gradients"] is not None:
            session._true_gradients = tuple(last["true_gradients"])

        # A run diverges at the step whose loss is inf or nan, and takes no step after it.
        diverged_at = step if step and not math.isfinite(session._loss) else None
        if state["diverged_at"] != diverged_at:
            if diverged_at is None:
                raise ValueError(
                    f"diverged_at: the run is marked diverged at step {state['diverged_at']}, "
                    f"but it is at step {step} with a finite loss"
                )
            raise ValueError(
                f"diverged_at: the loss of step {step} is {session._loss}, so the run "
                f"diverged at step {step}; found {state['diverged_at']}"
            )
        if diverged_at is not None:
            session._diverged_at = diverged_at
            session._diverged_reason = _diverged_reason(diverged_at, session._loss)

        if state["twin"] is not None:
            session._twin = cls._restore_twin(session, state["twin"])
        return session

    @staticmethod
    def _restore_bug_events(
        events: list[dict], bug_ids: frozenset[str], step: int
    ) -> list[BugEvent]:
        """The events, checked: in step order, each a real switch, ending with ``bug_ids`` on."""
        on: set[str] = set()
        last = 0
        restored = []
        for i, event in enumerate(events):
            bug_id, now_on = event["bug"], event["on"]
            if bug_id not in bugs.BUGS:
                raise ValueError(f"bug_events[{i}]: unknown bug {bug_id!r}")
            if not last <= event["step"] <= step:
                raise ValueError(
                    f"bug_events[{i}]: step {event['step']} is out of order "
                    f"(events run from step 0 to the current step, {step})"
                )
            if now_on == (bug_id in on):
                state = "on" if now_on else "off"
                raise ValueError(f"bug_events[{i}]: switches {bug_id} {state} twice")
            (on.add if now_on else on.discard)(bug_id)
            last = event["step"]
            restored.append(BugEvent(event["step"], bug_id, now_on))
        if on != bug_ids:
            raise ValueError(
                f"bug_events: they leave {', '.join(sorted(on)) or 'no bug'} on, "
                f"but bugs lists {', '.join(sorted(bug_ids)) or 'none'}"
            )
        return restored

    @classmethod
    def _restore_twin(cls, session: TrainingSession, state: dict) -> TrainingSession:
        """The clean twin: this run's data and settings, no bugs, never ahead of it."""
        try:
            twin = cls._from_state(state, session.xs, session.ys, (), ())
        except ValueError as err:
            raise ValueError(f"twin.{err}") from None
        config = session.config
        # The twin keeps the rate of its start; it replays this run's rates from the lr log.
        same_run = replace(twin.config, lr=config.lr, lr_end=config.lr_end) == config
        if not same_run or twin.backend != session.backend:
            raise ValueError("twin.config: the clean twin must have this run's settings")
        if twin._bugs or twin._bug_events or twin._twin is not None:
            raise ValueError("twin: the clean twin has no bugs, bug events or twin of its own")
        if twin._step > session._step:
            raise ValueError(
                f"twin.step: the clean twin ({twin._step}) is ahead of the run ({session._step})"
            )
        return twin
