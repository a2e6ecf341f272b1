"""Bug demos in the dashboard: from the palette and the "why?" screen, with a symptom line."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.command import CommandList, CommandPalette

from engine import bugs
from tests.support.pilot import make_app, palette_ready, wait_for
from tui.cli.demos import DEMOS
from tui.dashboard.screens.bug_detail import BugDetailScreen
from tui.dashboard.widgets.bug_toggles import BugToggle
from tui.dashboard.widgets.symptom import SymptomLine

SIZE = (120, 40)


def text_of(static) -> str:
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(static.content)
    return " ".join(console.export_text().split())


def symptom_of(app) -> str:
    line = app.query_one(SymptomLine)
    return str(line.render()) if line.display else ""


async def test_no_symptom_line_while_no_bug_is_on() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.session.step()
        app.refresh_panes()
        await pilot.pause()
        assert not app.query_one(SymptomLine).display
        await pilot.press("3")
        assert symptom_of(app).startswith("symptom take a step with the bug on")


# Each demo's symptom line after 3 steps: different for every bug, from its numbers.
EXPECTED = {
    bugs.OVERWRITE_GRAD: "symptom backprop |grad| ",
    bugs.SKIP_ZERO_GRAD: "symptom the update applied |grad| ",
    bugs.ZERO_GRAD_AFTER_BACKWARD: "symptom backward() found the true gradient (|grad| 2.58), "
    "but the update applied 0",
    bugs.GRADIENT_ASCENT: "symptom backprop is the true gradient, but the update moved",
    bugs.TANH_DERIVATIVE: "symptom backprop |grad| ",
    bugs.FORWARD_ORDER_BACKWARD: "symptom backprop says 0 for every parameter",
}


@pytest.mark.parametrize("bug_id", list(bugs.BUGS))
async def test_the_why_screen_loads_the_demo_with_its_twin_and_symptom(bug_id) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.session.step()  # a run with steps: loading the demo asks first
        app.action_bug_detail(bug_id)
        await pilot.pause()
        assert DEMOS[bug_id].why in text_of(app.screen.query_one("#bug-detail-body"))
        await pilot.press("d")
        await wait_for(lambda: not isinstance(app.screen, BugDetailScreen), pilot)
        await pilot.press("enter")  # "Discard and switch"
        await wait_for(lambda: app.session.bugs == {bug_id}, pilot)
        assert app.run_config.dataset == DEMOS[bug_id].dataset
        assert app.session.step_count == 0
        for _ in range(3):
            await pilot.press("space")
        assert app.session.twin_loss is not None
        assert symptom_of(app).startswith(EXPECTED[bug_id]), symptom_of(app)


async def test_every_demo_shows_a_different_symptom_line() -> None:
    app = make_app()
    lines = set()
    async with app.run_test(size=SIZE) as pilot:
        for bug_id in bugs.BUGS:
            app.session.reset()  # at step 0 the demo loads without asking
            app.action_demo(bug_id)
            await pilot.pause()
            for _ in range(3):
                app.session.step()
            app.refresh_panes()
            await pilot.pause()
            lines.add(symptom_of(app).split(":")[0].split(" vs ")[0][:40])
    assert len(lines) == 6 or len({line[:30] for line in lines}) >= 5, lines


async def test_the_palette_loads_a_demo_and_finds_explanations_by_why() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"why")
        await wait_for(lambda: palette_ready(app), pilot)
        prompts = [
            str(app.screen.query_one(CommandList).get_option_at_index(i).prompt)
            for i in range(app.screen.query_one(CommandList).option_count)
        ]
        assert sum("Explain bug" in p for p in prompts) == 6, prompts
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, CommandPalette), pilot)

        await pilot.press("ctrl+p")
        await pilot.press(*"demo bug skip")
        await wait_for(lambda: palette_ready(app), pilot)
        await pilot.press("enter")
        await wait_for(lambda: app.session.bugs == {bugs.SKIP_ZERO_GRAD}, pilot)
        assert app.run_config.dataset == "moons"


async def test_enter_on_a_focused_bug_switches_it_and_digits_in_its_why_screen() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        toggle = app.query_one("#bug-forward-order-backward", BugToggle)
        toggle.focus()
        await pilot.press("enter")
        assert app.session.bugs == {bugs.FORWARD_ORDER_BACKWARD}
        await pilot.press("w")
        await wait_for(lambda: isinstance(app.screen, BugDetailScreen), pilot)
        await pilot.press("t")  # t is the true gradient elsewhere: not a bug switch here
        assert app.session.bugs == {bugs.FORWARD_ORDER_BACKWARD}
        await pilot.press("6")  # its own number switches it, as on the dashboard
        assert app.session.bugs == set()
        assert "Walk the graph forwards in backward() off" in text_of(
            app.screen.query_one("#bug-detail-body")
        )
