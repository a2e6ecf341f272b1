"""SVG snapshots of what the learner sees: fixed seeds, no timers, no toasts.

Update them with `make test PYTEST_ARGS="--snapshot-update"` after checking the
new SVGs by eye (the report pytest-textual-snapshot writes shows the diff).
"""

from __future__ import annotations

from tests.support.pilot import make_app


def steps(n: int, *toggles: str):
    """run_before: take n steps straight on the session (no notifications), then redraw."""

    async def run_before(pilot) -> None:
        app = pilot.app
        for bug in toggles:
            app.session.toggle_bug(bug)
        for _ in range(n):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()

    return run_before


def test_main_screen_120x40(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=steps(20))


def test_main_screen_80x24(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=steps(20))


def test_help_screen(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), press=["question_mark"])


def test_run_with_overwrite_grad_on(snap_compare) -> None:
    async def run_before(pilot) -> None:
        app = pilot.app
        for _ in range(10):
            app.session.step()
        app.session.toggle_bug("overwrite-grad")  # on from step 10: a marker on the plot
        for _ in range(30):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_large_net_heat_map(snap_compare) -> None:
    assert snap_compare(make_app("moons"), terminal_size=(120, 40), run_before=steps(2))


def test_too_small_terminal(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(60, 20))


def test_two_feature_data_shows_the_decision_boundary(snap_compare) -> None:
    from dataclasses import replace

    from tui.cli.config import PRESETS, RunConfig
    from tui.dashboard.app import MicrogradApp

    config = RunConfig(dataset="moons", test_fraction=0.2, session=replace(PRESETS["moons"]))
    assert snap_compare(MicrogradApp(config), terminal_size=(120, 40), run_before=steps(100))


def test_main_screen_200x50(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(200, 50), run_before=steps(20))


def test_a_bug_on_at_80x24_shows_all_six_and_its_symptom(snap_compare) -> None:
    app = make_app(bugs=("forward-order-backward",))
    assert snap_compare(app, terminal_size=(80, 24), run_before=steps(3))


def drawn(points: tuple[tuple[float, float, float], ...], before: int, after: int):
    """run_before: ``before`` steps, draw mode on, the points drawn, ``after`` steps."""

    async def run_before(pilot) -> None:
        from tui.dashboard.widgets.boundary import DecisionBoundary

        app = pilot.app
        for _ in range(before):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        app.action_draw_mode()  # as d does (on 80x24 the boundary takes the bugs' place)
        assert app.query_one(DecisionBoundary).drawing
        await pilot.pause()  # the toast arrives as a message
        app.clear_notifications()  # no toasts in snapshots
        for x, y, label in points:
            app.drawn.add((x, y), label)
        for _ in range(after):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()

    return run_before


# Two points that break the diagonal: the model must bend around them.
BREAKING = ((0.9, -0.9, -1.0), (-0.9, 0.9, -1.0), (0.3, 0.3, 1.0), (-0.3, -0.3, -1.0))


def test_draw_mode_120x40(snap_compare) -> None:
    run_before = drawn(BREAKING, 20, 60)
    assert snap_compare(make_app("blank"), terminal_size=(120, 40), run_before=run_before)


def test_draw_mode_80x24(snap_compare) -> None:
    # The points on the seed's model, before a step: the loss plot is empty, so
    # the picture does not hang on where plotext puts its tick labels at this size.
    run_before = drawn(BREAKING, 0, 0)
    assert snap_compare(make_app("blank"), terminal_size=(80, 24), run_before=run_before)
