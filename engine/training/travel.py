"""Time travel, the session's half: rebuild a past step of a ``TrainingSession``, show it,
or branch from it (``engine/training/timeline.py`` keeps what these read).

Kept apart from ``session.py``, as saving and resuming are (``resume.py``), so that the
training loop reads in one sitting; these functions read and set the session's state
directly, as the session itself would, always under its lock.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import replace

from engine import bugs
from engine.optim import Schedule
from engine.training.health import GROWTH_STEPS
from engine.training.history import RECORDED, History, HistoryRecorder, kept_steps
from engine.training.passes import Passes
from engine.training.records import Snapshot
from engine.training.timeline import Checkpoint, Ghost, Stretch

REPLAYERS = 4  # replayers a run keeps, one per stretch lately viewed (each compiles once)


def checkpoint_of(run) -> Checkpoint:
    """``run`` (a ``TrainingSession``) as it is now, for its timeline."""
    params = run.optimizer.parameters
    true = run._true_gradients
    return Checkpoint(
        run._step,
        array("d", [p.data for p in params]),
        array("d", [p.grad for p in params]),
        array("d", run._predictions),
        run._loss,
        run._accuracy,
        run._test_loss,
        run._test_accuracy,
        run.full_loss,
        None if true is None else array("d", true),
    )


def check_reachable(run, step: int) -> None:
    if not isinstance(step, int):
        raise TypeError(f"step must be a whole number, got {step!r}")
    if not run.earliest_step <= step <= run.step_count:
        raise ValueError(
            f"step {step} is not in this run: it reaches steps {run.earliest_step} to "
            f"{run.step_count}"
        )


def _replayer(run, stretch: Stretch):
    """A session that replays ``stretch``'s updates of ``run`` (kept: no compiling again)."""
    kept = run._replayers.get(id(stretch))
    if kept is not None and kept[0] is stretch:
        return kept[1]
    points = stretch.points
    replayer = type(run)(
        run.config,
        points.xs,
        points.ys,
        stretch.bugs,
        run.backend,
        points.test_xs,
        points.test_ys,
    )
    replayer._is_replay = True
    # The stretch's very points (equal, but copied by the constructor): a pane can tell
    # the same points by identity.
    replayer.xs, replayer.ys = points.xs, points.ys
    replayer.test_xs, replayer.test_ys = points.test_xs, points.test_ys
    replayer._points = points
    if len(run._replayers) >= REPLAYERS:
        run._replayers.pop(next(iter(run._replayers)))
    run._replayers[id(stretch)] = (stretch, replayer)
    return replayer


def _load(replayer, checkpoint: Checkpoint) -> None:
    """Set ``replayer`` to ``checkpoint``: the run as it was after that step."""
    for p, w, g in zip(replayer.optimizer.parameters, checkpoint.data, checkpoint.grad):
        p.data, p.grad = w, g
    replayer._step = checkpoint.step
    replayer._predictions = tuple(checkpoint.predictions)
    replayer._loss, replayer._accuracy = checkpoint.loss, checkpoint.accuracy
    replayer._test_loss, replayer._test_accuracy = checkpoint.test_loss, checkpoint.test_accuracy
    replayer.full_loss = checkpoint.full_loss
    true = checkpoint.true_gradients
    replayer._true_gradients = None if true is None else tuple(true)
    replayer._trace = None
    replayer._diverged_at = replayer._diverged_reason = None
    replayer._health = None


def schedule_at(run, update: int) -> Schedule:
    """The schedule ``run`` used for update number ``update`` (from 0; a rate set at step
    ``s`` holds from update ``s`` on, the ``s + 1``-th)."""
    return next(s for start, s in reversed(run._lr_log) if start <= update)


