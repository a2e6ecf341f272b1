"""Time travel (engine/training/timeline.py, travel.py): ``view(s)`` shows exactly what a
straight run showed right after update ``s``, and ``rewind(s)`` then a change equals a run
that made that change at ``s``, mid-run changes, thinned checkpoints and histories included.

A *straight* run is a fresh session stepped to each step with the same changes at the
same steps; it is compared field by field, floats by their repr (exact, nan included).
"""

from __future__ import annotations

import dataclasses
import gc
import math
import tracemalloc
from bisect import bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import datasets
from engine import bugs
from engine.training.history import RECORDED, History, HistoryRecorder
from engine.training.presets import PRESETS
from engine.training.records import Snapshot
from engine.training.session import SessionDiverged, TrainingSession
from engine.training.timeline import Ghost, Timeline
from engine.training.travel import checkpoint_of

TUTORIAL = datasets.make("tutorial")
MOONS = datasets.make("moons")
# Other points for set_data: the tutorial's, moved; a few other moons.
TUTORIAL_MOVED = (
    tuple(tuple(v + 0.5 * (i % 2) for v in x) for i, x in enumerate(TUTORIAL.xs)) + ((0, 1, 2),),
    tuple(TUTORIAL.ys) + (1.0,),
)
MOONS_OTHER = datasets.make("moons", samples=40, seed=3)

# What a snapshot shows of the step it is at (history and the whole run's records apart).
FIELDS = (
    "step",
    "config",
    "layer_sizes",
    "parameters",
    "gradients",
    "predictions",
    "loss",
    "accuracy",
    "lr",
    "bugs",
    "inputs",
    "targets",
    "test_inputs",
    "test_targets",
    "test_loss",
    "test_accuracy",
    "true_gradients",
    "diverged_at",
    "diverged_reason",
)


def session(preset="tutorial", backend="fast", data=None, test=None, bug_ids=(), **overrides):
    config = dataclasses.replace(PRESETS[preset], **overrides)
    data = data or (TUTORIAL if preset == "tutorial" else MOONS)
    test_xs, test_ys = (test.xs, test.ys) if test else ((), ())
    return TrainingSession(config, data.xs, data.ys, bug_ids, backend, test_xs, test_ys)


def apply(run: TrainingSession, change) -> None:
    kind, arg = change
    if kind == "bug":
        run.toggle_bug(arg)
    elif kind == "lr":
        run.set_learning_rate(arg)
    elif kind == "data":
        run.set_data(*(POINTS[run.nin][arg] if isinstance(arg, int) else arg))
    else:
        assert kind == "nothing"


def drive(
    run: TrainingSession, steps: int, changes=None, start: int = 0, each=None
) -> list[Snapshot]:
    """Step ``run`` from step ``start`` to ``steps``, making ``changes[s]`` at step ``s``
    (after the snapshot of step s, but before it at step 0, where no update ran); the
    snapshots right after each update (fewer if the run diverges). ``each(run)``: called
    after every update."""
    changes = changes or {}
    snaps = []
    for s in range(start, steps + 1):
        if s:
            if each:
                each(run)
            snaps.append(run.snapshot())
        for change in changes.get(s, ()):
            apply(run, change)
        if not s:
            snaps.append(run.snapshot())
        if s < steps:
            try:
                run.step()
            except SessionDiverged:
                break
    return snaps


def same(a, b) -> bool:
    return repr(a) == repr(b)  # floats by their shortest exact repr; nan equals nan


def until(history: History, step: int) -> History:
    """``history``'s rows up to ``step``."""
    cut = bisect_right(history.steps, step)
    return History(*(getattr(history, n)[:cut] for n in RECORDED), steps=history.steps[:cut])


def assert_shows(seen: Snapshot, want: Snapshot, history: bool = True) -> None:
    """``seen`` (a view of a past step) shows what ``want`` (a straight run) did then."""
    for name in FIELDS:
        assert same(getattr(seen, name), getattr(want, name)), f"step {want.step}: {name}"
    assert (seen.trace is None) == (want.trace is None), f"step {want.step}: trace"
    if want.trace is not None:
        assert same(dataclasses.astuple(seen.trace), dataclasses.astuple(want.trace))
    assert same(seen.health, want.health), f"step {want.step}: health"
    if history:
        assert same(until(seen.history, want.step), want.history), f"step {want.step}: history"


