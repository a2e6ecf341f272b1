"""A training run as it is saved: frozen records whose values are checked to fit together.

``TrainingSession.export_state()`` builds a ``SavedSession``;
``TrainingSession.from_state()`` continues it bit for bit, as if the run had
never stopped. ``engine/persist/session_file.py`` converts these records to and from
JSON (it checks each value's type); the checks here are the ones about how the
values fit together: a parameter count that is not the architecture's, bug
events that do not lead to the bugs on, a history that is not the one a run of
that length keeps, ...

Building a ``SavedSession`` runs every check; a ValueError names the field,
relative to the session (``parameters.data: MLP(2, [4, 4, 1]) has 33
parameters, found 32 values``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import pairwise

from engine import bugs
from engine.nn import ACTIVATIONS
from engine.optim import Schedule
from engine.training.divergence import blow_up
from engine.training.history import RECORDED, History, kept_steps
from engine.training.records import BugEvent, SessionConfig
from engine.training.timeline import Checkpoint, Ghost, Points, Stretch


@contextmanager
def _within(field: str) -> Iterator[None]:
    """Name ``field`` in front of the field a ValueError raised inside names."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{field}.{err}") from None


@dataclass(frozen=True)
class SavedData:
    """The training points and the held-out test points."""

    xs: tuple[tuple[float, ...], ...]
    ys: tuple[float, ...]
    test_xs: tuple[tuple[float, ...], ...] = ()
    test_ys: tuple[float, ...] = ()

    @property
    def nin(self) -> int:
        return len(self.xs[0])

    def check(self) -> None:
        widths = sorted({len(x) for x in self.xs})
        if not widths or widths[0] == 0:
            raise ValueError("xs: needs at least one sample with at least one feature")
        if len(widths) > 1:
            raise ValueError(f"xs: every sample needs the same number of features, got {widths}")
        if len(self.ys) != len(self.xs):
            raise ValueError(
                f"ys: expected one target per sample ({len(self.xs)}), found {len(self.ys)}"
            )
        if len(self.test_ys) != len(self.test_xs):
            raise ValueError(
                f"test_ys: expected one target per test sample ({len(self.test_xs)}), "
                f"found {len(self.test_ys)}"
            )
        for i, x in enumerate(self.test_xs):
            if len(x) != self.nin:
                raise ValueError(
                    f"test_xs[{i}]: expected the training samples' {self.nin} features, "
                    f"found {len(x)}"
                )


@dataclass(frozen=True)
class SavedParameters:
    """Every parameter in ``MLP.parameters()`` order: layer by layer, each neuron's
    weights then its bias."""

    data: tuple[float, ...]
    grad: tuple[float, ...]


@dataclass(frozen=True)
class SavedOptimizer:
    """The schedule in use, and every schedule the run has used since update 0."""

    schedule: Schedule
    lr_log: tuple[tuple[int, Schedule], ...]  # (first update it applies to, schedule)

    def check(self, step: int, config: SessionConfig) -> None:
        if not self.lr_log or self.lr_log[0][0] != 0:
            raise ValueError("lr_log: must begin with the schedule from update 0")
        for i, ((before, _), (start, _)) in enumerate(pairwise(self.lr_log), start=1):
            if not before <= start <= step:
                raise ValueError(
                    f"lr_log[{i}]: from_update {start} is out of order "
                    f"(changes run from update 0 to the current step, {step})"
                )
        if not self.schedule == self.lr_log[-1][1] == config.schedule:
            raise ValueError(
                "schedule: must equal the last entry of optimizer.lr_log and "
                "config's lr, lr_end and decay_steps"
            )


@dataclass(frozen=True)
class SavedLastStep:
    """What the last forward pass computed (its loss and accuracy are the history's last row)."""

    predictions: tuple[float, ...]
    true_gradients: tuple[float, ...] | None  # set when the last step ran with a bug

    def check(self, step: int, data: SavedData, parameter_count: int) -> None:
        expected = {
            "predictions": len(data.xs) if step else 0,
            "true_gradients": parameter_count,
        }
        for name, length in expected.items():
            values = getattr(self, name)
            if values is not None and len(values) != length:
                raise ValueError(f"{name}: expected {length} values, found {len(values)}")


