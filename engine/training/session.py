"""A training run a UI can drive from one thread and watch from another.

``TrainingSession`` owns the model, the data, the loss, the optimizer, the
active bugs and the history. ``step()`` is the lecture's training loop
body: forward, zero_grad, backward, update. ``snapshot()`` returns an
immutable copy of plain floats, safe to read while another thread trains.

The forward and backward passes run on one of two backends: ``"fast"`` (the
default) compiles the model, loss and data to straight-line Python
(``engine/fast``) and gives the same numbers; ``"reference"`` builds the
``Value`` graph of ``engine/value.py`` every step, as in the lecture. While a
bug the fast path does not mirror is on, a fast session runs the reference
engine (``last_backend`` says which engine the last step ran on).

The history (``engine/training/history.py``) keeps every step of a short run and
thins the older steps of a long one, so memory stays bounded.

``export_state()`` and ``TrainingSession.from_state()`` save a run and resume
it bit for bit (weights, gradients, optimizer, history, bugs, clean twin) as a
``SavedSession`` (``engine/training/saved_state.py``, which checks that a saved state
fits together); ``engine/persist/session_file.py`` reads and writes it as JSON.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from engine import bugs
from engine.nn import MLP
from engine.optim import SGD, Schedule
from engine.training import travel
from engine.training import twin as clean_twin
from engine.training.divergence import blow_up, largest
from engine.training.health import Health
from engine.training.history import HistoryRecorder
from engine.training.passes import Passes
from engine.training.records import BugEvent, SessionConfig, Snapshot, StepResult
from engine.training.resume import resumed, state_of, timeline_of
from engine.training.saved_state import (
    SavedData,
    SavedSession,
)
from engine.training.symptoms import StepTrace
from engine.training.timeline import Checkpoint, Ghost, Points, Stretch, Timeline
from engine.value import Value

BACKENDS = ("fast", "reference")
# With mini-batches, the loss on every training sample is computed every this many
# steps (steps 1, 11, 21, ...): the history's full_loss, nan on the other steps.
FULL_LOSS_EVERY = 10


class SessionDiverged(RuntimeError):
    """Raised by ``step()`` once the run has diverged (``engine/training/divergence.py``)."""


def _grad_norm(parameters: Sequence[Value]) -> float:
    return math.sqrt(math.fsum([p.grad * p.grad for p in parameters]))


def _weight_norm(parameters: Sequence[Value]) -> float:
    return math.sqrt(math.fsum([p.data * p.data for p in parameters]))


def accuracy(scores: Sequence[float], targets: Sequence[float]) -> float:
    """Fraction of samples whose score has the target's sign."""
    if not scores:
        return math.nan
    hits = sum([(s > 0) == (y > 0) for s, y in zip(scores, targets)])
    return hits / len(scores)


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
        self._points = Points(self.xs, self.ys, self.test_xs, self.test_ys)
        # A replayer (engine/training/timeline.py) rebuilds a past step of another run:
        # it keeps no timeline and no clean twin of its own.
        self._is_replay = False
        self._replayers: dict[int, tuple[Stretch, TrainingSession]] = {}
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
            self.passes = Passes(self)  # compiles the fast path at its first pass
            self.last_backend = self.backend  # the engine the last step ran on
            self._test_loss = math.nan
            self._test_accuracy = math.nan
            self._twin: TrainingSession | None = None
            self._true_gradients: tuple[float, ...] | None = None
            self._trace: StepTrace | None = None  # the last step's, while bugs are on
            # (first update index, schedule): what a twin replays to use the same rates
            self._lr_log: list[tuple[int, Schedule]] = [(0, self.optimizer.schedule)]
            self._step = 0
            # The loss on every training sample at the last step, when it trained on a
            # batch and computed it (every FULL_LOSS_EVERY steps); nan otherwise.
            self.full_loss = math.nan
            self._history = HistoryRecorder()
            self._predictions: tuple[float, ...] = ()
            self._loss = math.nan
            self._accuracy = math.nan
            self._diverged_at: int | None = None
            self._diverged_reason: str | None = None
            self._bug_events: list[BugEvent] = [BugEvent(0, b, True) for b in sorted(self._bugs)]
            self._first_loss = math.nan  # step 1's: the divergence rule's yardstick
            # Every past step, rebuilt on demand; the future a branch left (timeline.py).
            self._timeline = Timeline(Stretch(0, self._bugs, self._points), self._checkpoint())
            self._replayers = {}
            self.ghost: Ghost | None = None
            self._health: Health | None = None  # measured when first asked, once a step

    def set_bugs(self, bug_ids: Iterable[str]) -> None:
        """Switch on exactly these bugs from the next step on."""
        with self._lock:
            new = bugs.validate(bug_ids)
            for bug_id in sorted(new ^ self._bugs):
                self._bug_events.append(BugEvent(self._step, bug_id, bug_id in new))
            self._bugs = new
            self._timeline.change(self._step, new, self._points, self._checkpoint())

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

    def set_data(
        self,
        xs: Sequence[Sequence[float]],
        ys: Sequence[float],
        test_xs: Sequence[Sequence[float]] | None = None,
        test_ys: Sequence[float] | None = None,
    ) -> None:
        """Train on these points from the next step on (``None``: keep the test points).

        Weights, optimizer and history stay; the fast passes compile again. The clean
        twin is first brought level on the old points, then switched too (before any
        step with a bug on, this run *is* its twin: copied, not replayed). The
        predictions are evaluated again at the current weights. ValueError, and
        nothing changes, for points that do not fit the model.
        """
        test = (self.test_xs, self.test_ys) if test_xs is None or test_ys is None else None
        new = Points.checked(self.nin, xs, ys, *(test or (test_xs, test_ys)))
        new_xs, new_ys, new_test_xs, new_test_ys = new.xs, new.ys, new.test_xs, new.test_ys
        with self._lock:
            if self._step and self._twin is None:
                self._twin = clean_twin.clean_copy(self)
            elif self._twin is not None:
                self._advance_twin()
            self._replace_data(new_xs, new_ys, new_test_xs, new_test_ys)
            if self._twin is not None:
                self._twin._replace_data(new_xs, new_ys, (), ())

    def _replace_data(self, xs, ys, test_xs, test_ys) -> None:
        self.xs, self.ys, self.test_xs, self.test_ys = xs, ys, test_xs, test_ys
        self._points = Points(xs, ys, test_xs, test_ys)
        self.passes = Passes(self)  # compiled again for the new data
        self._health = None  # the neurons' outputs on the new points differ
        if self._step:  # else no forward pass yet: no predictions to match
            with bugs.injected(self._bugs):
                self._predictions = self.passes.forward()[1]
                if not test_xs:
                    self._test_loss = self._test_accuracy = math.nan
        self._timeline.change(self._step, self._bugs, self._points, self._checkpoint())

    @property
    def twin_loss(self) -> float | None:
        """The clean twin's loss at the last step, while any bug is on."""
        return self._twin._loss if self._bugs and self._twin is not None else None

    @property
    def test_metrics(self) -> tuple[float, float]:
        """Loss and accuracy on the held-out points at the last step (nan without them)."""
        return self._test_loss, self._test_accuracy

    @property
    def learning_rate(self) -> float:
        """The rate the next update will use."""
        return self.optimizer.schedule.at(self._step)

    # -- training --------------------------------------------------------------

    def step(self, lr: float | None = None) -> StepResult:
        """One update: forward, zero_grad, backward, SGD step (at ``lr``, if given)."""
        with self._lock, bugs.injected(self._bugs):
            self._trace = None
            if self._diverged_at is not None:
                raise SessionDiverged(self._diverged_reason)
            self.last_backend = "fast" if self.passes.runs_fast() else "reference"
            rows = self.batch(self._step)
            loss, predictions = self.passes.forward(rows=rows)

            if not bugs.is_on(bugs.SKIP_ZERO_GRAD):  # the bug leaves this call out
                self.model.zero_grad()
            params = self.optimizer.parameters
            # With a bug on, record each stage's gradients for the symptom line.
            leftover = [p.grad for p in params] if self._bugs else None
            loss.backward()
            backprop = [p.grad for p in params] if self._bugs else None
            if bugs.is_on(bugs.ZERO_GRAD_AFTER_BACKWARD):
                self.model.zero_grad()  # the bug: wipes what backward() just computed

            grad_norm = _grad_norm(params)
            self._loss = loss.data
            full_loss = math.nan
            if rows is None:
                self._predictions = predictions
            elif self._step % FULL_LOSS_EVERY == 0:
                # The loss on every training sample (no gradients), at the batch's weights.
                full, self._predictions = self.passes.forward()
                full_loss = full.data
            self._accuracy = accuracy(self._predictions, self.ys)
            self.full_loss = full_loss
            self._true_gradients = self.passes.clean_gradients(rows) if self._bugs else None
            if self.test_xs:
                test_loss, test_predictions = self.passes.forward(held_out=True)
                self._test_loss = test_loss.data
                self._test_accuracy = accuracy(test_predictions, self.test_ys)
            number = self._step + 1
            if lr is None:
                lr = self.optimizer.schedule.at(self._step)

            if number == 1:
                self._first_loss = loss.data
            first_loss = self._first_loss
            reason = blow_up(loss.data, first_loss, 0.0)
            if reason is None:  # else keep the weights that produced it, for inspection
                before = [p.data for p in params] if self._bugs else None
                self.optimizer.step(self._step, lr)
                reason = blow_up(loss.data, first_loss, largest(params))
                if before is not None:
                    self._trace = StepTrace.of(
                        params, leftover, backprop, before, self._true_gradients
                    )
            diverged = reason is not None
            if diverged:
                self._diverged_at = number
                self._diverged_reason = f"diverged at step {number}: {reason}"
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
                full_loss,
            )
            if not self._is_replay:
                if self._timeline.keeps(number):  # a thinned step builds none
                    self._timeline.record(self._checkpoint())
                if self._bugs:
                    self._advance_twin()
            return StepResult(
                number, loss.data, self._accuracy, grad_norm, weight_norm, lr, diverged
            )

    def batch(self, step: int) -> tuple[int, ...] | None:
        """The training samples update number ``step`` (from 0) trains on; None: all of them.

        Drawn by a generator seeded from the run's seed and the step number, so
        the same seed gives the same batches, a clean twin draws the batches of
        its run, and a resumed run the ones it would have drawn: the generator's
        whole state is (seed, step), and both are saved.
        """
        size = self.config.batch_size
        if size is None or size >= len(self.xs):
            return None
        rng = random.Random(f"batch {self.config.seed} {step}")
        return tuple(sorted(rng.sample(range(len(self.xs)), size)))

    def _lr_at(self, update: int) -> float:
        """The rate this run used (or will use) for update number ``update`` (from 0)."""
        return travel.schedule_at(self, update).at(update)

    def _advance_twin(self) -> None:
        clean_twin.advance(self)  # engine/training/twin.py

    def evaluate(self) -> tuple[float, float]:
        """Loss and accuracy at the current weights, without touching gradients."""
        with self._lock:
            loss, predictions = self.passes.forward()
            return loss.data, accuracy(predictions, self.ys)

    # -- time travel: engine/training/travel.py -----------------------------------

    def _checkpoint(self) -> Checkpoint:  # the run now, for its timeline
        return travel.checkpoint_of(self)

    @property
    def earliest_step(self) -> int:
        """The earliest step ``view`` and ``rewind`` reach (0 unless loaded from an older file)."""
        return self._timeline.origin

    @property
    def timeline(self) -> Timeline:
        return self._timeline

    def view(self, step: int) -> Snapshot:
        """What the panes showed right after update ``step``, exactly (``travel.view``)."""
        with self._lock:
            travel.check_reachable(self, step)
            return self.snapshot() if step == self._step else travel.view(self, step)

    def session_at(self, step: int) -> TrainingSession:
        """A separate session at ``step`` of this run (to check its gradients, say)."""
        with self._lock:
            travel.check_reachable(self, step)
            return travel.session_at(self, step)

    def rewind(self, step: int, _lr_at: Callable[[int], float] | None = None) -> None:
        """Branch: go on from ``step`` exactly as the run was then (``travel.rewind``)."""
        with self._lock:
            travel.check_reachable(self, step)
            if step != self._step:
                travel.rewind(self, step, _lr_at)

    # -- reading ---------------------------------------------------------------

    def health(self) -> Health:
        """Dead and saturated neurons at the weights after the last step's update, and
        exploding or vanishing gradients; measured once a step (``health.py``)."""
        with self._lock:
            if self._health is None or self._health.step != self._step:
                with bugs.injected(self._bugs):
                    self._health = self.passes.health(self._history)
            return self._health

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
                test_loss=self._test_loss,
                test_accuracy=self._test_accuracy,
                twin_history=clean_twin.history(self),
                # Kept when the bugs go off, until the next step: the gradients are still buggy.
                true_gradients=self._true_gradients,
                trace=self._trace,
                ghost=self.ghost,
                health=self.health(),
            )

    # -- saving and resuming -----------------------------------------------------

    def export_state(self) -> SavedSession:
        """Everything the run needs to continue exactly (``from_state()`` is the inverse).

        Consistent while another thread trains: it is copied under the lock.
        """
        with self._lock:
            data = SavedData(self.xs, self.ys, self.test_xs, self.test_ys)
            twin = None if self._twin is None else state_of(self._twin)
            return SavedSession(state_of(self), data, twin, timeline_of(self))

    @classmethod
    def from_state(cls, saved: SavedSession) -> TrainingSession:
        """The run ``export_state()`` saved, ready to step on as if it had never stopped."""
        session = resumed(cls, saved.state, saved.data, saved.timeline)
        if saved.twin is not None:
            twin_data = SavedData(saved.data.xs, saved.data.ys)
            session._twin = resumed(cls, saved.twin, twin_data, saved.timeline, clean=True)
        return session