def assert_same_run(run: TrainingSession, straight: TrainingSession) -> None:
    """Everything the two runs show now is the same, their whole records included."""
    seen, want = run.snapshot(), straight.snapshot()
    assert_shows(seen, want)
    assert same(seen.history, want.history)
    assert same(seen.bug_events, want.bug_events)
    if want.twin_history is None and seen.twin_history is not None:
        # A bug switched on at a branch point, before the next update: the branch kept its
        # clean twin where a straight run builds one at that update. No update has run with
        # a bug, so the twin's history is the run's own (without test points).
        assert not any(e.on and e.step < want.step for e in want.bug_events)
        untested = dataclasses.replace(want.history, test_loss=(), test_accuracy=())
        assert same(
            dataclasses.replace(seen.twin_history, test_loss=(), test_accuracy=()), untested
        )
    else:
        assert same(seen.twin_history, want.twin_history)
    assert same(run._lr_log, straight._lr_log)


def assert_views(run: TrainingSession, snaps: list[Snapshot], steps=None) -> None:
    for s in range(len(snaps)) if steps is None else steps:
        seen = run.view(s)
        assert seen.present == (run.step_count if s < run.step_count else None)
        assert_shows(seen, snaps[s])


def loaded(run: TrainingSession) -> TrainingSession:
    return TrainingSession.from_state(run.export_state())


# -- view(s) is the straight run at s --------------------------------------------------


VIEWED = {
    "tutorial-fast": lambda: session("tutorial"),
    "tutorial-reference": lambda: session("tutorial", "reference"),
    "moons-fast": lambda: session("moons"),
    # 8 points: the reference engine builds a Value graph per sample and step.
    "moons-reference": lambda: session(
        "moons", "reference", data=datasets.make("moons", samples=8)
    ),
    "moons-batches-test-split": lambda: session(
        "moons", data=MOONS_TRAIN, test=MOONS_TEST, batch_size=16
    ),
}
MOONS_TRAIN, MOONS_TEST = datasets.split(MOONS, 0.25, seed=1)


@pytest.mark.parametrize("name", VIEWED)
def test_view_of_every_step_is_the_straight_run_at_that_step(name):
    snaps = drive(VIEWED[name](), 60)
    run = VIEWED[name]()
    drive(run, 60)
    assert len(run.timeline) == 61  # small nets: a checkpoint after every step
    assert_views(run, snaps)
    assert_views(run, snaps, [59, 3, 60, 0, 60, 17])  # back, forth, and the ends again


def test_view_of_the_present_is_the_snapshot_and_a_view_changes_nothing():
    run = session("tutorial")
    drive(run, 20)
    before = run.snapshot()
    run.view(5)
    assert run.view(20) == before and run.view(20).present is None
    assert_shows(run.snapshot(), before)
    assert same(run.snapshot().history, before.history)


def mid_run(bug_id: str, data=TUTORIAL_MOVED):
    """A bug on at step 10 and off at 25, the rate changed at 15, the points at 20."""
    return {
        10: [("bug", bug_id)],
        15: [("lr", 0.2)],
        20: [("data", data)],
        25: [("bug", bug_id)],
    }


@pytest.mark.parametrize("bug_id", [bug.id for bug in bugs.CATALOGUE])
def test_views_across_mid_run_changes_are_the_straight_run_that_made_them(bug_id):
    changes = mid_run(bug_id)
    snaps = drive(session(), 60, changes)
    run = session()
    drive(run, 60, changes)
    assert_views(run, snaps)
    assert [s.bugs for s in run.timeline.stretches] == [
        frozenset(),
        frozenset({bug_id}),
        frozenset({bug_id}),
        frozenset(),
    ][: len(run.timeline.stretches)]


def test_views_across_changes_with_batches_and_a_test_split():
    changes = mid_run(bugs.SKIP_ZERO_GRAD, (MOONS_OTHER.xs, MOONS_OTHER.ys))
    changes[15] = [("lr", 0.3)]

    def make():
        return session("moons", data=MOONS_TRAIN, test=MOONS_TEST, batch_size=16)

    snaps = drive(make(), 40, changes)
    run = make()
    drive(run, 40, changes)
    assert_views(run, snaps)


