"""The clean twin: a run's own settings, seed, points and rates, without its bugs.

While a bug is on, a ``TrainingSession`` keeps a second session in lockstep that
trains exactly as the run would with clean code: the loss plot draws it beside the
buggy run, and the gradients pane compares against it. These functions build and
advance it; they read and set the session's state directly, as the session would.
"""

from __future__ import annotations

import math
from dataclasses import replace

from engine.training.resume import resumed, state_of
from engine.training.saved_state import SavedData


def clean_copy(run):
    """``run`` (a ``TrainingSession``) as its own clean twin: right while no step has run
    with a bug on (then the twin would replay exactly these steps), and cheaper than a
    replay."""
    state = state_of(run)
    kept = state.history.kept
    no_test = (math.nan,) * len(kept)
    clean = replace(
        state,
        bugs=frozenset(),
        bug_events=(),
        last_step=replace(state.last_step, true_gradients=None),
        history=replace(
            state.history, kept=replace(kept, test_loss=no_test, test_accuracy=no_test)
        ),
    )
    twin = resumed(type(run), clean, SavedData(run.xs, run.ys))
    twin._timeline = run._timeline.copy(clean=True)  # every step so far ran clean
    return twin


def advance(run) -> None:
    """Bring ``run``'s clean twin level with it: same seed, points and rates, no bugs.

    A new twin starts from step 0 and trains on the points each update of the run
    trained on (its timeline's stretches)."""
    if run._twin is None:
        first = run._timeline.stretch_for(1).points
        run._twin = type(run)(run.config, first.xs, first.ys, (), run.backend)
    twin = run._twin
    while twin._step < run._step and twin._diverged_at is None:
        points = run._timeline.stretch_for(twin._step + 1).points
        if points.xs != twin.xs or points.ys != twin.ys:
            twin._replace_data(points.xs, points.ys, (), ())
        twin.step(lr=run._lr_at(twin._step))


def history(run):
    """The clean twin's history as the loss plot draws it: while a bug is on and the twin
    is level with ``run``. It steps only while a bug is on, so a bug switched on again
    finds it behind, until the next step levels it; a twin that diverged stays where it
    stopped."""
    twin = run._twin
    if not run._bugs or twin is None or (twin._step != run._step and twin._diverged_at is None):
        return None
    return twin._history.view()
