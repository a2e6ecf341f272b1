"""Diagnose it in the dashboard: a round hides its case, the answer sheet, the reveal, the score."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from engine import bugs
from tests.support.pilot import SIZE, wait_for
from tui.cli.quiz import NO_BUG, Game, Round, rounds
from tui.dashboard.app import MicrogradApp
from tui.dashboard.quiz import QuizRoom
from tui.dashboard.screens.graph import GraphScreen
from tui.dashboard.screens.quiz import RevealScreen, SummaryScreen
from tui.dashboard.widgets.bug_toggles import BugToggles


@pytest.fixture(autouse=True)
def still_clock(monkeypatch):
    """The round clock reads 0:07 however long a test takes (no wall-clock in tests)."""
    monkeypatch.setattr(QuizRoom, "clock", staticmethod(lambda: 7.0))


def quiz_app(*chosen: Round) -> MicrogradApp:
    game = Game(chosen)
    return MicrogradApp(game.current.run_config(), quiz=(game, 0))


def screen_text(app) -> str:
    """Every word the dashboard shows, the bug list apart (the answer sheet names them all)."""
    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Static) and not widget.has_class("bug-toggle"):
            parts.append(str(widget.render()))
        parts += [str(widget.border_title or ""), str(widget.border_subtitle or "")]
    parts.append(app.sub_title)
    parts += [n.message for n in app._notifications]
    return "\n".join(parts)


@pytest.mark.parametrize("case", [bugs.SKIP_ZERO_GRAD, bugs.TANH_DERIVATIVE, NO_BUG])
async def test_an_open_round_never_shows_its_bug(case):
    app = quiz_app(Round(1, "tutorial", case))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "space", "t", "h")  # true grad, the hint
        assert app.session.bugs == (set() if case == NO_BUG else {case})
        toggles = app.query_one(BugToggles)
        assert not any(t.on_state for t in toggles.query("BugToggle"))
        text = screen_text(app)
        for bug in bugs.CATALOGUE:
            assert bug.id not in text and bug.title not in text
        assert "a correct run of the same model" in app.query_one("#loss").border_title
        assert "round 1 of 1" in str(app.query_one("#symptom").render())
        await pilot.press("v")  # the hidden engine's graph, unnamed
        await wait_for(lambda: isinstance(app.screen, GraphScreen), pilot)
        await pilot.pause()
        graph_words = str(app.screen.query_one("#graph-title").render())
        graph_words += str(app.screen.query_one("#graph-panel").render())
        assert all(bug.id not in graph_words for bug in bugs.CATALOGUE)
        assert "the round's, hidden" in graph_words
        await pilot.press("escape")


async def test_a_round_answered_right_then_one_wrong_then_the_score():
    app = quiz_app(
        Round(1, "tutorial", bugs.FORWARD_ORDER_BACKWARD), Round(2, "moons", bugs.SKIP_ZERO_GRAD)
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")  # nothing chosen yet: it says so
        assert "Choose first" in list(app._notifications)[-1].message
        await pilot.press("ctrl+s")  # the file would hold the answer
        assert "after you answer this round" in list(app._notifications)[-1].message
        await pilot.press("space", "g")
        await wait_for(lambda: hasattr(app.screen, "result"), pilot)
        assert not app.screen.result.passed  # the gradient check gives it away
        await pilot.press("escape", "6", "a")
        await wait_for(lambda: isinstance(app.screen, RevealScreen), pilot)
        reveal = str(app.screen.query_one(".dialog-message").render())
        assert "RIGHT" in reveal and "forward-order-backward" in reveal
        assert "What gave it away: The gradient check (g) fails" in reveal
        assert "In this run's numbers: symptom backprop says 0 for every parameter" in reveal
        await pilot.press("n")
        await wait_for(lambda: app.run_config.dataset == "moons", pilot)
        assert app.session.bugs == {bugs.SKIP_ZERO_GRAD} and app.session.step_count == 0
        await pilot.press("space", "space", "0", "a")  # "no bug": wrong
        await wait_for(lambda: isinstance(app.screen, RevealScreen), pilot)
        reveal = str(app.screen.query_one(".dialog-message").render())
        assert "NOT QUITE" in reveal and "you answered no bug" in reveal
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, SummaryScreen), pilot)
        summary = str(app.screen.query_one(".dialog-message").render())
        assert "score 1/2" in summary
        assert "round 2 (moons): skip-zero-grad, answered no-bug, missed, 2 steps" in summary
        assert "Demo bug: skip-zero-grad" in summary
        await pilot.press("escape")
        await wait_for(lambda: app.quiz is None, pilot)
        assert app.query_one(BugToggles).border_title == "Bugs"  # every bug shown again


async def test_the_app_plays_the_rounds_the_answer_key_names(capsys):
    from tui.main import main

    assert main(["quiz", "--seed", "5", "--rounds", "3", "--answers"]) == 0
    key = capsys.readouterr().out.splitlines()
    game = Game(rounds(5, 3))
    app = MicrogradApp(game.current.run_config(), quiz=(game, 5))
    played = []
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            played.append(
                f"round {len(played) + 1}: {app.run_config.dataset}, "
                f"{next(iter(app.session.bugs), NO_BUG)}"
            )
            await pilot.press("0", "a")
            await wait_for(lambda: isinstance(app.screen, RevealScreen), pilot)
            await pilot.press("n")
            await wait_for(lambda: not isinstance(app.screen, RevealScreen), pilot)
    assert played == key


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_snapshot_an_open_round(snap_compare, size):
    async def run_before(pilot) -> None:
        await pilot.press("space", "space", "space", "4")

    app = quiz_app(Round(1, "tutorial", bugs.GRADIENT_ASCENT))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_snapshot_a_revealed_round(snap_compare, size):
    async def run_before(pilot) -> None:
        await pilot.press("space", "space", "space", "4", "a")
        await wait_for(lambda: isinstance(pilot.app.screen, RevealScreen), pilot)

    app = quiz_app(Round(1, "tutorial", bugs.GRADIENT_ASCENT))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_a_click_on_a_row_chooses_and_the_answer_button_answers():
    app = quiz_app(Round(1, "tutorial", bugs.GRADIENT_ASCENT))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#bug-gradient-ascent")
        assert app.quiz.answer == bugs.GRADIENT_ASCENT
        line = app.query_one("#symptom")
        text = str(line.render())
        await pilot.click("#symptom", offset=(text.index(" answer ") + 2, 0))
        await wait_for(lambda: isinstance(app.screen, RevealScreen), pilot)
        assert "RIGHT" in str(app.screen.query_one(".dialog-message").render())