def test_a_view_at_a_rate_change_shows_the_rate_the_next_update_used():
    # The rate set at step 15 is the one update 16 uses: after rewind(15) the run goes on
    # with the rate update 15 ran with, so view(15) shows that one too.
    run = session()
    drive(run, 30, {15: [("lr", 0.2)]})
    shown = run.view(15)
    run.rewind(15)
    now = run.snapshot()
    assert shown.lr == now.lr == PRESETS["tutorial"].lr
    assert shown.config == now.config


def test_session_at_a_step_is_the_run_then_and_steps_on_as_it_did():
    changes = mid_run(bugs.OVERWRITE_GRAD) | {35: [("bug", bugs.TANH_DERIVATIVE)]}
    run = session()
    drive(run, 40, changes)
    before = run.snapshot()
    for s in (40, 30, 12, 20, 0):
        run.view(min(s + 5, 40))  # a replayer elsewhere
        other = run.session_at(s)
        earlier = {t: c for t, c in changes.items() if t < max(s, 1)}
        straight = session()
        drive(straight, s, earlier)
        assert_same_run(other, straight)
        assert other.ghost is None and other.earliest_step <= s
        drive(other, 40, start=s)
        drive(straight, 40, start=s)
        assert_same_run(other, straight)
    assert_same_run(run, run)  # untouched:
    assert_shows(run.snapshot(), before)
    assert same(run.snapshot().history, before.history) and run.ghost is None


# -- rewind(s) then a change is the straight run that made the change at s -----------

CHANGES_AT_BRANCH = {
    "bug": ("bug", bugs.OVERWRITE_GRAD),
    "lr": ("lr", 0.3),
    "data": ("data", TUTORIAL_MOVED),
    "nothing": ("nothing", None),
}


@pytest.mark.parametrize("kind", CHANGES_AT_BRANCH)
@pytest.mark.parametrize("at", [0, 12, 30, 45])
def test_rewind_then_a_change_is_the_run_that_made_it_then(kind, at):
    earlier = {5: [("bug", bugs.SKIP_ZERO_GRAD)], 20: [("bug", bugs.SKIP_ZERO_GRAD)]}
    earlier[35] = [("lr", 0.02)]
    run = session()
    assert_views(run, drive(run, 50, earlier), [49, at + 2, at + 1])  # replayers ahead
    before = run.snapshot().history
    run.rewind(at)
    assert run.step_count == at
    cut = bisect_right(before.steps, at)
    assert run.ghost == Ghost(at, before.steps[cut:], before.loss[cut:])
    assert run.snapshot().ghost == run.ghost
    change = CHANGES_AT_BRANCH[kind]
    later = {s: c for s, c in earlier.items() if s < at} | {at: [change]}
    drive(run, 60, {at: [change]}, start=at)
    straight = session()
    drive(straight, 60, later)
    assert_same_run(run, straight)
    assert_views(run, drive(session(), 60, later))


def test_rewind_shows_what_the_view_showed():
    run = session()
    drive(run, 40, mid_run(bugs.TANH_DERIVATIVE))
    for at in (30, 22, 12, 3):
        shown = run.view(at)
        run.rewind(at)
        assert run.view(at) == run.snapshot()
        assert_shows(shown, run.snapshot())


def test_bug_events_and_the_rate_log_after_a_rewind_keep_only_the_past():
    bug = bugs.GRADIENT_ASCENT
    changes = {5: [("bug", bug)], 8: [("lr", 0.01)], 20: [("bug", bug), ("lr", 0.2)]}
    changes[30] = [("bug", bug)]
    run = session()
    drive(run, 40, changes)
    run.rewind(20)  # the changes made at step 20 came after update 20: gone
    assert run.bugs == {bug}
    assert [(e.step, e.on) for e in run.snapshot().bug_events] == [(5, True)]
    assert [start for start, _ in run._lr_log] == [0, 8]
    assert run.learning_rate == 0.01
    straight = session()
    drive(straight, 20, {s: c for s, c in changes.items() if s < 20})
    assert_same_run(run, straight)