def replay_to(run, step: int, lr_at: Callable[[int], float] | None = None):
    """A replayer holding ``run`` exactly as it was right after update ``step``.

    From the nearest checkpoint before ``step`` in its stretch, the updates in between
    run again with the stretch's bugs and points and the rates the run used (``lr_at``:
    a clean twin's are its run's).
    """
    lr_at = lr_at or run._lr_at
    timeline = run._timeline
    stretch = timeline.stretch_for(step)
    replayer = _replayer(run, stretch)
    if step == timeline.origin or not step:
        start = timeline.checkpoint(step)  # no update to rebuild: the checkpoint as kept
        target = start.step
    else:
        floor = max(stretch.start, timeline.origin)
        if timeline.checkpoint(floor) is None:
            _rebuild_starts(run, stretch, lr_at)
        start = timeline.nearest(step - 1, floor)
        target = step
    if not (start.step <= replayer._step <= target and replayer._diverged_at is None):
        _load(replayer, start)
    replayer._first_loss = run._first_loss
    while replayer._step < target:
        replayer.step(lr=lr_at(replayer._step))
        done = replayer._step  # kept as the run would have (a loaded run kept none), but
        # not at a stretch's start: the run there is after the change (_rebuild_starts)
        if timeline.keeps(done) and not timeline.starts_stretch(done):
            timeline.record(checkpoint_of(replayer))
    # The rate update ``step`` ran with (a rate set after it is the branch's to drop).
    replayer.optimizer.schedule = schedule_at(run, max(step - 1, 0))
    return replayer


def _rebuild_starts(run, upto: Stretch, lr_at: Callable[[int], float]) -> None:
    """A loaded run keeps no checkpoint where its later stretches start (up to ``upto``):
    each is rebuilt in order, from the stretch before it, as ``set_data`` left the run."""
    timeline = run._timeline
    for stretch in timeline.stretches[1:]:
        if stretch.start > upto.start:
            break
        if stretch.start <= timeline.origin or timeline.checkpoint(stretch.start):
            continue
        before = replay_to(run, stretch.start, lr_at)  # the stretch before: its start is kept
        replayer = _replayer(run, stretch)
        _load(replayer, checkpoint_of(before))
        if stretch.points != before._points:  # the predictions on the new points
            with bugs.injected(stretch.bugs):
                replayer._predictions = replayer.passes.forward()[1]
            if not stretch.points.test_xs:
                replayer._test_loss = replayer._test_accuracy = math.nan
        timeline.record(checkpoint_of(replayer))


class _PastNorms:
    """``HistoryRecorder.grad_norms`` as a straight run's recorder answered at a past step."""

    def __init__(self, now: float, before: float | None) -> None:
        self.now, self.before = now, before

    def grad_norms(self, step: int, back: int) -> tuple[float, float | None]:
        return self.now, self.before


def _norm_before(run, step: int, back: int) -> float | None:
    """The gradient norm ``back`` steps before ``step``, exactly, where the recent window of
    a straight run's recorder held it: the history's or (thinned away in a long run) its
    checkpoint's or a replay's."""
    if back >= min(step, run._history.recent):
        return None
    history, then = run._history.view(), step - back
    i = bisect_left(history.steps, then)
    if i < len(history.steps) and history.steps[i] == then:
        return history.grad_norm[i]
    if then < run.earliest_step:
        return None
    kept = run._timeline.checkpoint(then)
    return _norm(kept.grad if kept else _grads(replay_to(run, then)))


def _grads(run) -> list[float]:
    return [p.grad for p in run.optimizer.parameters]


def _norm(values) -> float:
    return math.sqrt(math.fsum([v * v for v in values]))  # as the session's _grad_norm


def view(run, step: int) -> Snapshot:
    """The snapshot ``run``'s panes showed right after update ``step`` (``step`` < now).

    Its history, bug events, clean twin and ghost are the whole run's; ``present`` is the
    run's step now.
    """
    before = _norm_before(run, step, GROWTH_STEPS)  # may replay: before ``step``'s replay
    replayer = replay_to(run, step)
    history = run._history.view()
    norms = _PastNorms(_norm(_grads(replayer)), before)
    with bugs.injected(replayer._bugs):
        replayer._health = replayer.passes.health(norms)
    snap = replayer.snapshot()
    schedule = replayer.optimizer.schedule
    twin = run._twin
    return replace(
        snap,
        config=replace(run.config, lr=schedule.start, lr_end=schedule.end),
        history=history,
        bug_events=tuple(run._bug_events),
        twin_history=twin._history.view() if twin is not None else None,
        present=run._step,
        ghost=run.ghost,
    )