@dataclass(frozen=True)
class SavedHistory:
    """The history recorder's sizes and every step it keeps."""

    capacity: int
    recent: int
    kept: History

    def check(self, step_count: int) -> None:
        """ValueError unless these are the steps a run at ``step_count`` keeps."""
        capacity, recent = self.capacity, self.recent
        if not (2 <= capacity <= 2**31 and capacity % 2 == 0 and 1 <= recent <= 2**31):
            raise ValueError(
                f"capacity: must be an even number from 2 and recent at least 1, "
                f"got {capacity} and {recent}"
            )
        stride, _, window = kept_steps(step_count, capacity, recent)
        older = range(1, window.start, stride)  # archived steps before the window
        steps = self.kept.steps
        # Compare lengths first: a hand-edited step count must not build a huge list.
        if len(steps) != len(older) + len(window) or steps != (*older, *window):
            if not step_count:
                expected = "none"
            elif stride == 1:
                expected = f"steps 1 to {step_count}"
            else:
                expected = f"every {stride}th step from 1, then {window.start} to {step_count}"
            found = f"{len(steps)} steps" + (f", {steps[0]} to {steps[-1]}" if steps else "")
            raise ValueError(f"steps: a run at step {step_count} keeps {expected}; found {found}")
        for name in RECORDED:
            if len(getattr(self.kept, name)) != len(steps):
                raise ValueError(
                    f"{name}: expected one value per kept step ({len(steps)}), "
                    f"found {len(getattr(self.kept, name))}"
                )


@dataclass(frozen=True)
class SavedTimeline:
    """What it takes to rebuild the run's past steps (``engine/training/timeline.py``), and
    the future its last branch left. Files from before time travel have none: their runs
    reach back to the step they were saved at."""

    stretches: tuple[Stretch, ...]  # the last one: the run's bugs and points now
    origin: Checkpoint | None = None  # the earliest step it reaches; None: step 0, the seed's
    ghost: Ghost | None = None

    @property
    def origin_step(self) -> int:
        return 0 if self.origin is None else self.origin.step

    def check(self, state: TrainingState, data: SavedData, parameter_count: int) -> None:
        origin = self.origin_step
        if not 0 <= origin <= state.step:
            raise ValueError(f"origin.step: must be from 0 to the run's step {state.step}")
        if not self.stretches or self.stretches[0].start != origin:
            raise ValueError(f"stretches: must begin at the origin, step {origin}")
        if self.origin is not None:
            true = self.origin.true_gradients
            expected = {
                "data": parameter_count,
                "grad": parameter_count,
                "predictions": len(self.stretches[0].points.xs),
                "true_gradients": parameter_count if true is not None else 0,
            }
            for name, length in expected.items():
                found = len(getattr(self.origin, name) or ())
                if found != length:
                    raise ValueError(f"origin.{name}: expected {length} values, found {found}")
        for i, (before, after) in enumerate(pairwise(self.stretches), start=1):
            if not before.start < after.start <= state.step:
                raise ValueError(
                    f"stretches[{i}]: start {after.start} is out of order (stretches start in "
                    f"rising order, up to the run's step {state.step})"
                )
        for i, stretch in enumerate(self.stretches):
            try:
                bugs.validate(stretch.bugs)
            except ValueError as err:
                raise ValueError(f"stretches[{i}].bugs: {err}") from None
            if any(len(x) != data.nin for x in stretch.points.xs + stretch.points.test_xs):
                raise ValueError(f"stretches[{i}].points: every point needs {data.nin} features")
            if not stretch.points.xs or len(stretch.points.xs) != len(stretch.points.ys):
                raise ValueError(f"stretches[{i}].points: one target per point, at least one")
            if len(stretch.points.test_xs) != len(stretch.points.test_ys):
                raise ValueError(f"stretches[{i}].points: one target per test point")
        self._check_bugs(state.bug_events)
        last = self.stretches[-1]
        if last.bugs != state.bugs:
            raise ValueError("stretches: the last one must have the bugs the run has on")
        if last.points != Points(data.xs, data.ys, data.test_xs, data.test_ys):
            raise ValueError("stretches: the last one must have the run's data")
        ghost = self.ghost
        if ghost is not None and not origin <= ghost.branch_step <= state.step:
            raise ValueError(
                f"ghost.branch_step: must be from {origin} to the run's step {state.step}"
            )

    def _check_bugs(self, events: tuple[BugEvent, ...]) -> None:
        """Each stretch's bugs are the ones the bug events leave on at its start (an
        event at step ``s`` holds from update ``s + 1``, as a stretch starting at ``s`` does)."""
        on: set[str] = set()
        i = 0
        for n, stretch in enumerate(self.stretches):
            while i < len(events) and events[i].step <= stretch.start:
                (on.add if events[i].on else on.discard)(events[i].bug_id)
                i += 1
            if stretch.bugs != on:
                raise ValueError(
                    f"stretches[{n}].bugs: the bug events leave "
                    f"{', '.join(sorted(on)) or 'no bug'} on from step {stretch.start}, "
                    f"but the stretch lists {', '.join(sorted(stretch.bugs)) or 'none'}"
                )