def test_twin_history_after_rewinding_a_buggy_run_is_the_clean_runs():
    changes = {0: [("bug", bugs.OVERWRITE_GRAD)], 12: [("lr", 0.1)], 20: [("data", TUTORIAL_MOVED)]}
    run = session()
    drive(run, 50, changes)
    run.rewind(30)
    drive(run, 50, start=30)
    clean = {s: [c for c in cs if c[0] != "bug"] for s, cs in changes.items()}
    straight = session()
    drive(straight, 50, clean)
    assert same(run.snapshot().twin_history, straight.snapshot().history)


def test_a_bug_switched_on_again_shows_no_clean_curve_stopped_in_the_past():
    # The clean twin steps only while a bug is on: switched on again, the twin is where it
    # last stepped. Its curve shows once the next step has levelled it, as a first twin's
    # does, never stopping short of the present.
    bug = bugs.OVERWRITE_GRAD
    clean = session()
    drive(clean, 30)
    run = session()
    drive(run, 20, {5: [("bug", bug)], 10: [("bug", bug)]})
    run.toggle_bug(bug)
    assert run.snapshot().twin_history is None
    run.step()
    assert same(run.snapshot().twin_history, until(clean.snapshot().history, 21))
    run.rewind(12)  # the bug was off then: the twin is rewound too, level with the run
    run.toggle_bug(bug)
    assert same(run.snapshot().twin_history, until(clean.snapshot().history, 12))
    run.rewind(0)
    assert run._twin is None  # as in a fresh run


def test_rewinding_twice_and_to_0():
    run = session()
    drive(run, 50, {10: [("bug", bugs.SKIP_ZERO_GRAD)]})
    run.rewind(40)
    drive(run, 50, {40: [("lr", 0.1)]}, start=40)
    run.rewind(20)
    drive(run, 50, {20: [("data", TUTORIAL_MOVED)]}, start=20)
    straight = session()
    drive(straight, 50, {10: [("bug", bugs.SKIP_ZERO_GRAD)], 20: [("data", TUTORIAL_MOVED)]})
    assert_same_run(run, straight)
    assert run.ghost.branch_step == 20 and run.ghost.last_step == 50

    run.rewind(0)
    assert_same_run(run, session())
    assert run.bugs == frozenset() and run.timeline.stretches[0].bugs == frozenset()
    drive(run, 30)
    fresh = session()
    drive(fresh, 30)
    assert_same_run(run, fresh)


def test_a_diverged_run_rewound_to_before_it_steps_on():
    changes = {5: [("lr", 1e7)]}  # a weight passes 10^6 at update 6
    run = session()
    snaps = drive(run, 60, changes)
    assert run.diverged_at == run.step_count == 6 and len(snaps) == 7
    assert_views(run, snaps)
    run.rewind(4)
    assert run.diverged_at is None and run.snapshot().diverged_reason is None
    drive(run, 60, {4: [("lr", 0.1)]}, start=4)
    straight = session()
    drive(straight, 60, {4: [("lr", 0.1)]})
    assert_same_run(run, straight)
    assert run.ghost == Ghost(4, (5, 6), tuple(snaps[-1].history.loss[4:]))


# -- random schedules of changes ---------------------------------------------------------

SMALL_MOONS, SMALL_MOONS_TEST = datasets.split(datasets.make("moons", samples=24), 0.25)
SETUPS = {  # small nets: many examples
    "tutorial": lambda: session(hidden=(3,)),
    "moons-batches": lambda: session(
        "moons", data=SMALL_MOONS, test=SMALL_MOONS_TEST, batch_size=8, hidden=(4,)
    ),
}
POINTS = {  # by the number of features: what ("data", i) trains on
    3: [
        (TUTORIAL.xs, TUTORIAL.ys),
        TUTORIAL_MOVED,
        (*TUTORIAL_MOVED, TUTORIAL.xs[:2], TUTORIAL.ys[:2]),  # with test points
        (TUTORIAL.xs, TUTORIAL.ys, (), ()),  # and without them again
    ],
    2: [
        (SMALL_MOONS.xs, SMALL_MOONS.ys),
        (MOONS_OTHER.xs[:12], MOONS_OTHER.ys[:12]),
        (MOONS_OTHER.xs[:12], MOONS_OTHER.ys[:12], MOONS_OTHER.xs[12:], MOONS_OTHER.ys[12:]),
        (SMALL_MOONS.xs, SMALL_MOONS.ys, (), ()),
    ],
}
CHANGE = st.one_of(
    st.tuples(st.just("bug"), st.sampled_from([bug.id for bug in bugs.CATALOGUE])),
    st.tuples(st.just("lr"), st.sampled_from([0.01, 0.1, 0.3])),
    st.tuples(st.just("data"), st.integers(0, 3)),
    st.tuples(st.just("nothing"), st.none()),
)
SCHEDULE = st.dictionaries(st.integers(0, 29), st.lists(CHANGE, min_size=1, max_size=3), max_size=5)


