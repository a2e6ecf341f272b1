"""The bug lab in the dashboard: gradient check on screen, bug detail view."""

from __future__ import annotations

import pytest

from engine.bugs import CATALOGUE
from tests.support.pilot import SIZE, make_app, wait_for
from tui.dashboard.screens.bug_detail import BugDetailScreen, source_of
from tui.dashboard.screens.gradcheck import GradCheckScreen


@pytest.mark.parametrize(
    ("bugs", "passes"),
    [((), True), (("overwrite-grad",), False), (("tanh-derivative",), False)],
)
async def test_g_runs_a_gradient_check(bugs, passes) -> None:
    app = make_app(bugs=bugs)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        await pilot.press("g")
        screen = app.screen
        assert isinstance(screen, GradCheckScreen)
        await wait_for(lambda: hasattr(screen, "result"), pilot)
        assert screen.result.passed is passes
        assert len(screen.result.checks) == 41
        summary = str(screen.query_one("#gradcheck-summary").render())
        assert ("PASS" if passes else "FAIL") in summary
        await pilot.press("escape")
        assert not isinstance(app.screen, GradCheckScreen)


async def test_large_net_checks_a_labelled_subset() -> None:
    app = make_app("moons", hidden=(20, 20))  # 501 parameters, 100 points: over the budget
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "g")
        screen = app.screen
        await wait_for(lambda: hasattr(screen, "result"), pilot, timeout=60)
        assert screen.result.is_subset and screen.result.total_parameters == 501
        summary = str(screen.query_one("#gradcheck-summary").render())
        assert f"at step 2: checked {len(screen.result.checks)} of 501 parameters" in summary
        assert "chosen at random" in summary and len(screen.result.checks) == 271


async def test_the_default_moons_net_is_checked_whole() -> None:
    app = make_app("moons")  # 337 parameters: every one fits the budget
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        screen = app.screen
        await wait_for(lambda: hasattr(screen, "result"), pilot, timeout=60)
        assert not screen.result.is_subset
        assert "at step 0: checked all 337 parameters" in str(
            screen.query_one("#gradcheck-summary").render()
        )


@pytest.mark.parametrize("bug", CATALOGUE, ids=lambda b: b.id)
def test_every_bug_points_at_real_engine_code(bug) -> None:
    found = source_of(bug)
    assert found is not None
    code, first, marked = found
    lines = code.splitlines()
    assert marked and all(first <= n < first + len(lines) for n in marked)
    marked_text = "\n".join(lines[n - first] for n in marked)
    assert "bugs." in marked_text


async def test_why_link_opens_the_detail_and_its_number_toggles_the_bug() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.action_bug_detail("overwrite-grad")
        await pilot.pause()
        assert isinstance(app.screen, BugDetailScreen)
        await pilot.press("1")
        assert app.session.bugs == {"overwrite-grad"}
        await pilot.press("escape")
        assert not isinstance(app.screen, BugDetailScreen)


def test_bug_detail_snapshot(snap_compare) -> None:
    async def run_before(pilot) -> None:
        pilot.app.action_bug_detail("overwrite-grad")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)
