"""A screen that fits: what must show at 80x24, 120x40 and 200x50."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.content import Content
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast

from engine import bugs
from tests.support.pilot import make_app, wait_for
from tui.dashboard import format as fmt
from tui.dashboard.screens.gradcheck import GradCheckScreen
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.dashboard.widgets.bug_toggles import BugToggle, BugToggles
from tui.dashboard.widgets.loss_plot import LossPlot
from tui.dashboard.widgets.parameter_grid import ParameterGrid
from tui.dashboard.widgets.predictions import PredictionsPane
from tui.dashboard.widgets.side import SideColumn
from tui.dashboard.widgets.symptom import SymptomLine

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_footer_always_shows_help_and_quit(size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:

        def footer_keys() -> dict[str, FooterKey]:
            return {key.action: key for key in app.query(FooterKey) if key.region.width}

        # The footer composes its keys after the first frame: wait for them, not for time.
        await wait_for(lambda: {"help", "quit"} <= set(footer_keys()), pilot)
        keys = footer_keys()
        for action in ("help", "quit"):
            region = keys[action].region
            assert region.right <= size[0], (action, region)


async def test_at_80x24_all_six_bugs_and_the_symptom_line_show() -> None:
    app = make_app(bugs=(bugs.FORWARD_ORDER_BACKWARD,))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(3):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        box = app.query_one(BugToggles).content_region
        for toggle in app.query(BugToggle):
            region = toggle.region
            assert region.height >= 1 and box.contains_region(region), toggle.bug.id
        symptom = app.query_one(SymptomLine)
        assert symptom.display and symptom.region.height >= 1
        assert str(symptom.render()).startswith("symptom backprop says 0")


async def test_the_gradient_check_is_readable_at_80x24() -> None:
    app = make_app(bugs=(bugs.TANH_DERIVATIVE,))
    async with app.run_test(size=(80, 24)) as pilot:
        app.session.step()
        app.action_gradcheck()
        await wait_for(lambda: hasattr(app.screen, "result"), pilot)
        await pilot.pause()
        assert isinstance(app.screen, GradCheckScreen)
        table = app.screen.query_one("#gradcheck-table")
        console = Console(width=table.content_region.width, record=True, file=io.StringIO())
        console.print(table.content)
        text = console.export_text()
        assert "…" not in text  # no number cut short
        for check in app.screen.result.checks:
            assert f"{check.numerical:+.3e}" in text and f"{check.backprop:+.3e}" in text


async def test_huge_losses_get_short_y_labels() -> None:
    app = make_app("moons", loss="mse", lr=0.78)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.session.diverged_at is None:
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        text = app.export_screenshot()
        loss = app.session.snapshot().loss  # about 1e7: plotext would write 10354102.6
        assert f"{loss:.2g}" in text
        assert f"{loss:.1f}" not in text
        assert app.query_one(LossPlot).log_scale is False


async def test_the_legend_is_in_the_title_not_over_the_curves() -> None:
    app = make_app(bugs=(bugs.OVERWRITE_GRAD,))  # a clean twin: two curves to tell apart
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(20):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        plot = app.query_one(LossPlot)
        canvas = plot.render().plain
        assert "train" not in canvas and "twin" not in canvas  # plotext's legend box
        title = Content.from_markup(plot.border_title).plain
        assert title == "Loss ━ train ━ clean twin"


async def test_log_scale_labels_sit_on_tick_rows_not_on_the_x_axis() -> None:
    app = make_app(bugs=(bugs.OVERWRITE_GRAD,))  # loss from 7.7 down to 0.055: 1e-2 to 1e1
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(20):
            app.session.step()
        app.refresh_panes()
        app.action_toggle_log()
        await pilot.pause()
        lines = str(app.query_one(LossPlot).render()).splitlines()
        labelled = [line for line in lines if "1e" in line]
        assert [line.split("┤")[0].strip() for line in labelled] == ["1e1", "1e0", "1e-1", "1e-2"]
        assert all("┤" in line for line in labelled)  # not "└", the x axis's corner


async def test_a_toast_at_80x24_hides_neither_the_bugs_nor_the_symptom() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.session.step()
        app.refresh_panes()
        await pilot.press("1")  # overwrite-grad on: a toast says so
        app.session.step()
        app.refresh_panes()
        await wait_for(lambda: bool(app.screen.query(Toast)), pilot)
        await pilot.pause()
        toast = app.screen.query_one(Toast)
        for covered in (app.query_one(BugToggles), app.query_one(SymptomLine)):
            assert not toast.region.overlaps(covered.region), covered
        assert toast.region.width <= 36
        assert toast._notification.timeout <= 3
        assert "overwrite-grad on" in str(toast.render())


async def test_at_200x50_the_panes_use_the_room() -> None:
    app = make_app("xor")  # 200 samples
    async with app.run_test(size=(200, 50)) as pilot:
        for _ in range(20):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        app.action_swap_boundary()  # the predictions in the boundary's place
        await pilot.pause()
        side, predictions = app.query_one(SideColumn), app.query_one(PredictionsPane)
        assert predictions.region.bottom == side.region.bottom  # down to the column's end
        assert predictions._rows_shown == predictions.content_region.height - 2  # + "… more"
        assert predictions._rows_shown >= 12  # 8 before: ten rows at most, in half the column


async def test_at_80x24_b_shows_the_predictions_in_the_bugs_place() -> None:
    app = make_app()  # 3 features: no decision boundary
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(20):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        bugs, predictions = app.query_one(BugToggles), app.query_one(PredictionsPane)
        assert not predictions.display  # no room below the six bugs
        assert bugs.border_title == "Bugs · b: predictions"
        await pilot.press("b")
        await pilot.pause()
        side = app.query_one(SideColumn)
        assert predictions.display and not bugs.display
        assert side.region.contains_region(predictions.region)  # whole, borders and all
        assert predictions._rows_shown == 4  # every sample
        assert predictions.border_title == "Predictions · b: bugs"
        await pilot.press("b")
        await pilot.pause()
        assert bugs.display and not predictions.display


async def test_at_80x24_b_shows_the_boundary_whole_in_the_bugs_place() -> None:
    app = make_app("moons")
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(10):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        boundary, loss = app.query_one(DecisionBoundary), app.query_one(LossPlot)
        assert (
            not boundary.display and app.query_one(BugToggles).border_title == "Bugs · b: boundary"
        )
        plot_height = loss.region.height
        await pilot.press("b")
        await pilot.pause()
        assert boundary.display and app.query_one(SideColumn).region.contains_region(
            boundary.region
        )
        assert boundary.border_title == "Decision boundary · b: predictions"
        assert (
            loss.region.height == plot_height
        )  # the boundary takes the bugs' rows, not the plot's
        await pilot.press("b")
        await pilot.pause()
        assert app.query_one(PredictionsPane).display and not boundary.display


async def test_at_200x50_a_net_taller_than_its_pane_shows_whole_side_by_side() -> None:
    app = make_app("xor")  # MLP(2, [8, 8, 1]): 23 lines one layer under another
    async with app.run_test(size=(200, 50)) as pilot:
        app.session.step()
        app.refresh_panes()
        await pilot.pause()
        grid = app.query_one("#weights-grid", ParameterGrid)
        assert not grid.heat_map
        assert grid.virtual_size.height <= grid.scrollable_content_region.height  # no scrolling
        assert grid.virtual_size.width <= grid.scrollable_content_region.width
        text = "\n".join(strip.text for strip in grid._lines)
        assert "layer 1 · tanh · 8 × (2 in + bias)  layer 2 · tanh · 8 × (8 in + bias)" in text
        assert "layer 3 · tanh · 1 × (8 in + bias)" in text


async def test_at_200x50_a_net_that_fits_gets_more_digits() -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        app.session.step()
        app.refresh_panes()
        await pilot.pause()
        for grid in app.query(ParameterGrid):
            assert grid.number_width == 9, grid.id  # +0.650977, not +0.6510
        weights = app.query_one("#weights-grid", ParameterGrid)
        w = app.session.snapshot().weights[0][0][0]
        assert fmt.number(w, 9) in "\n".join(strip.text for strip in weights._lines)
