"""Each bug's demo shows what its sentence says, within its 30 steps, and its own symptom."""

from __future__ import annotations

import itertools

import pytest

from engine import bugs
from engine.nn import parameter_names
from engine.training.symptoms import norm, symptom
from tui.cli.config import PRESETS, RunConfig
from tui.cli.demos import DEMO_STEPS, DEMOS, HEALTH_DEMO_STEPS, HEALTH_DEMOS


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
    from tui.cli.config import PRESETS, RunConfig

    session = RunConfig(session=PRESETS["tutorial"], bugs=(bugs.SKIP_ZERO_GRAD,)).build_session()
    results, twins = [], []
    for _ in range(100):
        results.append(session.step())
        twins.append(session.twin_loss)
    assert all(r.loss < twin for r, twin in zip(results[2:], twins[2:]))  # from step 3
    assert results[73].loss == 0.0  # exactly 0 by step 74
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
    from tui.cli.config import PRESETS, RunConfig

    config = RunConfig(dataset="moons", session=PRESETS["moons"], bugs=(bugs.TANH_DERIVATIVE,))
    session = config.build_session()  # relu: no tanh anywhere
    for _ in range(3):
        session.step()
    assert line(session.snapshot()).startswith("no symptom in this step")


def test_the_catalogue_numbers_are_the_runs() -> None:
    """Every number the bug list, help and "why?" screens quote, measured on its run."""
    from engine.training.presets import PRESETS
    from tui.cli.config import RunConfig

    def session(bug_id, dataset="tutorial"):
        config = RunConfig(dataset=dataset, session=PRESETS[dataset], bugs=(bug_id,))
        return config.build_session()

    # overwrite-grad: 53% of the true size at step 1, 1% by step 30, stalls near 4.2
    run_ = session(bugs.OVERWRITE_GRAD)
    shares = []
    for _ in range(30):
        run_.step()
        trace = run_.snapshot().trace
        shares.append(norm(trace.backprop) / norm(trace.true))
    assert f"{shares[0]:.0%}" == "53%" and f"{shares[-1]:.0%}" == "1%"
    assert (
        "53% of the true size at step 1 and 1% by step 30"
        in bugs.BUGS[bugs.OVERWRITE_GRAD].look_for
    )

    # skip-zero-grad: |grad| levels off at 16.5, the true gradient falls to about 0
    run_ = session(bugs.SKIP_ZERO_GRAD)
    results = [run_.step() for _ in range(30)]
    assert f"{results[-1].grad_norm:.3g}" == "16.5" and norm(run_.snapshot().trace.true) < 1e-6
    moons = session(bugs.SKIP_ZERO_GRAD, "moons")
    for _ in range(30):
        last = moons.step()
    assert (f"{last.loss:.3g}", f"{moons.twin_loss:.3g}") == ("4.07", "0.197")
    assert (
        "loss 4.07 against the twin's 0.197 at step 30" in bugs.BUGS[bugs.SKIP_ZERO_GRAD].look_for
    )

    # gradient-ascent: toward the ceiling of 16
    run_ = session(bugs.GRADIENT_ASCENT)
    for _ in range(100):
        last = run_.step()
    assert 15.9 < last.loss < 16 and last.accuracy == 0

    # tanh-derivative: 55x at step 1
    run_ = session(bugs.TANH_DERIVATIVE)
    run_.step()
    trace = run_.snapshot().trace
    assert f"{norm(trace.backprop) / norm(trace.true):.0f}" == "55"


# -- neuron health: not bugs ----------------------------------------------------------


def health_run(config, steps: int = HEALTH_DEMO_STEPS):
    """Each step's result and health, on a run with no bug on."""
    session = config.build_session()
    assert not session.bugs
    results, health = [], []
    for _ in range(steps):
        results.append(session.step())
        health.append(session.health())
    assert session.diverged_at is None
    return session, results, health


def test_the_health_demos_are_the_palettes_and_not_bugs():
    assert set(HEALTH_DEMOS) == {"dead-relus", "saturated-tanh"}
    assert not set(HEALTH_DEMOS) & set(bugs.BUGS)  # the bug list stays the code's bugs
    for demo in HEALTH_DEMOS.values():
        assert not demo.run_config().bugs


def test_dead_relus_demo_says_what_its_run_does():
    demo = HEALTH_DEMOS["dead-relus"]
    assert demo.lr == 5 * PRESETS[demo.dataset].lr  # "5× the preset's learning rate"
    session, results, health = health_run(demo.run_config())
    hidden = sum(session.config.hidden)
    assert hidden == 32
    assert all(layer < len(session.config.hidden) for layer, _ in health[-1].dead)
    assert len(health[2].dead) == 22 and len(health[-1].dead) == 21  # steps 3 and 100
    assert min(len(h.dead) for h in health[2:]) >= 21  # never fewer from step 3 on
    assert round(results[4].loss) == 28 and round(results[-1].loss) == 25
    assert all(25 <= r.loss < 28.5 for r in results[4:])  # only creeps down
    assert results[-1].accuracy == 0.68
    assert not any(h.saturated for h in health)
    _, preset_results, preset_health = health_run(
        RunConfig(dataset="moons", session=PRESETS["moons"])
    )
    assert len(preset_health[-1].dead) == 5 and preset_results[-1].accuracy == 1.0


def test_saturated_tanh_demo_says_what_its_run_does():
    demo = HEALTH_DEMOS["saturated-tanh"]
    assert demo.lr == 20 * PRESETS[demo.dataset].lr  # "20× the preset's learning rate"
    session, results, health = health_run(demo.run_config())
    assert sum(session.config.hidden) + 1 == 9 and len(session.xs) == 4
    assert len(health[2].saturated) == 5 and not any(h.dead for h in health)  # of 8 hidden
    outputs = session.passes.neuron_outputs()
    for layer, neuron in health[-1].saturated:  # 1 - t² under 0.02 on every point
        assert all(1 - t * t < 0.02 for t in outputs[layer][neuron])
    assert all(round(r.loss, 2) == 8 and r.accuracy == 0.5 for r in results[4:])
    _, preset_results, _ = health_run(
        RunConfig(dataset="tutorial", session=PRESETS["tutorial"]), steps=30
    )
    assert preset_results[-1].loss < 0.03


@pytest.mark.parametrize("key", ["dead-relus", "saturated-tanh"])
def test_each_health_demo_reaches_its_state_within_its_steps(key):
    _, _, health = health_run(HEALTH_DEMOS[key].run_config())
    marked = [h.dead if key == "dead-relus" else h.saturated for h in health]
    assert next(i for i, m in enumerate(marked) if m) < HEALTH_DEMO_STEPS