@settings(max_examples=15)
@given(SCHEDULE, st.integers(0, 29), CHANGE, st.randoms(use_true_random=False))
def test_views_and_a_rewind_on_random_schedules_are_straight_runs(changes, at, change, rnd):
    run = session(hidden=(3,))
    snaps = drive(run, 30, changes)
    assert_views(run, snaps, rnd.sample(range(len(snaps)), 10))
    at = min(at, run.step_count)
    run.rewind(at)
    drive(run, 36, {at: [change]}, start=at)
    later = {s: c for s, c in changes.items() if s < at} | {at: [change]}
    if not at:  # no update ran: what was changed at step 0 holds, then the change
        later[0] = changes.get(0, []) + [change]
    straight = session(hidden=(3,))
    snaps = drive(straight, 36, later)
    assert_same_run(run, straight)
    assert_views(run, snaps, rnd.sample(range(len(snaps)), 10))


OPERATION = st.one_of(
    st.tuples(st.just("step"), st.integers(1, 12)),
    st.tuples(st.just("change"), CHANGE),
    st.tuples(st.just("view"), st.floats(0, 1)),
    st.tuples(st.just("rewind"), st.floats(0, 1)),
    st.tuples(st.just("session_at"), st.floats(0, 1)),
    st.tuples(st.just("load"), st.none()),
)


@settings(max_examples=20)
@given(st.sampled_from(list(SETUPS)), st.lists(OPERATION, min_size=1, max_size=12), st.booleans())
def test_any_sequence_of_steps_changes_views_and_rewinds_is_a_straight_run(setup, operations, thin):
    """The run always equals a straight run of the changes its branch made (a rewind to a
    past step s drops those made at s or later, except at 0, where no update ran)."""
    run = SETUPS[setup]()
    if thin:
        run.timeline.budget = 6 * run.timeline.checkpoint(0).size
    plan: dict[int, list] = {}
    for kind, arg in operations:
        now = run.step_count
        if kind == "step":
            drive(run, now + arg, start=now)
        elif kind == "change":
            apply(run, arg)
            plan.setdefault(now, []).append(arg)
        elif kind == "view":
            s = round(arg * now)
            straight = SETUPS[setup]()
            snaps = drive(straight, s, plan)
            # the present, with the changes made since its update
            assert_shows(run.view(s), straight.snapshot() if s == now else snaps[-1])
        elif kind == "session_at":
            s = round(arg * now)
            straight = SETUPS[setup]()
            drive(straight, s, {t: c for t, c in plan.items() if t < max(s, 1) or s == now})
            assert_same_run(run.session_at(s), straight)
        elif kind == "load":
            trace, run = run._trace, loaded(run)
            run._trace = trace  # a diagnosis, not saved
            if thin:
                run.timeline.budget = 6 * run.timeline.checkpoint(0).size
        else:
            s = round(arg * now)
            run.rewind(s)
            if s < now:  # a rewind to the present changes nothing, as a view of it shows it
                plan = {t: c for t, c in plan.items() if t < max(s, 1)}
        straight = SETUPS[setup]()
        drive(straight, run.step_count, plan)
        assert_same_run(run, straight)
        starts = len(run.timeline.stretches) + 1  # kept whatever the budget, with the present
        assert run.timeline.bytes <= run.timeline.budget + starts * run.timeline.checkpoint(0).size


# -- a saved and loaded run -----------------------------------------------------------


