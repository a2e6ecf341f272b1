"""Diagnose it, headless: the rounds a seed chooses, the answer key, and the pool's proof."""

from __future__ import annotations

import pytest

from engine import bugs
from engine.training.presets import PRESETS
from engine.training.symptoms import symptom
from tui.cli.config import RunConfig
from tui.cli.quiz import CASES, NO_BUG, POOL, Round, answer_key, rounds
from tui.main import main

STEPS = 100  # the pool holds only cases whose harm shows within this many steps
TWIN_GAP = 0.2  # the loss differs from the clean twin's by this share of it


def test_the_same_seed_gives_the_same_rounds_and_another_seed_others():
    assert rounds(7) == rounds(7)
    assert rounds(7) != rounds(8)
    assert len(rounds(7, 11)) == 11
    assert rounds(7, 11)[:6] == rounds(7)  # more rounds extend, never reshuffle


def test_every_case_is_drawn_and_about_equally_often():
    drawn = [r.case for seed in range(200) for r in rounds(seed)]
    counts = {case: drawn.count(case) for case in CASES}
    # 1200 draws of 7 cases: about 171 each; a fair draw stays well inside 120-230.
    assert all(120 < n < 230 for n in counts.values()), counts
    assert all(r.preset in POOL[r.case] for seed in range(200) for r in rounds(seed))


def test_answers_prints_one_line_per_round(capsys):
    assert main(["quiz", "--seed", "3", "--rounds", "4", "--answers"]) == 0
    out = capsys.readouterr().out
    chosen = rounds(3, 4)
    assert out == answer_key(chosen)
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0] == f"round 1: {chosen[0].preset}, {chosen[0].case}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rounds", "0"], "--rounds: must be >= 1, got 0"),
        (["--rounds", "x"], "--rounds: expected a whole number, got 'x'"),
        (["--rounds", "51"], "--rounds: must be <= 50, got 51"),
        (["--seed", "-1"], "--seed: must be >= 0, got -1"),
        (["--answers", "yes"], "unrecognized arguments: yes"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(["quiz", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_round_is_an_ordinary_run_of_its_preset():
    config = Round(1, "xor", bugs.GRADIENT_ASCENT).run_config()
    assert config == RunConfig(dataset="xor", session=PRESETS["xor"], bugs=("gradient-ascent",))
    assert Round(2, "moons", NO_BUG).run_config().bugs == ()


def _separated_at(preset: str, case: str) -> int | None:
    """The first step at which a pane can tell this run from a clean one, or None."""
    session = Round(1, preset, case).run_config().build_session()
    if not session.passes.gradcheck(max_parameters=20).passed:
        return 0  # g fails before any step
    names = [str(i) for i in range(len(session.model.parameters()))]
    for _ in range(STEPS):
        result = session.step()
        trace = session.snapshot().trace
        if trace is not None and not symptom(trace, names).startswith("no symptom"):
            return result.step
        twin = session.twin_loss
        if twin is not None and abs(result.loss - twin) > TWIN_GAP * max(abs(twin), 1e-9):
            return result.step
        if result.diverged:
            return result.step
    return None


@pytest.mark.parametrize(
    ("preset", "case"),
    [(p, c) for c in CASES if c != NO_BUG for p in POOL[c]],
)
def test_every_hidden_bug_in_the_pool_shows_within_100_steps(preset, case):
    assert _separated_at(preset, case) is not None


def test_a_harmless_pair_is_left_out_of_the_pool():
    # tanh's derivative in moons' relu net changes nothing: no pane could show it.
    assert _separated_at("moons", bugs.TANH_DERIVATIVE) is None
    assert "moons" not in POOL[bugs.TANH_DERIVATIVE]


@pytest.mark.parametrize("preset", POOL[NO_BUG])
def test_a_no_bug_round_is_clean_by_the_same_measures(preset):
    session = Round(1, preset, NO_BUG).run_config().build_session()
    assert session.passes.gradcheck(max_parameters=20).passed
    first = session.step().loss
    for _ in range(STEPS - 1):
        last = session.step()
    assert not last.diverged and last.loss < first
    assert session.passes.gradcheck(max_parameters=20).passed
    # Its twin would be itself: the same run built afresh gives the same losses.
    again = Round(1, preset, NO_BUG).run_config().build_session()
    assert [again.step().loss for _ in range(STEPS)][-1] == last.loss


def test_a_game_scores_each_answer_and_sums_them_up():
    from tui.cli.quiz import Game

    chosen = (Round(1, "xor", bugs.GRADIENT_ASCENT), Round(2, "moons", NO_BUG))
    game = Game(chosen)
    assert game.current == chosen[0]
    assert game.answer(bugs.GRADIENT_ASCENT, steps=12, seconds=30.4).right
    assert not game.answer(bugs.SKIP_ZERO_GRAD, steps=40, seconds=61, used_twin=True).right
    assert game.current is None and game.score == 1
    assert game.summary().splitlines() == [
        "score 1/2 (1 with the clean twin's hint)",
        "round 1 (xor): gradient-ascent, answered gradient-ascent, right, 12 steps, 30 s",
        "round 2 (moons): no-bug, answered skip-zero-grad, missed, 40 steps, 61 s",
    ]
    with pytest.raises(ValueError, match="every round is answered already"):
        game.answer(NO_BUG, 0, 0)
    with pytest.raises(ValueError, match="unknown answer 'nope'"):
        Game(chosen).answer("nope", 0, 0)


@pytest.mark.parametrize(
    ("preset", "case"),
    [(p, c) for c in CASES for p in POOL[c]],
)
def test_the_pane_that_gives_a_case_away_says_what_g_does_there(preset, case):
    from tui.cli.quiz import GAVE_AWAY, GRADCHECK_FAILS

    session = Round(1, preset, case).run_config().build_session()
    fails = not session.passes.gradcheck(max_parameters=20).passed
    assert fails == (case in GRADCHECK_FAILS)
    assert ("(g) fails" in GAVE_AWAY[case]) == fails
    if case == bugs.ZERO_GRAD_AFTER_BACKWARD or case == bugs.FORWARD_ORDER_BACKWARD:
        session.step()
        assert not any(session.snapshot().gradients)  # "0 everywhere"
