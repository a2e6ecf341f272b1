"""The decision-boundary pane: colours follow the model's sign, the same net draws the same."""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import cache

import pytest
from rich.color import Color
from textual.app import App, ComposeResult

from engine.inspect.inference import PlainMLP, grid
from engine.training.records import Snapshot
from tui.cli.config import PRESETS, RunConfig
from tui.dashboard import format as fmt
from tui.dashboard import pacing
from tui.dashboard.widgets import boundary
from tui.dashboard.widgets.boundary import (
    TEST_GLYPH,
    TRAIN_GLYPH,
    UPPER_HALF,
    DecisionBoundary,
    Plane,
    heat_map_lines,
)

PANE = (42, 14)  # the widget's outer size: 40 x 12 cells inside the border, 40 x 24 pixels


@cache
def trained(dataset: str = "moons", steps: int = 100, test_fraction: float = 0.2):
    """A fixed run: the dataset's preset, seed 0, ``steps`` updates; snapshot and test points."""
    config = RunConfig(dataset=dataset, session=PRESETS[dataset], test_fraction=test_fraction)
    session = config.build_session()
    for _ in range(steps):
        session.step()
    _train, test = config.load_data()
    test_points = tuple(zip(test.xs, test.ys)) if test else None
    return session.snapshot(), test_points


