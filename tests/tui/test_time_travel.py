"""Time travel on the dashboard: the cursor over past steps, every pane at that step, the
branch question, the ghost curve, and keys pressed where there is nowhere to go."""

from __future__ import annotations

import json

from rich.text import Text
from textual.geometry import Offset

from engine import bugs
from tests.support.cli import run_cli
from tests.support.pilot import SIZE, make_app, wait_for
from tui.cli.config import PRESETS, RunConfig
from tui.dashboard import format as fmt
from tui.dashboard.screens.gradcheck import GradCheckScreen
from tui.dashboard.travel import BranchDialog
from tui.dashboard.widgets.loss_plot import LossPlot
from tui.dashboard.widgets.status import StatusBar


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def plain(widget) -> str:
    content = widget.render()
    return content.plain if isinstance(content, Text) else str(content)


def steps(app, n: int) -> None:
    for _ in range(n):
        app.session.step()
    app.refresh_panes()


def fresh(dataset: str, n: int, change_at: int | None = None, bug: str | None = None):
    """A run of the dataset's preset stepped ``n`` times (``bug`` switched on at ``change_at``)."""
    session = RunConfig(dataset=dataset, session=PRESETS[dataset]).build_session()
    for i in range(n):
        if i == change_at:
            session.toggle_bug(bug)
        session.step()
    return session


async def test_the_cursor_shows_what_a_saved_straight_run_holds(capsys, tmp_path) -> None:
    """Every pane draws the view; its weights and gradients are those `train --save` writes."""
    path = tmp_path / "twenty.json"
    code, _, _ = run_cli(capsys, "train", "--dataset", "moons", "--steps", "20", "--save", path)
    assert code == 0
    saved = json.loads(path.read_text())["session"]["parameters"]
    app = make_app("moons")
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 30)
        for _ in range(10):
            await pilot.press("less_than_sign")
        shown = app._last_snapshot
        assert shown.step == 20 and shown.present == 30
        assert list(shown.parameters) == saved["data"]
        assert list(shown.gradients) == saved["grad"]
        straight = fresh("moons", 20).snapshot()
        assert shown.predictions == straight.predictions and shown.loss == straight.loss
        assert shown.health == straight.health
        status = plain(app.query_one(StatusBar))
        assert "VIEWING" in status and "step 20 of 30 (end: present)" in status
        await pilot.pause()
        assert "viewing step 20 of 30" in app.query_one(LossPlot)._plain
        assert app.session.step_count == 30  # looking back changes nothing
        await pilot.press("end")
        assert app.travel.cursor is None and app._last_snapshot.step == 30
        assert "VIEWING" not in plain(app.query_one(StatusBar))


async def test_ten_steps_the_start_and_the_present() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 25)
        await pilot.press("left_curly_bracket")
        assert app.travel.cursor == 15
        await pilot.press("left_curly_bracket", "left_curly_bracket")
        assert app.travel.cursor == 0 and app._last_snapshot.step == 0
        assert app._last_snapshot.predictions == ()  # no forward pass yet at step 0
        await pilot.press("right_curly_bracket", "greater_than_sign")
        assert app.travel.cursor == 11
        await pilot.press("home")
        assert app.travel.cursor == 0
        await pilot.press("end")
        assert app.travel.cursor is None


async def test_keys_with_nowhere_to_go_say_so() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("less_than_sign")
        assert app.travel.cursor is None and "No steps yet" in messages(app)[-1]
        steps(app, 3)
        await pilot.press("greater_than_sign")
        assert app.travel.cursor is None and "Step 3 is the present" in messages(app)[-1]
        await pilot.press("end")
        assert "Already at the present" in messages(app)[-1]
        await pilot.press("home", "less_than_sign")
        assert app.travel.cursor == 0 and "Step 0 is the run's first step" in messages(app)[-1]


async def test_a_change_in_the_past_asks_then_branches() -> None:
    """A bug switched on at step 20 of 30: the run goes on from 20, the later steps a ghost,
    and ten more steps equal a straight run that switched it on at step 20."""
    app = make_app("moons")
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 30)
        before = app.session.snapshot().history
        app.travel.go(20)
        await pilot.press("1")
        await wait_for(lambda: isinstance(app.screen, BranchDialog), pilot)
        await pilot.press("enter")
        await wait_for(lambda: app.travel.cursor is None, pilot)  # branched, in a thread
        session = app.session
        assert session.step_count == 20 and app.travel.cursor is None
        assert session.bugs == {bugs.OVERWRITE_GRAD}
        ghost = session.ghost
        assert ghost.branch_step == 20 and ghost.steps == tuple(range(21, 31))
        assert ghost.loss == before.loss[20:]
        steps(app, 10)
        straight = fresh("moons", 30, change_at=20, bug=bugs.OVERWRITE_GRAD).snapshot()
        assert session.snapshot().parameters == straight.parameters
        assert session.snapshot().history == straight.history
        assert "ghost after step 20" in str(app.query_one(LossPlot).border_title)


