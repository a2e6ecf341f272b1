"""Dead and saturated neurons on the dashboard: the weights and gradients panes' marks and
legend, the status bar's counts, the symptom line's meaning, the gradient norm's warning,
the Graph screen's neuron boxes, and the two demos in the palette."""

from __future__ import annotations

from rich.text import Text

from tests.support.pilot import SIZE, make_app, wait_for
from tui.cli.demos import HEALTH_DEMOS
from tui.dashboard.app import MicrogradApp
from tui.dashboard.commands import DashboardCommands
from tui.dashboard.screens.graph import GraphScreen
from tui.dashboard.widgets.gradients import GradientsPane, norms_text
from tui.dashboard.widgets.parameter_grid import ParameterGrid
from tui.dashboard.widgets.status import StatusBar
from tui.dashboard.widgets.symptom import SymptomLine
from tui.dashboard.widgets.weights import WeightsPane
from tui.graphview.source import Source


def demo_app(key: str) -> MicrogradApp:
    return MicrogradApp(HEALTH_DEMOS[key].run_config(), freeze_gc=True)


def steps(app: MicrogradApp, n: int) -> None:
    for _ in range(n):
        app.session.step()
    app.refresh_panes()


def rows(grid: ParameterGrid) -> list[str]:
    return [strip.text for strip in grid._lines]


def marked_rows(grid: ParameterGrid, mark: str) -> set[tuple[int, int]]:
    """The (layer, neuron) rows whose label ends in ``mark`` (just before their first cell)."""
    found = set()
    for y, spans in grid._cells.items():
        line = grid._lines[y].text
        for x0, _, (layer, neuron, column) in spans:
            if column == 0 and line[x0 - 1] == mark:
                found.add((layer, neuron))
    return found


def plain(widget) -> str:
    content = widget.render()
    return content.plain if isinstance(content, Text) else str(content)


async def test_dead_neurons_are_marked_in_both_grids_and_counted() -> None:
    app = demo_app("dead-relus")
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 3)
        await pilot.pause()
        health = app.session.health()
        assert len(health.dead) == 22
        for grid in app.query(ParameterGrid):
            assert grid.heat_map  # 16 x 16: the layers side by side
            assert marked_rows(grid, "✕") == set(health.dead)
            assert "\n".join(rows(grid)).count("✕") == len(health.dead)
        assert "✕ 22 dead" in str(app.query_one(WeightsPane).border_subtitle)
        assert "✕ 22 dead" in str(app.query_one(GradientsPane).border_subtitle)
        assert plain(app.query_one(StatusBar)).endswith("  speed 20/s  22 dead")
        symptom = app.query_one(SymptomLine)
        assert symptom.display and symptom.has_class("-health")
        assert "✕ 22 dead: output 0 on every training point" in plain(symptom)
        assert "not a bug" in plain(symptom)


async def test_a_marked_row_keeps_its_numbers_where_a_healthy_one_has_them() -> None:
    app = demo_app("saturated-tanh")
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 3)
        await pilot.pause()
        grid = app.query_one("#weights-grid", ParameterGrid)
        assert not grid.heat_map
        lines = rows(grid)
        saturated = app.session.health().saturated
        assert len(saturated) == 5
        marked = [line for line in lines if "≈" in line]
        assert len(marked) == 5 and marked_rows(grid, "≈") == set(saturated)
        healthy = next(line for line in lines if line.startswith("n") and "≈" not in line)
        # The mark takes the gap after the label: the numbers start in the same column.
        assert marked[0].index("≈") + 1 == healthy.index(" ") + 1
        assert "5 saturated" in plain(app.query_one(StatusBar))
        assert "|t| > 0.99 on every point" in plain(app.query_one(SymptomLine))


async def test_a_healthy_run_shows_no_mark_count_or_health_line() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 20)
        await pilot.pause()
        assert app.session.health().counts() == ""
        assert app.query_one(WeightsPane).border_subtitle == "41 parameters"
        status = plain(app.query_one(StatusBar))
        assert "dead" not in status and "saturated" not in status
        assert not app.query_one(SymptomLine).display
        for grid in app.query(ParameterGrid):
            assert not any("✕" in line or "≈" in line for line in rows(grid))


