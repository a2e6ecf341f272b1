"""Each bug's demo shows what its sentence says, within its 30 steps, and its own symptom."""

from __future__ import annotations

import itertools

import pytest

from engine import bugs
from engine.nn import parameter_names
from engine.symptoms import norm, symptom
from tui.demos import DEMO_STEPS, DEMOS


def run(bug_id: str, steps: int = DEMO_STEPS):
    """The demo's session after ``steps``: each step's loss, the twin's, and the snapshots."""
    session = DEMOS[bug_id].run_config().build_session()
    losses, twins, snaps = [], [], []
    for _ in range(steps):
        result = session.step()
        assert not result.diverged, session.diverged_reason
        losses.append(result.loss)
        twins.append(session.twin_loss)
        snaps.append(session.snapshot())
    return losses, twins, snaps


def line(snap) -> str:
    return symptom(snap.trace, parameter_names(snap.layer_sizes))


def test_every_bug_has_a_demo_with_its_bug_on() -> None:
    assert set(DEMOS) == set(bugs.BUGS)
    for bug_id, demo in DEMOS.items():
        assert demo.run_config().bugs == (bug_id,)
        assert demo.run_config().session.seed == 0


@pytest.mark.parametrize("bug_id", list(bugs.BUGS))
def test_the_clean_twin_falls_in_every_demo(bug_id) -> None:
    losses, twins, _ = run(bug_id)
    if DEMOS[bug_id].dataset == "tutorial":
        assert twins[-1] < 0.03  # "the clean twin's falls below 0.03 within 30 steps"
        assert losses[-1] > 50 * twins[-1]


def test_overwrite_grad_demo() -> None:
    losses, _, snaps = run(bugs.OVERWRITE_GRAD)
    assert all(4.0 < loss < 4.3 for loss in losses[9:])  # stalls near 4.2
    text = line(snaps[-1])
    assert text.startswith("backprop |grad| 0.0972 vs true 9.2: only 1% of the true size")


def test_skip_zero_grad_demo() -> None:
    losses, twins, snaps = run(bugs.SKIP_ZERO_GRAD)
    assert max(losses[:5]) > 10  # "jumps above 10 by step 5"
    assert losses[-1] > 10 * twins[-1]  # "still over 10x the clean twin's at step 30"
    trace = snaps[-1].trace
    assert norm(trace.leftover) > 10 * norm(trace.true)
    assert line(snaps[-1]).startswith("the update applied |grad| 17.5, the true gradient is 0.273")


def test_skip_zero_grad_helps_on_the_tutorial_data() -> None:
    """The bug's own words: on the tutorial data the momentum happens to help."""
    from tui.config import PRESETS, RunConfig

    session = RunConfig(session=PRESETS["tutorial"], bugs=(bugs.SKIP_ZERO_GRAD,)).build_session()
    results = [session.step() for _ in range(100)]
    assert results[29].loss < session.twin_loss  # below the clean twin's
    grads = [r.grad_norm for r in results]
    assert 16 < grads[9] and max(grads[9:]) < 16.6  # levels off near 16.5: no growth
    assert results[-1].weight_norm > 20 * results[0].weight_norm  # the weights do keep growing


def test_zero_grad_after_backward_demo() -> None:
    losses, _, snaps = run(bugs.ZERO_GRAD_AFTER_BACKWARD)
    assert set(losses) == {losses[0]} and f"{losses[0]:.3g}" == "7.73"
    assert not any(snaps[-1].gradients)
    text = line(snaps[-1])
    assert text == (
        "backward() found the true gradient (|grad| 2.58), but the update applied 0: "
        ".grad was zeroed in between"
    )


def test_gradient_ascent_demo() -> None:
    losses, _, snaps = run(bugs.GRADIENT_ASCENT)
    assert f"{losses[0]:.3g}" == "7.73" and 15.8 < losses[-1] < 16  # near the ceiling of 16
    assert snaps[-1].accuracy == 0
    assert line(snaps[-1]).startswith("backprop is the true gradient, but the update moved")


def test_tanh_derivative_demo() -> None:
    losses, twins, snaps = run(bugs.TANH_DERIVATIVE)
    first = snaps[0].trace
    assert norm(first.backprop) > 50 * norm(first.true)  # "over 50x at step 1"
    rises = [b / a for a, b in itertools.pairwise(losses) if b > a]
    assert len(rises) >= 4 and max(rises) > 2  # lurches up and down (2.56 -> 7.14 ...)
    assert all(b < a for a, b in itertools.pairwise(twins))  # while the twin falls smoothly
    assert line(snaps[0]).startswith("backprop |grad| 143 vs true 2.58: 55.5× the true size")


def test_forward_order_backward_demo() -> None:
    losses, _, snaps = run(bugs.FORWARD_ORDER_BACKWARD)
    assert set(losses) == {losses[0]} and f"{losses[0]:.3g}" == "7.73"
    assert not any(snaps[-1].trace.backprop)  # 0 straight out of backward()
    assert line(snaps[-1]).startswith("backprop says 0 for every parameter; the true gradient")


def test_every_demo_has_its_own_symptom_line() -> None:
    """The two 'all gradients 0' bugs, and every other, read differently."""
    lines = {bug_id: line(run(bug_id, 3)[2][-1]) for bug_id in bugs.BUGS}
    kinds = {text.split(":")[0].split(" (")[0][:25] for text in lines.values()}
    assert len(kinds) == len(lines), lines


def test_a_bug_that_does_nothing_to_this_net_shows_no_symptom() -> None:
    from tui.config import PRESETS, RunConfig

    config = RunConfig(dataset="moons", session=PRESETS["moons"], bugs=(bugs.TANH_DERIVATIVE,))
    session = config.build_session()  # relu: no tanh anywhere
    for _ in range(3):
        session.step()
    assert line(session.snapshot()).startswith("no symptom in this step")
