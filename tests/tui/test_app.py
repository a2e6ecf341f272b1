"""Pilot tests: every binding and every toggle does what the help screen says."""

from __future__ import annotations

import math

from engine import bugs
from engine.bugs import CATALOGUE
from engine.training.records import SessionConfig
from engine.training.session import TrainingSession
from tests.support.pilot import SIZE, make_app, palette_ready, wait_for
from tui.dashboard.app import MicrogradApp
from tui.dashboard.screens.dialogs import ConfirmDialog
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.widgets.bug_toggles import BugToggle
from tui.dashboard.widgets.loss_plot import LossPlot
from tui.dashboard.widgets.parameter_grid import ParameterGrid


async def test_space_steps_and_changes_weights(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        before = app.session.snapshot()
        await pilot.press("space")
        after = app.session.snapshot()
        assert after.step == before.step + 1
        assert after.parameters != before.parameters
        assert "step 1" in str(app.query_one("#status").render())


async def test_run_then_pause_stops_the_worker(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        assert app.running
        await wait_for(lambda: app.session.step_count >= 5, pilot)
        await pilot.press("r")
        assert not app.running
        await app.workers.wait_for_complete()
        paused_at = app.session.step_count
        await pilot.pause(0.2)
        assert app.session.step_count == paused_at
        assert not [w for w in app.workers if w.group == "training" and w.is_running]


async def test_ctrl_r_restores_initial_weights_exactly(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        initial = app.session.snapshot().parameters
        for _ in range(3):
            await pilot.press("space")
        assert app.session.snapshot().parameters != initial
        await pilot.press("ctrl+r")
        snap = app.session.snapshot()
        assert snap.step == 0
        assert snap.parameters == initial
        assert len(snap.history) == 0


async def test_brackets_halve_and_double_the_learning_rate(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        lr = app.session.learning_rate
        await pilot.press("left_square_bracket")
        assert app.session.learning_rate == lr / 2
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert app.session.learning_rate == lr * 2


async def test_learning_rate_has_limits() -> None:
    app = make_app(lr=2e-6)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("left_square_bracket")
        assert app.session.learning_rate == 2e-6 / 2
        await pilot.press("left_square_bracket")  # 5e-7 is below the minimum: refused
        assert app.session.learning_rate == 2e-6 / 2


async def test_number_keys_toggle_each_bug_in_catalogue_order(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        for number, bug in enumerate(CATALOGUE, start=1):
            await pilot.press(str(number))
            assert bug.id in app.session.bugs
            toggle = app.query_one(f"#bug-{bug.id}", BugToggle)
            assert toggle.on_state and toggle.has_class("-on")
            await pilot.press(str(number))
            assert bug.id not in app.session.bugs
            assert not toggle.on_state


async def test_clicking_a_bug_toggles_it(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#bug-skip-zero-grad")
        assert app.session.bugs == {"skip-zero-grad"}


async def test_overwrite_grad_makes_next_gradients_differ_from_clean(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")  # overwrite-grad
        await pilot.press("space")
        buggy = app.session.snapshot().gradients
        clean = TrainingSession(app.session.config, app.session.xs, app.session.ys)
        clean.step()
        assert buggy != clean.snapshot().gradients
        assert any(abs(a - b) > 1e-3 for a, b in zip(buggy, clean.snapshot().gradients))


async def test_diverging_learning_rate_shows_diverged_state() -> None:
    app = make_app(activation="relu", lr=100.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(lambda: app.session.diverged_at is not None and not app.running, pilot)

        def status() -> str:
            return str(app.query_one("#status").render())

        await wait_for(lambda: "diverged at step" in status(), pilot)
        assert app.state == "diverged"
        assert f"diverged at step {app.session.diverged_at}" in status()
        steps = app.session.step_count
        await pilot.press("space")  # refused, with a message, no crash
        assert app.session.step_count == steps
        await pilot.press("ctrl+r")
        assert app.state == "paused" and app.session.step_count == 0


async def test_a_finite_blow_up_pauses_the_dashboard_naming_step_and_reason() -> None:
    """moons, mse, lr 0.78: the loss stays finite (2.4e+90 by step 300) but blows up at step 3."""
    app = make_app("moons", loss="mse", lr=0.78)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(lambda: app.session.diverged_at is not None and not app.running, pilot)
        assert app.session.diverged_at == 3 and app.state == "diverged"
        first = app.session.snapshot().history.loss[0]
        loss = app.session.snapshot().loss
        reason = (
            f"diverged at step 3: the loss {loss:.3g} is over 10^6 times step 1's ({first:.3g})"
        )

        def status() -> str:
            return str(app.query_one("#status").render())

        await wait_for(lambda: reason in status(), pilot)
        await pilot.press("r")  # refused until reset
        assert not app.running and app.session.step_count == 3


async def test_l_toggles_log_scale(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        plot = app.query_one(LossPlot)
        assert not plot.log_scale
        await pilot.press("space", "l")
        assert plot.log_scale
        await pilot.press("l")
        assert not plot.log_scale


async def test_help_opens_and_closes(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)


async def test_s_cycles_the_run_speed(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        seen = []
        for _ in range(4):
            await pilot.press("s")
            seen.append(app.speed)
        assert seen == [5.0, 1.0, None, 20.0]  # from the watchable default, 20/s


async def test_the_default_pace_is_watchable_and_full_speed_is_one_key_away(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        assert app.speed == 20.0  # r starts at 20 steps/s, not as fast as it goes
        status = str(app.query_one("#status").render())
        assert "speed 20/s" in status
        await pilot.press("f")
        assert app.speed is None
        await pilot.press("f")
        assert app.speed == 20.0


async def test_a_log_step_axis_keeps_a_long_runs_first_steps_apart(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2000):
            app.session.step()
        app.refresh_panes()
        await pilot.pause()
        plot = app.query_one(LossPlot)
        first = set(range(1, 21))
        assert not first <= set(plot.drawn_steps)  # linear: the first 20 share a column or two
        await pilot.press("x")
        assert plot.log_steps
        drawn = set(plot.drawn_steps)
        assert set(range(1, 11)) <= drawn and len(first & drawn) >= 15  # spread out, not lumped
        assert len(plot.drawn_steps) <= 2 * plot.size.width  # still about two per column
        assert plot.border_subtitle.startswith("log steps")


async def test_throttled_speed_waits_between_steps() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # One step every 1,000 s: the second step is far away, however loaded the machine.
        app.set_speed(0.001)
        await pilot.press("r")
        await wait_for(lambda: app.session.step_count >= 1, pilot)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert app.session.step_count == 1
        assert "speed 0.001/s" in str(app.query_one("#status").render())


async def test_q_quits(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        assert not app.is_running


async def test_step_while_running_is_refused_with_a_message(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        app.set_speed(1.0)
        await pilot.press("r")
        await pilot.press("space")
        assert any("press r to pause" in n.message for n in app._notifications)
        await pilot.press("r")


async def test_arrow_keys_move_the_shared_cursor(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        weights = app.query_one("#weights-grid", ParameterGrid)
        gradients = app.query_one("#gradients-grid", ParameterGrid)
        weights.focus()
        await pilot.press("right", "down")
        assert weights.cursor == (0, 1, 1)
        assert gradients.cursor == (0, 1, 1)
        detail = str(app.query_one("#weights-detail").render())
        assert "layer 1, neuron 2, from x2" in detail


async def test_command_palette_switches_dataset_after_confirming(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        app.choose_dataset("xor")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")  # cancel keeps the run
        assert app.run_config.dataset == "tutorial" and app.session.step_count == 1
        app.choose_dataset("xor")
        await pilot.pause()
        await pilot.press("y")
        assert app.run_config.dataset == "xor" and app.session.step_count == 0
        assert app.session.nin == 2


async def test_too_small_terminal_shows_a_message() -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        assert (
            app.query_one("#dashboard").display is False or not app.query_one("#dashboard").region
        )
        text = str(app.query_one("#too-small").render())
        assert "at least 80×24" in text and "60×20" in text


async def test_worker_error_is_shown_in_a_dialog_not_a_traceback(app: MicrogradApp) -> None:
    async with app.run_test(size=SIZE) as pilot:

        def broken_step():
            raise RuntimeError("boom")

        app.session.step = broken_step  # type: ignore[method-assign]
        await pilot.press("r")
        await wait_for(lambda: not app.running, pilot)
        await wait_for(lambda: bool(app.screen.query(".dialog-message")), pilot)
        assert "boom" in str(app.screen.query_one(".dialog-message").render())
        assert app.is_running


def test_same_seed_same_run_bugs_included() -> None:
    def run() -> tuple:
        session = make_app(bugs=("overwrite-grad",)).session
        for _ in range(10):
            session.step()
        return session.snapshot().history.loss

    assert run() == run()
    assert all(math.isfinite(v) for v in run())
    assert bugs.active() == frozenset()
    _ = SessionConfig


async def test_command_palette_runs_the_apps_own_commands(app: MicrogradApp) -> None:
    from textual.command import CommandPalette

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        steps = app.session.step_count
        await pilot.press(*"toggle bug", "space", *"skip")  # a space typed here is text, not a step
        assert app.session.step_count == steps
        await wait_for(lambda: palette_ready(app), pilot)
        await pilot.press("enter")
        await wait_for(lambda: app.session.bugs == {"skip-zero-grad"}, pilot)
        assert not isinstance(app.screen, CommandPalette)


def test_every_key_palette_entry_and_help_line_comes_from_the_action_table() -> None:
    """One home per key: the bindings, the palette and the help screen all read ACTIONS."""
    from textual.binding import Binding

    from tui.dashboard import actions

    table = actions.ACTIONS
    assert len({a.id for a in table}) == len({a.action for a in table}) == len(table)
    bindings = [b for b in MicrogradApp.BINDINGS if isinstance(b, Binding)]
    assert [(b.key, b.action, b.description, b.id, b.show) for b in bindings] == [
        (a.keys, a.action, a.footer, a.id, a.show) for a in table
    ]
    for a in table:
        name = a.action.split("(")[0]
        assert callable(getattr(MicrogradApp, f"action_{name}", None)), a.id
    for title, action, what in actions.palette_entries():
        row = next(a for a in table if a.action == action)
        assert title == row.palette and what.endswith(f"({actions.key_label(row.keys)})")
    rows = actions.help_rows()
    assert len(rows) == len(table) + len(actions.WIDGET_KEYS)
    assert {text for _, text in rows} >= {a.help for a in table}
    assert rows[-1] == ("q", "Quit")