class BoundaryApp(App[None]):
    """Just the pane, showing one snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        yield DecisionBoundary()

    def on_mount(self) -> None:
        self.query_one(DecisionBoundary).show(self.snapshot)  # its test points included


def is_positive_colour(colour: Color) -> bool:
    """Blue (the positive sign colour) has more blue than red; orange the reverse."""
    r, _g, b = colour.get_truecolor()
    assert r != b, f"neither blue nor orange: {colour}"
    return b > r


async def rendered(app: BoundaryApp) -> tuple[DecisionBoundary, list]:
    async with app.run_test(size=PANE) as pilot:
        await pilot.pause()
        pane = app.query_one(DecisionBoundary)
        height = pane.content_size.height
        lines = [list(pane.render_line(y)) for y in range(height)]
        return pane, lines


# -- colours -----------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["moons", "xor", "circles"])
async def test_every_pixel_has_the_sign_colour_of_the_output_at_its_centre(dataset):
    snapshot, _ = trained(dataset, steps=30)
    pane, lines = await rendered(BoundaryApp(snapshot))
    net = PlainMLP.from_snapshot(snapshot)
    plane = pane.plane
    assert plane is not None and (plane.columns, plane.rows) == (40, 24)
    signs = set()
    checked = 0
    for line, segments in enumerate(lines):
        assert len(segments) == plane.columns
        for column, segment in enumerate(segments):
            if segment.text != UPPER_HALF:
                assert segment.text in (TRAIN_GLYPH, TEST_GLYPH)
                continue
            upper = net(plane.centre(column, 2 * line))
            lower = net(plane.centre(column, 2 * line + 1))
            assert is_positive_colour(segment.style.color) == (upper >= 0), (line, column, upper)
            assert is_positive_colour(segment.style.bgcolor) == (lower >= 0), (line, column, lower)
            signs |= {upper >= 0, lower >= 0}
            checked += 1
    assert signs == {True, False}, "a trained net should show both classes"
    assert checked > 0.5 * plane.columns * plane.rows // 2  # the rest hold points


def test_brighter_where_the_output_is_larger():
    def brightness(value: float) -> int:
        return sum(Color.parse(boundary.pixel_colour(value)).get_truecolor())

    assert brightness(0.0) < brightness(0.5) < brightness(1.0) == brightness(5.0)
    assert brightness(-0.01) < brightness(-1.0)
    assert boundary.pixel_colour(float("nan")) == boundary.NAN_COLOUR


async def test_points_are_drawn_in_their_class_colours_where_they_lie():
    snapshot, test_points = trained("moons", steps=30)
    pane, lines = await rendered(BoundaryApp(snapshot))
    plane = pane.plane
    seen = {TRAIN_GLYPH: 0, TEST_GLYPH: 0}
    train = list(zip(snapshot.inputs, snapshot.targets))
    for glyph, points in ((TRAIN_GLYPH, train), (TEST_GLYPH, test_points)):
        for (x, y), label in points:
            column, row = plane.pixel_of(x, y)
            segment = lines[row // 2][column]
            if segment.text != glyph:  # another point took the cell
                continue
            seen[glyph] += 1
            assert is_positive_colour(segment.style.color) == (label > 0)
    assert seen[TRAIN_GLYPH] > 20 and seen[TEST_GLYPH] > 5


# -- the same net draws the same -----------------------------------------------------


def test_the_same_net_and_size_draw_the_same_segments():
    snapshot, test_points = trained("moons")
    net = PlainMLP.from_snapshot(snapshot)
    plane = Plane.around(snapshot.inputs, 60, 40)
    train = [(x, y, label) for (x, y), label in zip(snapshot.inputs, snapshot.targets)]
    test = [(x, y, label) for (x, y), label in test_points]
    first = heat_map_lines(grid(net, plane.x_range, plane.y_range, 60, 40), plane, train, test)
    again = heat_map_lines(grid(net, plane.x_range, plane.y_range, 60, 40), plane, train, test)
    assert first == again


def test_snapshot_moons_after_100_steps(snap_compare):
    snapshot, _ = trained("moons", steps=100)
    assert snap_compare(BoundaryApp(snapshot), terminal_size=(62, 22))


# -- the plane ----------------------------------------------------------------------------


def test_plane_holds_every_point_with_a_margin_and_one_scale():
    points = [(-1.0, 0.0), (2.0, 0.5), (0.0, -0.5)]
    plane = Plane.around(points, 60, 40)
    (x0, x1), (y0, y1) = plane.x_range, plane.y_range
    assert x0 < -1.0 and x1 > 2.0 and y0 < -0.5 and y1 > 0.5
    assert (x1 - x0) / 60 == pytest.approx((y1 - y0) / 40)  # square pixels
    for x, y in points:
        column, row = plane.pixel_of(x, y)
        cx, cy = plane.centre(column, row)
        assert abs(cx - x) <= (x1 - x0) / 60 / 2 + 1e-12
        assert abs(cy - y) <= (y1 - y0) / 40 / 2 + 1e-12
    assert plane.pixel_of(x1 + 1, 0.0) is None


def test_plane_of_a_single_point_is_not_empty():
    plane = Plane.around([(3.0, 3.0)], 10, 10)
    assert plane.x_range[0] < 3.0 < plane.x_range[1]
    assert plane.y_range[0] < 3.0 < plane.y_range[1]


# -- when the grid is evaluated --------------------------------------------------------------


@pytest.fixture
def grid_calls(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = boundary.grid

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(boundary, "grid", counting)
    return calls


async def test_grid_is_evaluated_once_per_step_and_size(grid_calls, monkeypatch):
    monkeypatch.setattr(pacing, "GRID_MAX_INTERVAL", 0.0)  # no throttling: every step draws
    config = RunConfig(dataset="blobs", session=PRESETS["blobs"])
    session = config.build_session()
    app = BoundaryApp(session.snapshot())
    async with app.run_test(size=PANE) as pilot:
        pane = app.query_one(DecisionBoundary)
        await pilot.pause()
        assert len(grid_calls) == 1
        pane.show(session.snapshot())  # the same step again (e.g. a bug toggled)
        await pilot.pause()
        assert len(grid_calls) == 1
        session.step()
        pane.show(session.snapshot())
        await pilot.pause()
        await app.workers.wait_for_complete()  # the step-1 grid is evaluated in a thread
        await pilot.pause()
        assert len(grid_calls) == 2
        assert not pane.is_behind
        assert "step 1" in str(pane.border_subtitle)
        await pilot.resize_terminal(50, 14)
        await pilot.pause()
        assert len(grid_calls) == 3
        assert pane.plane.columns == 48


async def test_while_snapshots_pour_in_the_newest_is_drawn_later_not_every_one(
    grid_calls, monkeypatch
):
    monkeypatch.setattr(pacing, "GRID_SHARE", 1e-9)  # as if a grid took very long
    monkeypatch.setattr(pacing, "GRID_MAX_INTERVAL", 3600.0)
    config = RunConfig(dataset="blobs", session=PRESETS["blobs"])
    session = config.build_session()
    app = BoundaryApp(session.snapshot())
    async with app.run_test(size=PANE) as pilot:
        pane = app.query_one(DecisionBoundary)
        await pilot.pause()
        for _ in range(5):
            session.step()
            pane.show(session.snapshot())
            await pilot.pause()
        assert len(grid_calls) == 1  # throttled: the step-0 grid is still shown
        assert pane.is_behind
        assert "step 0" in str(pane.border_subtitle)
        session.step()
        pane.show(session.snapshot())
        session.reset()  # a reset is drawn at once: back to the step-0 grid, no new one
        pane.show(session.snapshot())
        await pilot.pause()
        assert not pane.is_behind  # nothing left waiting
        assert len(grid_calls) == 1
        other = RunConfig(dataset="blobs", session=replace(PRESETS["blobs"], seed=1))
        pane.show(other.build_session().snapshot())  # so is a new run
        await pilot.pause()
        assert len(grid_calls) == 2


async def test_while_a_thread_evaluates_the_next_grid_the_last_one_stays_up(monkeypatch):
    monkeypatch.setattr(pacing, "GRID_MAX_INTERVAL", 0.0)
    release = threading.Event()
    real = boundary._evaluate

    def held_in_threads(wanted):
        if threading.current_thread() is not threading.main_thread():
            assert release.wait(10), "the test never released the worker"
        return real(wanted)

    monkeypatch.setattr(boundary, "_evaluate", held_in_threads)
    session = RunConfig(dataset="blobs", session=PRESETS["blobs"]).build_session()
    app = BoundaryApp(session.snapshot())
    async with app.run_test(size=PANE) as pilot:
        pane = app.query_one(DecisionBoundary)
        await pilot.pause()  # the first picture: evaluated at once, on the main thread
        before = [list(pane.render_line(y)) for y in range(3)]
        for _ in range(20):
            session.step()
        pane.show(session.snapshot())
        await pilot.pause()
        assert pane.is_behind
        assert "step 0" in str(pane.border_subtitle)
        assert [list(pane.render_line(y)) for y in range(3)] == before
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not pane.is_behind
        assert "step 20" in str(pane.border_subtitle)
        assert [list(pane.render_line(y)) for y in range(3)] != before


def test_data_that_is_not_2d_is_refused_naming_its_features():
    snapshot, _ = trained("tutorial", steps=0, test_fraction=0.0)
    with pytest.raises(ValueError, match="needs data with 2 features, not 3"):
        DecisionBoundary().show(snapshot)


def test_pixel_colours_come_from_the_shared_sign_colours():
    assert is_positive_colour(Color.parse(boundary.pixel_colour(0.3)))
    assert not is_positive_colour(Color.parse(boundary.pixel_colour(-0.3)))
    assert boundary.pixel_colour(1.0) == fmt.blend(fmt.POSITIVE, boundary.HEAT)
