"""Pilot tests for the data and model controls (issue 5) and the bug lab's views (issue 4).

Each setting of the run settings dialog (`c`), changed and applied, asks before it
discards a run with steps; confirming starts a new run with that setting, cancelling
keeps the run as it was. `b` swaps the decision boundary and the predictions; `t`
cycles the gradients pane through backprop, the true gradient and their difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from textual.screen import ModalScreen
from textual.widgets import Input, Select

from engine.training.session import TrainingSession
from tests.support.pilot import SIZE, SettingsApp, make_app, shown_error
from tui.cli.config import PRESETS, RunConfig
from tui.dashboard import format as fmt
from tui.dashboard.app import MicrogradApp
from tui.dashboard.screens.dialogs import ConfirmDialog
from tui.dashboard.screens.settings import RunSettingsScreen
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.dashboard.widgets.gradients import GradientsPane
from tui.dashboard.widgets.parameter_grid import ParameterGrid, matrices
from tui.dashboard.widgets.predictions import PredictionsPane

SMALL = (80, 24)  # the smallest the dashboard draws: quicker, where nothing is looked at

# Small generated 2-D data, with a bug on: settings changes must keep the bugs.
START = RunConfig(
    dataset="xor", samples=40, noise=0.1, session=PRESETS["xor"], bugs=("skip-zero-grad",)
)


@dataclass(frozen=True)
class Control:
    name: str
    edit: Callable[[RunConfig], RunConfig]  # what the dialog returns for the config it opened on


CONTROLS = [
    Control(
        "dataset",
        lambda c: replace(
            c,
            dataset="blobs",
            samples=None,
            noise=None,
            session=replace(PRESETS["blobs"], seed=c.session.seed),
        ),
    ),
    Control("samples", lambda c: replace(c, samples=24)),
    Control("noise", lambda c: replace(c, noise=0.3)),
    Control("test fraction", lambda c: replace(c, test_fraction=0.25)),
    Control("hidden sizes", lambda c: replace(c, session=replace(c.session, hidden=(3,)))),
    Control("activation", lambda c: replace(c, session=replace(c.session, activation="relu"))),
    Control("loss", lambda c: replace(c, session=replace(c.session, loss="hinge"))),
    Control("learning rate", lambda c: replace(c, session=replace(c.session, lr=0.125))),
    Control(
        "schedule",
        lambda c: replace(c, session=replace(c.session, lr_end=c.session.lr / 10, decay_steps=50)),
    ),
    Control("seed", lambda c: replace(c, session=replace(c.session, seed=7))),
]


class SettingsStandIn(ModalScreen[RunConfig | None]):
    """Stands in for RunSettingsScreen: returns at once what ``edit`` makes of the config
    it was opened on. The dialog's own mapping from fields to a RunConfig is tested
    field by field in test_settings.py; drawing it twice per control here would make
    these tests slow, and what they test is the app."""

    def __init__(self, config: RunConfig, result: RunConfig | None) -> None:
        super().__init__()
        self.result = result

    def on_mount(self) -> None:
        self.dismiss(self.result)


class SettingsDouble:
    """Puts SettingsStandIn in the app's place of the dialog; records what it opened on."""

    def __init__(self) -> None:
        self.opened_on: list[RunConfig] = []
        self.edit: Callable[[RunConfig], RunConfig | None] = lambda c: c

    def __call__(self, config: RunConfig) -> SettingsStandIn:
        self.opened_on.append(config)
        return SettingsStandIn(config, self.edit(config))

    async def change(self, pilot, edit: Callable[[RunConfig], RunConfig | None]) -> None:
        """What pressing `c`, changing a control and applying does."""
        self.edit = edit
        pilot.app.action_settings()
        await pilot.pause()


@pytest.fixture
def dialog(monkeypatch) -> SettingsDouble:
    double = SettingsDouble()
    monkeypatch.setattr("tui.dashboard.runs.RunSettingsScreen", double)
    return double


def assert_new_run(app: MicrogradApp, expected: RunConfig, where: str = "") -> None:
    """The app runs ``expected`` from its first step: its settings, data, weights and bugs."""
    session = app.session
    assert app.run_config == expected, where
    assert session.config == expected.session, where
    assert session.step_count == 0 and len(session.snapshot().history) == 0, where
    assert session.bugs == set(expected.bugs), where
    train, test = expected.load_data()
    assert [list(x) for x in session.xs] == train.xs and list(session.ys) == train.ys, where
    assert [list(x) for x in session.test_xs] == ([] if test is None else test.xs), where
    fresh = TrainingSession(expected.session, train.xs, train.ys)
    assert session.snapshot().parameters == fresh.snapshot().parameters, where
    assert not isinstance(app.screen, (ConfirmDialog, RunSettingsScreen, SettingsStandIn)), where