async def test_with_a_bug_on_the_symptom_line_names_the_bug_not_the_marks() -> None:
    app = demo_app("saturated-tanh")
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 3)
        app.session.toggle_bug("gradient-ascent")
        steps(app, 1)
        await pilot.pause()
        symptom = app.query_one(SymptomLine)
        assert symptom.display and not symptom.has_class("-health")
        assert plain(symptom).startswith("symptom ")
        assert "saturated" in plain(app.query_one(StatusBar))  # the count stays


async def test_a_line_under_the_gradient_norm_says_when_gradients_explode() -> None:
    # Measured (tests/test_cli_health.py): this run's |grad| at step 11 is over 100x step 1's.
    app = make_app(activation="sigmoid", lr=0.3)
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 10)
        await pilot.pause()
        assert "exploding" not in plain(app.query_one("#norms"))
        steps(app, 1)
        await pilot.pause()
        health = app.session.health()
        assert health.exploding
        norms = plain(app.query_one("#norms"))
        assert norms.splitlines()[2] == f"⚠ exploding: |grad| ×{health.growth:,.0f} in 10 steps"
        assert app.query_one("#norms").size.height == 3


def test_the_warning_line_fits_a_narrow_pane() -> None:
    app = make_app(activation="sigmoid", lr=0.3)
    for _ in range(11):
        app.session.step()
    text = norms_text(app.session.snapshot(), 20)
    assert text.plain.splitlines()[2].endswith("…") and len(text.plain.splitlines()[2]) == 20


async def test_the_graph_screens_neuron_boxes_carry_the_marks() -> None:
    app = demo_app("dead-relus")
    async with app.run_test(size=SIZE) as pilot:
        steps(app, 3)
        await pilot.pause()
        app.graph_state.source = Source.MODEL
        app.action_graph()
        await wait_for(
            lambda: isinstance(app.screen, GraphScreen) and app.screen.picture is not None, pilot
        )
        picture = app.screen.picture
        marked = {box.neuron for box in picture.boxes.values() if box.health}
        dead = {(layer + 1, neuron + 1) for layer, neuron in app.session.health().dead}
        assert marked == dead and len(dead) == 22
        assert all(
            picture.boxes[key].health == "dead"
            for key in picture.boxes
            if picture.boxes[key].health
        )


async def test_the_palette_offers_both_demos_and_loads_them_with_no_bug() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        provider = DashboardCommands(app.screen)
        titles = {title: call for title, call, _ in provider._commands()}
        assert "Demo: dead ReLUs" in titles and "Demo: saturated tanh" in titles
        assert not any(title.startswith("Demo bug: dead") for title in titles)
        titles["Demo: dead ReLUs"]()
        await wait_for(lambda: app.run_config.dataset == "moons", pilot)
        assert app.session.config.lr == 5.0 and not app.session.bugs
        steps(app, 3)
        await pilot.pause()
        assert "22 dead" in plain(app.query_one(StatusBar))


# -- snapshots ---------------------------------------------------------------------


def at_step(n: int):
    async def run_before(pilot) -> None:
        steps(pilot.app, n)
        await pilot.pause()

    return run_before


def test_snapshot_dead_relus_120x40(snap_compare) -> None:
    app = demo_app("dead-relus")
    assert snap_compare(app, terminal_size=(120, 40), run_before=at_step(5))


def test_snapshot_dead_relus_80x24(snap_compare) -> None:
    app = demo_app("dead-relus")
    assert snap_compare(app, terminal_size=(80, 24), run_before=at_step(5))


def test_snapshot_saturated_tanh_120x40(snap_compare) -> None:
    app = demo_app("saturated-tanh")
    assert snap_compare(app, terminal_size=(120, 40), run_before=at_step(5))


def test_snapshot_saturated_tanh_80x24(snap_compare) -> None:
    app = demo_app("saturated-tanh")
    assert snap_compare(app, terminal_size=(80, 24), run_before=at_step(5))