def session_at(run, step: int):
    """A separate session at ``step`` of ``run``: a copy of the run rewound there, with the
    history, bug events, rates and clean twin it had then, which steps on as it did."""
    copy = type(run).from_state(run.export_state())
    copy._timeline = run._timeline.copy()  # its checkpoints shared, not rebuilt
    if run._twin is not None:
        copy._twin._timeline = run._twin._timeline.copy()
    if step < copy._step:
        rewind(copy, step)
    else:
        copy._trace = run._trace  # a diagnosis: not saved
    copy.ghost = None
    return copy


def rewind(run, step: int, lr_at: Callable[[int], float] | None = None) -> None:
    """Branch ``run`` at ``step`` (< now): go on from there, exactly as it was then.

    The later steps are forgotten, their loss kept as ``run.ghost`` (the future the branch
    left) until the next branch or a reset; the bugs, points and learning rate are the ones
    update ``step`` ran with.
    """
    old = run._history.view()
    cut = bisect_right(old.steps, step)
    ghost = Ghost(step, old.steps[cut:], old.loss[cut:])
    history = _history_until(run, step, old, lr_at)
    replayer = replay_to(run, step, lr_at)
    for p, q in zip(run.optimizer.parameters, replayer.optimizer.parameters):
        p.data, p.grad = q.data, q.grad
    run._history = history
    run.ghost = ghost
    run._step = step
    run._predictions, run._loss = replayer._predictions, replayer._loss
    run._accuracy, run.full_loss = replayer._accuracy, replayer.full_loss
    run._test_loss, run._test_accuracy = replayer._test_loss, replayer._test_accuracy
    run._true_gradients, run._trace = replayer._true_gradients, replayer._trace
    run._diverged_at, run._diverged_reason = replayer._diverged_at, replayer._diverged_reason
    if not step:
        run._first_loss = math.nan
    keep = max(step, 1)  # what was switched at step 0 holds from update 1
    run._bug_events = [e for e in run._bug_events if e.step < keep]
    run._lr_log = [entry for entry in run._lr_log if entry[0] < keep]
    schedule = run.optimizer.schedule = run._lr_log[-1][1]
    run.config = replace(run.config, lr=schedule.start, lr_end=schedule.end)
    stretch = run._timeline.stretch_for(step)
    run._timeline.cut(step)
    run._bugs = stretch.bugs
    if stretch.points != run._points:
        points = run._points = stretch.points
        run.xs, run.ys = points.xs, points.ys
        run.test_xs, run.test_ys = points.test_xs, points.test_ys
        run.passes = Passes(run)
    run._health = None
    twin = run._twin
    if twin is not None and twin._step > step:
        if step and twin.earliest_step <= step:
            twin.rewind(step, run._lr_at)
            twin.ghost = None
        else:
            run._twin = None  # rebuilt from step 0 when a bug needs it, as in a fresh run
    if run._bugs and run._step:
        run._advance_twin()


def _history_until(run, step: int, old: History, lr_at) -> HistoryRecorder:
    """The history ``run`` kept at ``step``: from ``old`` (its history now), replaying the
    rows a long run has since thinned away."""
    recorder = run._history
    _, archived, window = kept_steps(step, recorder.capacity, recorder.recent)
    rows = dict(zip(old.steps, zip(*(getattr(old, name) for name in RECORDED))))
    steps = sorted(set(archived) | set(window))
    for needed in steps:
        if needed not in rows:
            replayed = replay_to(run, needed, lr_at)._history.view()
            rows[needed] = tuple(getattr(replayed, name)[-1] for name in RECORDED)
    kept = History(
        *(tuple(rows[s][i] for s in steps) for i in range(len(RECORDED))), steps=tuple(steps)
    )
    return HistoryRecorder.resume(recorder.capacity, recorder.recent, kept, step)