LOADED = {
    "tutorial": (lambda: session(), mid_run(bugs.SKIP_ZERO_GRAD)),
    # Predictions carry from one pass on every point to the next (every 10 steps): those
    # set_data made on the new points at step 23 are shown up to step 30.
    "moons-batches": (
        lambda: session("moons", data=MOONS_TRAIN, test=MOONS_TEST, batch_size=16),
        mid_run(bugs.OVERWRITE_GRAD)
        | {20: [], 23: [("data", (MOONS_OTHER.xs, MOONS_OTHER.ys, (), ()))]},
    ),
}


@pytest.mark.parametrize("name", LOADED)
def test_a_loaded_run_views_and_rewinds_its_whole_past(name):
    make, changes = LOADED[name]
    snaps = drive(make(), 40, changes)
    run = make()
    drive(run, 40, changes)
    run = loaded(run)
    assert run.earliest_step == 0 and len(run.timeline) == 2  # step 0 and now: no more saved
    assert_views(run, snaps, range(40, -1, -1))
    assert len(run.timeline) == 41  # what the views replayed is kept, within the budget
    run = loaded(run)
    run.rewind(22)
    drive(run, 40, {22: [("lr", 0.3)]}, start=22)
    straight = make()
    drive(straight, 40, {s: c for s, c in changes.items() if s < 22} | {22: [("lr", 0.3)]})
    assert_same_run(run, straight)
    again = loaded(run)  # a step's trace is a diagnosis, not saved
    assert again.snapshot().trace is None
    again._trace = run._trace
    assert_same_run(again, straight)
    assert again.ghost == run.ghost


def test_a_run_saved_right_after_its_test_points_went_has_no_test_metrics():
    run = session("moons", data=MOONS_TRAIN, test=MOONS_TEST)
    drive(run, 3, {3: [("data", (MOONS_TRAIN.xs, MOONS_TRAIN.ys, (), ()))]})
    assert math.isnan(run.snapshot().test_loss)
    assert_same_run(loaded(run), run)


# -- thinned checkpoints and histories -------------------------------------------------


def test_a_small_budget_holds_while_views_and_rewinds_stay_exact():
    changes = {40: [("bug", bugs.SKIP_ZERO_GRAD)], 90: [("bug", bugs.SKIP_ZERO_GRAD)]}
    changes |= {150: [("lr", 0.1)], 200: [("data", TUTORIAL_MOVED)]}

    def small(run: TrainingSession) -> TrainingSession:
        run.timeline.budget = 24 * run.timeline.checkpoint(0).size
        return run

    def within(run: TrainingSession) -> None:
        timeline = run.timeline
        kept = [timeline.checkpoint(s) for s in range(run.step_count + 1)]
        assert timeline.bytes == sum(c.size for c in kept if c) <= timeline.budget
        assert all(kept[s.start] for s in timeline.stretches)  # a stretch's start always

    snaps = drive(session(), 300, changes)
    run = small(session())
    drive(run, 300, changes, each=within)
    assert run.timeline.stride >= 16 and len(run.timeline) <= 24
    assert_views(run, snaps, range(300, -1, -7))  # backwards, each from a checkpoint
    assert_views(run, snaps, [s for s in range(301) if not run.timeline.checkpoint(s)][:40])

    at = next(s for s in range(230, 300) if not run.timeline.checkpoint(s))
    run.rewind(at)
    drive(run, 340, {at: [("lr", 0.02)]}, start=at, each=within)
    later = {s: c for s, c in changes.items() if s < at} | {at: [("lr", 0.02)]}
    straight = session()
    snaps = drive(straight, 340, later)
    assert_same_run(run, straight)
    assert_views(run, snaps, range(340, 0, -9))


@pytest.mark.parametrize("bug_ids", [(), (bugs.OVERWRITE_GRAD,)])  # with true gradients
@pytest.mark.parametrize("preset", ["tutorial", "moons"])
def test_a_timelines_bytes_are_the_memory_its_checkpoints_take(preset, bug_ids):
    # The budget is counted in Checkpoint.size: it must not count less than the memory
    # the checkpoints take (tracemalloc), or a run would keep more than its budget.
    run = session(preset, bug_ids=bug_ids)
    drive(run, 3)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        timeline = Timeline(run.timeline.stretches[0], checkpoint_of(run), budget=2**40)
        for step in range(1000, 1300):
            # each step's own numbers, as after an update (a full loss: with mini-batches)
            run._step, run._loss, run._accuracy = step + 0, run._loss * 1.0, step / 1300
            run.full_loss = run._loss * 1.0
            timeline.record(checkpoint_of(run))
        gc.collect()
        taken = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert taken <= timeline.bytes <= 1.1 * taken