@dataclass(frozen=True)
class TrainingState:
    """Where one run stands, apart from its data (a clean twin shares its run's)."""

    backend: str
    config: SessionConfig
    step: int
    bugs: frozenset[str]
    bug_events: tuple[BugEvent, ...]
    parameters: SavedParameters
    optimizer: SavedOptimizer
    last_step: SavedLastStep
    diverged_at: int | None
    history: SavedHistory

    def check(self, data: SavedData) -> None:
        """ValueError, naming the field, unless the values fit together and with ``data``."""
        config, step = self.config, self.step
        if config.output_activation not in (None, *ACTIVATIONS):
            raise ValueError(
                f"config.output_activation: unknown activation {config.output_activation!r}"
            )
        try:
            bugs.validate(self.bugs)
        except ValueError as err:
            raise ValueError(f"bugs: {err}") from None
        if not 0 <= step < 2**53:
            raise ValueError(f"step: must be a whole number from 0, got {step}")

        sizes = [data.nin, *config.hidden, 1]
        count = sum((nin + 1) * nout for nin, nout in pairwise(sizes))
        for name in ("data", "grad"):
            found = len(getattr(self.parameters, name))
            if found != count:
                raise ValueError(
                    f"parameters.{name}: MLP({sizes[0]}, {sizes[1:]}) has {count} parameters, "
                    f"found {found} values"
                )
        self._check_bug_events()
        with _within("history"):
            self.history.check(step)
        kept = self.history.kept
        # Only a run whose own update overflowed has non-finite weights.
        if not step or math.isfinite(kept.weight_norm[-1]):
            for i, w in enumerate(self.parameters.data):
                if not math.isfinite(w):
                    raise ValueError(
                        f"parameters.data[{i}]: {w} is not a finite number, but the run's "
                        f"last step left finite weights"
                    )
        with _within("optimizer"):
            self.optimizer.check(step, config)
        with _within("last_step"):
            self.last_step.check(step, data, count)

        # A run diverges at the step that broke engine/training/divergence.py's rule, and takes no
        # step after it.
        reason = None
        if step:
            largest = max((abs(w) for w in self.parameters.data), default=0.0)
            reason = blow_up(kept.loss[-1], kept.loss[0], largest)
        diverged_at = step if reason is not None else None
        if self.diverged_at != diverged_at:
            if diverged_at is None:
                raise ValueError(
                    f"diverged_at: the run is marked diverged at step {self.diverged_at}, "
                    f"but at step {step} its loss and parameters have not blown up"
                )
            raise ValueError(
                f"diverged_at: at step {step} {reason}, so the run diverged at step {step}; "
                f"found {self.diverged_at}"
            )

    def _check_bug_events(self) -> None:
        """In step order, each a real switch, ending with ``bugs`` on."""
        on: set[str] = set()
        last = 0
        for i, event in enumerate(self.bug_events):
            if event.bug_id not in bugs.BUGS:
                raise ValueError(f"bug_events[{i}]: unknown bug {event.bug_id!r}")
            if not last <= event.step <= self.step:
                raise ValueError(
                    f"bug_events[{i}]: step {event.step} is out of order "
                    f"(events run from step 0 to the current step, {self.step})"
                )
            if event.on == (event.bug_id in on):
                switch = "on" if event.on else "off"
                raise ValueError(f"bug_events[{i}]: switches {event.bug_id} {switch} twice")
            (on.add if event.on else on.discard)(event.bug_id)
            last = event.step
        if on != self.bugs:
            raise ValueError(
                f"bug_events: they leave {', '.join(sorted(on)) or 'no bug'} on, "
                f"but bugs lists {', '.join(sorted(self.bugs)) or 'none'}"
            )


@dataclass(frozen=True)
class SavedSession:
    """A run, its data and its clean twin (while a bug is on): all a run needs to continue.

    Building one checks it: ValueError, naming the field, when the values do not fit.
    """

    state: TrainingState
    data: SavedData
    twin: TrainingState | None = None  # trains on the run's data, without its test points
    timeline: SavedTimeline | None = None  # None: a file from before time travel

    def __post_init__(self) -> None:
        with _within("data"):
            self.data.check()
        self.state.check(self.data)
        if self.twin is not None:
            self._check_twin(self.twin)
        if self.timeline is not None:
            with _within("timeline"):
                self.timeline.check(self.state, self.data, len(self.state.parameters.data))

    def _check_twin(self, twin: TrainingState) -> None:
        """The clean twin: this run's data and settings, no bugs, never ahead of it."""
        with _within("twin"):
            twin.check(SavedData(self.data.xs, self.data.ys))
        config = self.state.config
        # The twin keeps the rate of its start; it replays this run's rates from the lr log.
        same_run = replace(twin.config, lr=config.lr, lr_end=config.lr_end) == config
        if not same_run or twin.backend != self.state.backend:
            raise ValueError("twin.config: the clean twin must have this run's settings")
        if twin.bugs or twin.bug_events:
            raise ValueError("twin: the clean twin has no bugs, bug events or twin of its own")
        if twin.step > self.state.step:
            raise ValueError(
                f"twin.step: the clean twin ({twin.step}) is ahead of the run ({self.state.step})"
            )
