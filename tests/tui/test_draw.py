"""Draw mode: add, flip and remove points on the decision boundary, by key and by mouse."""

from __future__ import annotations

import pytest

from engine.persist.session_file import load_session
from engine.training.drawing import TRAIN, DrawnPoints
from tests.support.pilot import SIZE, make_app, wait_for
from tui.cli.config import PRESETS, RunConfig
from tui.cli.data_file import load_csv
from tui.cli.saved_run import SessionFileError, export_data, load_run
from tui.dashboard.app import MicrogradApp
from tui.dashboard.screens.dialogs import ErrorDialog
from tui.dashboard.screens.graph import GraphScreen
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.main import main


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def boundary(app) -> DecisionBoundary:
    return app.query_one(DecisionBoundary)


async def test_keys_move_the_cursor_add_remove_undo_and_redo():
    app = make_app("blank")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        pane = boundary(app)
        assert pane.drawing and pane.has_focus
        start = pane.cursor_cell
        await pilot.press("left", "left", "up")
        assert pane.cursor_cell == (start[0] - 2, start[1] - 1)
        at_plus = pane.cursor
        await pilot.press("plus")
        await pilot.press("right", "right", "right", "minus")
        at_minus = pane.cursor
        assert app.session.xs[2:] == (at_plus, at_minus)
        assert app.session.ys == (-1.0, 1.0, 1.0, -1.0)
        assert "added -1 · 4 ●" in str(pane.border_subtitle)
        await pilot.press("delete")  # the nearest point: the -1 under the cursor
        assert app.session.xs[2:] == (at_plus,)
        await pilot.press("u")
        assert app.session.xs[2:] == (at_plus, at_minus)
        await pilot.press("U")
        assert app.session.xs[2:] == (at_plus,)
        await pilot.press("equals_sign")  # = adds +1 too, without shift
        assert app.session.ys[-1] == 1.0 and len(app.session.xs) == 4
        await pilot.press("escape")
        assert not pane.drawing and pane.cursor_cell is None
        await pilot.press("space")  # the step trains on the four points
        assert len(app.session.snapshot().predictions) == 4


async def test_mouse_buttons_add_plus_and_minus_and_remove_with_ctrl():
    app = make_app("blank")
    async with app.run_test(size=SIZE) as pilot:
        app.action_draw_mode()
        await pilot.pause()
        pane = boundary(app)
        # Offsets are from the pane's outer corner: +1 for the border.
        assert await pilot.click(DecisionBoundary, offset=(6, 4))
        assert app.session.ys[-1] == 1.0 and len(app.session.xs) == 3
        assert pane.cursor_cell == (5, 3)
        assert app.session.xs[-1] == pane.cursor
        await pilot.click(DecisionBoundary, offset=(12, 6), button=3)
        assert app.session.ys[-1] == -1.0 and len(app.session.xs) == 4
        await pilot.click(DecisionBoundary, offset=(12, 5), control=True)  # next to the -1
        assert len(app.session.xs) == 3 and app.session.ys[-1] == 1.0
        await pilot.click(DecisionBoundary, offset=(7, 4), button=2)  # middle: nearest, the +1
        assert len(app.session.xs) == 2
        await pilot.click(DecisionBoundary, offset=(0, 3))  # on the border
        assert "Click inside the plot" in messages(app)[-1] and len(app.session.xs) == 2
        assert not isinstance(app.screen, GraphScreen)


