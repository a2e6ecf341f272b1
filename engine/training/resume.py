"""Saving a run and resuming it: ``TrainingSession`` to its saved records and back.

The session's own half of persistence, kept apart from ``session.py`` so that the
training loop reads in one sitting; it reads and sets the session's state directly, as
the session itself would. ``engine/persist/session_file.py`` turns the records into JSON.
"""

from __future__ import annotations

from engine.training.divergence import blow_up, largest
from engine.training.history import HistoryRecorder
from engine.training.saved_state import (
    SavedData,
    SavedHistory,
    SavedLastStep,
    SavedOptimizer,
    SavedParameters,
    SavedTimeline,
    TrainingState,
)
from engine.training.timeline import Checkpoint, Stretch, Timeline, clean_stretches
from engine.training.travel import checkpoint_of


def state_of(session) -> TrainingState:
    """What ``session`` (a ``TrainingSession``) needs to go on from where it is (its data
    and clean twin apart)."""
    params = session.model.parameters()
    return TrainingState(
        backend=session.backend,
        config=session.config,
        step=session._step,
        bugs=session._bugs,
        bug_events=tuple(session._bug_events),
        parameters=SavedParameters(tuple(p.data for p in params), tuple(p.grad for p in params)),
        optimizer=SavedOptimizer(session.optimizer.schedule, tuple(session._lr_log)),
        last_step=SavedLastStep(session._predictions, session._true_gradients),
        diverged_at=session._diverged_at,
        history=SavedHistory(
            session._history.capacity, session._history.recent, session._history.view()
        ),
    )


def timeline_of(session) -> SavedTimeline:
    """What ``session`` keeps of its past, as saved (its checkpoints are rebuilt on loading)."""
    timeline = session._timeline
    origin = timeline.checkpoint(timeline.origin) if timeline.origin else None
    return SavedTimeline(tuple(timeline.stretches), origin, session.ghost)


def resumed(
    cls,
    state: TrainingState,
    data: SavedData,
    past: SavedTimeline | None = None,
    clean: bool = False,
):
    """A ``cls`` (``TrainingSession``) that goes on from ``state`` on ``data`` as if it had
    never stopped; ``past``: its timeline (``clean``: the timeline of the run it is the
    clean twin of). Without one, it reaches back to ``state``'s step only."""
    session = cls(
        state.config, data.xs, data.ys, state.bugs, state.backend, data.test_xs, data.test_ys
    )
    start: Checkpoint = session._timeline.checkpoint(0)  # the seed's weights, step 0
    step = session._step = state.step
    session._bug_events = list(state.bug_events)
    saved = state.history
    session._history = HistoryRecorder.resume(saved.capacity, saved.recent, saved.kept, step)
    if step:
        history = saved.kept
        session._loss, session._accuracy = history.loss[-1], history.accuracy[-1]
        if data.test_xs:  # else nan: test points removed since the last step have none
            session._test_loss = history.test_loss[-1]
            session._test_accuracy = history.test_accuracy[-1]
    for p, w, g in zip(session.model.parameters(), state.parameters.data, state.parameters.grad):
        p.data, p.grad = w, g
    session.optimizer.schedule = state.optimizer.schedule
    session._lr_log = list(state.optimizer.lr_log)
    last = state.last_step
    session._predictions = last.predictions
    session._true_gradients = last.true_gradients
    if state.diverged_at is not None:  # saved_state checked that the rule agrees
        session._diverged_at = state.diverged_at
        reason = blow_up(
            session._loss, state.history.kept.loss[0], largest(session.model.parameters())
        )
        session._diverged_reason = f"diverged at step {state.diverged_at}: {reason}"
    if step:
        session._first_loss = state.history.kept.loss[0]
    now = checkpoint_of(session)
    if past is None or (clean and past.origin is not None):
        session._timeline = Timeline(Stretch(step, session._bugs, session._points), now)
    else:
        stretches = clean_stretches(past.stretches) if clean else past.stretches
        session._timeline = Timeline(stretches[0], past.origin or start)
        session._timeline.restore(stretches[1:], now)
        if not clean:
            session.ghost = past.ghost
    return session