def test_rewinding_into_a_thinned_history_keeps_what_a_straight_run_keeps():
    def short_history(run: TrainingSession) -> TrainingSession:
        run._history = HistoryRecorder(capacity=16, recent=8)
        return run

    changes = {30: [("bug", bugs.FORWARD_ORDER_BACKWARD)], 75: [("lr", 0.1)]}
    run = short_history(session())
    drive(run, 100, changes)
    for at in (70, 45, 22):
        straight = short_history(session())
        drive(straight, at, {s: c for s, c in changes.items() if s < at})
        run.rewind(at)
        assert same(run.snapshot().history, straight.snapshot().history)
        assert len(run.snapshot().history) < at
        assert_same_run(run, straight)
        later = {s: c for s, c in changes.items() if at <= s}
        drive(run, 100, later, start=at)
        drive(straight, 100, later, start=at)
        assert_same_run(run, straight)


def test_views_of_steps_a_long_history_has_thinned_show_their_gradient_growth():
    # A straight run knows the gradient norm 10 steps back (its recent window); a view of
    # a step whose history rows are thinned away must show the same health.
    def short_history(run: TrainingSession) -> TrainingSession:
        run._history = HistoryRecorder(capacity=16, recent=12)
        return run

    changes = {0: [("lr", 0.5)], 40: [("lr", 5.0)]}
    snaps = drive(short_history(session()), 120, changes)
    run = short_history(session())
    run.timeline.budget = 8 * run.timeline.checkpoint(0).size  # thinned checkpoints too
    drive(run, 120, changes)
    assert run.timeline.stride > 10
    assert all(s.health.growth is not None for s in snaps[11:])
    for s in [*range(121), *range(120, 0, -3)]:
        assert_shows(run.view(s), snaps[s], history=False)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("step", [-1, 21, 1000])
def test_view_and_rewind_outside_the_run_name_its_range(step):
    run = session()
    drive(run, 20)
    for method in (run.view, run.rewind, run.session_at):
        with pytest.raises(ValueError, match=f"step {step} is not in this run.* 0 to 20"):
            method(step)
    assert run.step_count == 20 and run.ghost is None


@pytest.mark.parametrize("step", [2.5, "3", None])
def test_a_step_that_is_not_a_whole_number_is_named(step):
    run = session()
    drive(run, 5)
    for method in (run.view, run.rewind, run.session_at):
        with pytest.raises(TypeError, match=f"step must be a whole number, got {step!r}"):
            method(step)


def test_a_run_loaded_without_its_timeline_reaches_back_to_its_loaded_step():
    changes = {5: [("bug", bugs.SKIP_ZERO_GRAD)]}
    run = session()
    drive(run, 20, changes)
    old = TrainingSession.from_state(dataclasses.replace(run.export_state(), timeline=None))
    assert old.earliest_step == 20
    for method in (old.view, old.rewind, old.session_at):
        with pytest.raises(ValueError, match="step 19 is not in this run.* 20 to 20"):
            method(19)
    drive(old, 40, {25: [("lr", 0.2)]}, start=20)
    snaps = drive(session(), 40, changes | {25: [("lr", 0.2)]})
    snaps[20] = dataclasses.replace(snaps[20], trace=None)  # not saved: no update to replay
    assert_views(old, snaps, range(40, 19, -1))
    old.rewind(20)
    assert_shows(old.snapshot(), snaps[20])
    with pytest.raises(ValueError, match="it reaches steps 20 to 20"):
        old.view(0)


def test_after_a_reset_the_run_reaches_step_0_only():
    run = session()
    drive(run, 20, {3: [("bug", bugs.GRADIENT_ASCENT)]})
    run.rewind(10)
    run.reset()
    assert run.ghost is None and run.earliest_step == 0 and len(run.timeline) == 1
    with pytest.raises(ValueError, match="reaches steps 0 to 0"):
        run.view(1)
    snaps = drive(session(bug_ids=[bugs.GRADIENT_ASCENT]), 10)
    drive(run, 10)
    assert_views(run, snaps)