async def test_each_setting_asks_then_resets_and_cancelling_keeps_the_run(dialog):
    # One app goes through the controls in turn, each from the run the one before started
    # (an app per control would cost seconds each). Messages name the control.
    app = MicrogradApp(START)
    async with app.run_test(size=SMALL) as pilot:
        for control in CONTROLS:
            where = control.name
            current = app.run_config
            expected = control.edit(current)
            assert expected != current, where
            app.clear_notifications()  # toasts pile up over the loop and slow every redraw
            while app.session.step_count < 3:
                app.session.step()
            app.refresh_panes()
            session, before = app.session, app.session.snapshot()

            dialog.opened_on.clear()
            await dialog.change(pilot, control.edit)
            assert dialog.opened_on == [current], where  # opened on the run's settings
            assert isinstance(app.screen, ConfirmDialog), where
            assert "(3 steps)" in app.screen.question, where
            await pilot.press("n")
            assert app.session is session and app.run_config == current, where
            kept = session.snapshot()
            assert kept.step == 3 and kept.parameters == before.parameters, where
            assert kept.history.loss == before.history.loss, where
            assert not isinstance(app.screen, ConfirmDialog), where

            await dialog.change(pilot, control.edit)
            assert isinstance(app.screen, ConfirmDialog), where
            await pilot.press("y")
            assert app.session is not session, where
            assert_new_run(app, expected, where)
            app.action_step()  # and the new run trains
            assert app.session.step_count == 1, where
        assert app.run_config.dataset == "blobs" and app.run_config.session.seed == 7


async def test_the_dialog_opens_on_the_current_rate_and_bugs_and_cancel_keeps_the_run(dialog):
    app = MicrogradApp(START)
    async with app.run_test(size=SMALL) as pilot:
        app.session.step()
        app.action_lr(0.5)
        app.toggle_bug_by_id("overwrite-grad")
        session = app.session
        for edit in (lambda c: None, lambda c: c):  # escape; apply without a change
            await dialog.change(pilot, edit)
            assert not isinstance(app.screen, (ConfirmDialog, SettingsStandIn))
            assert app.session is session and session.step_count == 1
        opened_on = dialog.opened_on[0]
        assert opened_on.session.lr == 0.25
        assert set(opened_on.bugs) == {"skip-zero-grad", "overwrite-grad"}


# -- through the real dialog ----------------------------------------------------------------


async def change_in_dialog(pilot, field_id: str, value: str) -> None:
    """Open the settings dialog, change one field as test_settings.py does, apply."""
    app = pilot.app
    app.action_settings()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunSettingsScreen)
    widget = screen.query_one(f"#{field_id}")
    assert isinstance(widget, (Input, Select)) and not widget.disabled
    widget.value = value
    await pilot.pause()  # let a Select's change fill in what depends on it
    screen.action_apply()
    await pilot.pause()


async def test_at_step_0_the_dialogs_setting_applies_without_asking():
    app = MicrogradApp(START)
    async with app.run_test(size=SMALL) as pilot:
        session = app.session
        await change_in_dialog(pilot, "schedule", "linear")  # constant -> linear decay
        assert app.session is not session
        lr, lr_end = 0.5, 0.05  # the dialog suggests decaying to a tenth, over its 100 steps
        assert_new_run(app, replace(START, session=replace(START.session, lr=lr, lr_end=lr_end)))
        schedule = app.session.optimizer.schedule
        assert schedule.at(0) == lr and schedule.at(100) == pytest.approx(lr_end, rel=1e-12)


# -- b: boundary or predictions -----------------------------------------------------------


async def test_b_swaps_boundary_and_predictions_on_2d_data():
    app = MicrogradApp(START)
    async with app.run_test(size=SIZE) as pilot:
        boundary, predictions = app.query_one(DecisionBoundary), app.query_one(PredictionsPane)
        assert app.shows_boundary and boundary.display and not predictions.display
        await pilot.press("b")
        assert not app.shows_boundary and predictions.display and not boundary.display
        await pilot.press("b")
        assert app.shows_boundary and boundary.display and not predictions.display


async def test_b_on_the_tutorial_warns_and_changes_nothing():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        assert not app.shows_boundary
        assert app.query_one(PredictionsPane).display
        assert not app.query_one(DecisionBoundary).display
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert len(warnings) == 1 and "two features" in warnings[0].message


# -- t: the gradients pane's views -----------------------------------------------------------

