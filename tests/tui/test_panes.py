"""The pane contract (tui/dashboard/widgets/pane.py): the app hands snapshots over; each pane lays
itself out, and carries its own help."""

from __future__ import annotations

from tests.support.pilot import SIZE, make_app, wait_for
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.dashboard.widgets.bug_toggles import BugToggle
from tui.dashboard.widgets.gradients import GradientsPane
from tui.dashboard.widgets.loss_plot import LossPlot
from tui.dashboard.widgets.pane import panes_in
from tui.dashboard.widgets.predictions import PredictionsPane
from tui.dashboard.widgets.side import SideColumn
from tui.dashboard.widgets.weights import WeightsPane


async def test_the_app_finds_its_panes_in_screen_order() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        kinds = [type(p) for p in panes_in(app.query_one("#panes"))]
        assert kinds == [WeightsPane, LossPlot, GradientsPane, SideColumn]


async def test_the_help_screen_gathers_every_panes_own_help_in_screen_order() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.action_help()
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        titles = [title for title, _ in app.screen.sections]
        assert titles == [
            "Weights",
            "Loss",
            "Gradients",
            "Bugs",
            "Predictions",
            "Decision boundary",
            "Status",
            "Gradient check",
            "Graph (v)",
        ]
        texts = dict(app.screen.sections)
        assert texts["Loss"] == LossPlot.HELP and texts["Predictions"] == PredictionsPane.HELP


async def test_the_bug_list_shortens_itself_when_the_terminal_does() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        toggles = list(app.query(BugToggle))
        # 120x40: one line per bug that is off, two for one that is on
        assert all(t.compact and not t.terse for t in toggles)
        await pilot.resize_terminal(80, 24)
        await wait_for(lambda: all(t.terse for t in toggles), pilot)  # one line each
        await pilot.resize_terminal(*SIZE)
        await wait_for(lambda: not any(t.terse for t in toggles), pilot)


async def test_the_side_column_picks_boundary_or_predictions_from_the_snapshot() -> None:
    app = make_app("moons")
    async with app.run_test(size=SIZE) as pilot:
        side = app.query_one(SideColumn)
        assert side.shows_boundary and app.query_one(DecisionBoundary).display
        side.swap()
        await pilot.pause()
        assert not side.shows_boundary and app.query_one(PredictionsPane).display
        assert not app.query_one(DecisionBoundary).display