async def test_going_back_from_the_question_keeps_the_run() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 12)
        app.travel.go(5)
        await pilot.press("space")
        await wait_for(lambda: isinstance(app.screen, BranchDialog), pilot)
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, BranchDialog), pilot)
        assert app.session.step_count == 12 and app.session.ghost is None
        assert app.travel.cursor == 5 and "still viewing step 5" in messages(app)[-1]


async def test_a_step_from_the_past_continues_from_there() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 12)
        app.travel.go(5)
        app.action_step()
        await wait_for(lambda: isinstance(app.screen, BranchDialog), pilot)
        await pilot.press("enter")
        await wait_for(lambda: app.session.step_count == 6, pilot)
        assert app.session.snapshot().parameters == fresh("tutorial", 6).snapshot().parameters


async def test_a_click_on_the_loss_plot_views_that_step() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 40)
        await pilot.pause()
        plot = app.query_one(LossPlot)
        axis = next(line for line in plot._plain.splitlines() if "└" in line)
        left, right = axis.index("└") + 1, axis.rindex("┘") - 1
        assert plot.step_at(Offset(left, 0)) == 1 and plot.step_at(Offset(right, 0)) == 40
        assert plot.step_at(Offset(left - 2, 0)) is None  # the y axis's labels
        middle = (left + right) // 2
        await pilot.click(LossPlot, offset=Offset(middle + 1, 1))  # + the border
        expected = plot.step_at(Offset(middle, 0))
        assert 15 <= expected <= 25
        await wait_for(lambda: app.travel.cursor == expected, pilot)


async def test_the_gradient_check_checks_the_viewed_step() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 12)
        app.travel.go(4)
        app.action_gradcheck()
        await wait_for(lambda: isinstance(app.screen, GradCheckScreen), pilot)
        checked = app.screen.session
        assert checked is not app.session and checked.step_count == 4
        assert checked.snapshot().parameters == fresh("tutorial", 4).snapshot().parameters


async def test_a_reset_and_a_new_run_leave_the_past() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 8)
        app.travel.go(3)
        app.action_reset()
        await pilot.pause()
        assert app.travel.cursor is None and app._last_snapshot.step == 0
        assert app.session.ghost is None


# -- snapshots ----------------------------------------------------------------------------


def viewing(step: int, of: int):
    async def run_before(pilot) -> None:
        steps(pilot.app, of)
        pilot.app.travel.go(step)
        await pilot.pause()

    return run_before


def branched(dataset_steps: int, at: int, more: int):
    async def run_before(pilot) -> None:
        app = pilot.app
        steps(app, dataset_steps)
        app.session.rewind(at)
        app.session.toggle_bug(bugs.GRADIENT_ASCENT)
        steps(app, more)
        app.travel.go(at + more // 2)
        await pilot.pause()

    return run_before


def test_snapshot_viewing_a_past_step_120x40(snap_compare) -> None:
    assert snap_compare(make_app("moons"), terminal_size=(120, 40), run_before=viewing(20, 40))


def test_snapshot_viewing_a_past_step_80x24(snap_compare) -> None:
    assert snap_compare(make_app("moons"), terminal_size=(80, 24), run_before=viewing(20, 40))


def test_snapshot_a_branch_and_its_ghost_120x40(snap_compare) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=branched(60, 20, 30))


def test_snapshot_a_branch_and_its_ghost_80x24(snap_compare) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=branched(60, 20, 30))


async def test_a_past_step_s_norms_and_twin_are_its_own() -> None:
    """The gradients pane's norms and the status bar's twin loss are the viewed step's."""
    app = make_app("moons", bugs=(bugs.OVERWRITE_GRAD,))
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 12)
        app.travel.go(10)
        await pilot.pause()
        shown = app._last_snapshot
        ten = shown.history.steps.index(10)
        pane = plain(app.query_one("#norms"))
        assert pane.split()[1] == fmt.short(shown.history.grad_norm[ten])
        twin = shown.twin_history.loss[shown.twin_history.steps.index(10)]
        assert f"twin {fmt.short(twin)}" in plain(app.query_one(StatusBar))


async def test_keys_wait_while_a_branch_is_made() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 12)
        app.travel.go(5)
        app.travel.branching = True  # as while the thread rewinds
        app.action_step()
        app.travel.move(-1)
        await pilot.pause()
        assert app.session.step_count == 12 and app.travel.cursor == 5
        assert messages(app)[-2:] == ["Still branching: a moment."] * 2
        assert not isinstance(app.screen, BranchDialog)