VIEWS = [
    ("backprop", "Gradients · backprop"),
    ("true", "Gradients · true (what correct code computes)"),
    ("difference", "Gradients · backprop − true"),
]


def first_neuron_row(grid: ParameterGrid) -> str:
    """The rendered text of layer 1, neuron 1 (below the layer's title and header)."""
    return grid.render_line(2).text


async def test_t_cycles_the_gradient_views_and_the_title_says_which():
    app = make_app(bugs=("overwrite-grad",))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        pane, grid = app.query_one(GradientsPane), app.query_one("#gradients-grid", ParameterGrid)
        snap = app.session.snapshot()
        rows = []
        for view, title in [*VIEWS[1:], VIEWS[0]]:  # starts at backprop: true, difference, back
            await pilot.press("t")
            assert grid.view == view and pane.border_title == title
            # the numbers drawn are that view's: backprop's, the true ones, or their difference
            weights, biases = matrices(snap, view)
            values = (*weights[0][0], biases[0][0])
            row = first_neuron_row(grid)
            assert [fmt.number(v, grid.number_width) in row for v in values] == [True] * 4, row
            rows.append(row)
        assert len(set(rows)) == 3


async def test_the_norm_line_follows_the_gradient_view():
    """The true and difference views head their numbers with their own norm, not backprop's."""
    import math

    app = make_app(bugs=("overwrite-grad",))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        snap = app.session.snapshot()

        def norm(values) -> str:
            return fmt.short(math.sqrt(math.fsum(v * v for v in values)))

        def first_line() -> str:
            return str(app.query_one("#norms").render()).splitlines()[0].split()

        assert first_line()[:2] == ["|grad|", fmt.short(snap.history.grad_norm[-1])]
        await pilot.press("t")
        assert first_line()[:2] == ["|true|", norm(snap.true_gradients)]
        await pilot.press("t")
        diff = [g - t for g, t in zip(snap.gradients, snap.true_gradients)]
        assert first_line()[:2] == ["|b−t|", norm(diff)]
        assert "backprop |grad|" in " ".join(first_line())
        await pilot.press("t")
        assert first_line()[0] == "|grad|"


async def test_t_without_a_bug_says_backprop_is_the_true_gradient():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.action_step()
        await pilot.press("t")
        pane, grid = app.query_one(GradientsPane), app.query_one("#gradients-grid", ParameterGrid)
        assert pane.border_title == VIEWS[1][1]
        assert any("No bug is on" in n.message for n in app._notifications)
        assert "no bug is on" in pane.border_subtitle
        snap = app.session.snapshot()
        backprop = (*snap.weight_grads[0][0], snap.bias_grads[0][0])
        assert all(g != 0 for g in backprop)
        row = first_neuron_row(grid)
        assert all(fmt.number(g, grid.number_width) in row for g in backprop)  # true = backprop
        await pilot.press("t")
        assert pane.border_title == VIEWS[2][1]
        row = first_neuron_row(grid)  # so backprop - true is 0 everywhere
        assert row.split()[1:] == [fmt.number(0.0, grid.number_width).strip()] * 4, row


async def test_t_with_a_bug_on_but_no_step_since_says_so():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.session.step()
        app.toggle_bug_by_id("overwrite-grad")  # the gradients on show are still clean ones
        await pilot.press("t")
        subtitle = app.query_one(GradientsPane).border_subtitle
        assert "no step since the bug went on" in subtitle and "no bug is on" not in subtitle
        app.action_step()
        assert (
            "41 of 41 differ from the true gradient" in app.query_one(GradientsPane).border_subtitle
        )


def test_snapshot_gradients_difference_with_overwrite_grad(snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        for _ in range(10):
            app.session.step()
        app.refresh_panes()
        app.action_gradient_view()  # backprop -> true
        app.action_gradient_view()  # true -> difference
        await pilot.pause()

    app = make_app(bugs=("overwrite-grad",))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- the dialog blames the right field ---------------------------------------------------------


async def test_a_vanished_data_file_is_blamed_on_the_dataset_not_the_test_fraction(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n0,1,1\n1,0,-1\n0.5,0.5,1\n1,1,-1\n")
    config = RunConfig(data_path=str(path), test_fraction=0.25, session=PRESETS["xor"])
    app = SettingsApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        path.unlink()  # e.g. moved away while the run was open
        app.screen.action_apply()
        await pilot.pause()
        assert isinstance(app.screen, RunSettingsScreen)
        error = shown_error(app)
        assert error.startswith("Dataset: ") and str(path) in error
        assert app.screen.query_one("#dataset-label").has_class("-invalid")
    assert app.results == []