async def test_outside_draw_mode_a_click_on_a_point_still_opens_its_graph():
    app = make_app("blank")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        plane = boundary(app).plane
        column, row = plane.pixel_of(1.0, 1.0)
        await pilot.click(DecisionBoundary, offset=(column + 1, row // 2 + 1))
        assert isinstance(app.screen, GraphScreen) and app.graph_state.sample == 1
        assert len(app.session.xs) == 2


async def test_a_point_on_top_flips_the_other_class_and_refuses_a_twin_of_its_own():
    app = make_app("blank")
    async with app.run_test(size=SIZE) as pilot:
        app.action_draw_mode()
        await pilot.pause()
        await pilot.press("plus")
        await pilot.press("plus")  # the same cell, the same class
        assert len(app.session.xs) == 3
        assert "already a +1 point in this cell" in messages(app)[-1]
        await pilot.press("minus")  # the same cell, the other class
        assert len(app.session.xs) == 3 and app.session.ys[-1] == -1.0
        assert "it is -1 now" in messages(app)[-1]
        await pilot.press("u")
        assert app.session.ys[-1] == 1.0


async def test_removing_the_last_point_says_why_and_keeps_the_run():
    app = make_app("blank")
    async with app.run_test(size=SIZE) as pilot:
        app.action_draw_mode()
        await pilot.pause()
        await pilot.press("delete")
        assert len(app.session.xs) == 1
        await pilot.press("delete")
        assert len(app.session.xs) == 1
        assert "last training point" in messages(app)[-1]
        assert not isinstance(app.screen, ErrorDialog)
        await pilot.press("space")
        assert app.session.step_count == 1


async def test_drawing_on_data_that_is_not_two_dimensional_says_so():
    app = make_app()  # the tutorial: three features
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        assert not boundary(app).drawing
        assert "two features; this data has 3" in messages(app)[-1]
        await pilot.press("u")
        assert messages(app)[-1] == "Nothing to undo."


async def test_d_brings_back_the_boundary_when_the_predictions_were_shown():
    app = make_app("blank")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        assert not app.shows_boundary
        await pilot.press("d")
        assert app.shows_boundary and boundary(app).drawing


async def test_drawing_while_training_runs_applies_between_steps(tmp_path):
    app = make_app("blank")
    async with app.run_test(size=SIZE) as pilot:
        app.action_draw_mode()
        await pilot.press("r")
        await wait_for(lambda: app.session.step_count >= 3, pilot)
        await pilot.press("left", "minus")
        assert len(app.session.xs) == 3
        assert any("apply between two steps" in m for m in messages(app))
        drawn_at = app.session.step_count
        await wait_for(lambda: app.session.step_count >= drawn_at + 3, pilot)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert not [w for w in app.workers if w.error is not None]
        assert len(app.session.snapshot().predictions) == 3


async def test_a_saved_run_keeps_the_drawn_points_and_export_reads_back(tmp_path):
    app = make_app("blank", bugs=("overwrite-grad",))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "d", "plus", "right", "right", "right", "minus", "space")
        assert app.saving.save_session_to(str(tmp_path / "run.json"))
        assert app.saving.export_data_to(str(tmp_path / "points.csv"))
        await pilot.pause()
        assert any("micrograd-tui --data" in m for m in messages(app))
        expected = app.session.snapshot()

    loaded = MicrogradApp(*load_run(tmp_path / "run.json"))  # --load FILE
    assert loaded.session.xs == expected.inputs and loaded.session.ys == expected.targets
    back = load_csv(tmp_path / "points.csv")
    assert [tuple(x) for x in back.xs] == list(expected.inputs)
    assert back.ys == list(expected.targets)


def blank_session_with_a_drawn_point():
    session = RunConfig(dataset="blank", session=PRESETS["blank"]).build_session()
    DrawnPoints(session).add((0.1 / 3, 2.0), -1.0)
    return session


def test_exported_points_train_with_the_data_flag(tmp_path):
    session = blank_session_with_a_drawn_point()
    path = tmp_path / "points.csv"
    export_data(path, session)
    saved = tmp_path / "run.json"
    assert main(["train", "--data", str(path), "--steps", "2", "--save", str(saved)]) in (0, None)
    assert load_session(saved).session.xs == session.xs  # 0.1 / 3 came back to the last bit


def test_exporting_points_of_one_class_is_refused(tmp_path):
    session = blank_session_with_a_drawn_point()
    DrawnPoints(session).remove(TRAIN, 1)  # the +1 point: two -1 points are left
    with pytest.raises(SessionFileError, match="needs both classes"):
        export_data(tmp_path / "one.csv", session)
    assert not (tmp_path / "one.csv").exists()
