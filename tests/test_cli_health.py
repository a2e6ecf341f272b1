"""`micrograd-tui train --json` health counts and `--health`: which neurons died or
saturated, at the weights a `--save` at that step holds."""

from __future__ import annotations

import re

from engine.persist.session_file import load_session
from tests.support.cli import parse_json_lines, run_cli

DEAD_RELUS = ("--dataset", "moons", "--lr", "5")  # the first case
SATURATED_TANH = ("--dataset", "spiral", "--activation", "tanh", "--lr", "3")


def test_json_counts_are_those_of_the_weights_a_save_at_that_step_holds(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", *DEAD_RELUS, "--steps", "12", "--json")
    steps, _ = parse_json_lines(out)
    assert code == 0
    counts = [s["dead"] for s in steps]
    assert counts[-1] > counts[0]  # measured: 5 at step 1, 22 by step 3
    for n in (1, 4, 12):
        saved = tmp_path / f"at{n}.json"
        run_cli(capsys, "train", *DEAD_RELUS, "--steps", str(n), "--save", saved)
        session = load_session(saved).session
        assert session.step_count == n
        health = session.health()  # measured afresh on the loaded weights
        assert (len(health.dead), len(health.saturated)) == (counts[n - 1], 0)
    assert all(s["saturated"] == 0 for s in steps)  # relu neurons die, never saturate


def test_json_counts_saturated_tanh_neurons(capsys):
    code, out, _ = run_cli(capsys, "train", *SATURATED_TANH, "--steps", "5", "--json")
    steps, _ = parse_json_lines(out)
    assert code == 0
    assert [s["dead"] for s in steps] == [0] * 5  # tanh neurons never die
    assert steps[-1]["saturated"] == 2  # two of layer 2 (the output is never marked)


def _listed(out: str) -> dict[str, tuple[str, int]]:
    rows = re.findall(
        r"^  (layer \d+, neuron \d+) +(dead|saturated) since step (\d+)", out, re.MULTILINE
    )
    return {name: (state, int(step)) for name, state, step in rows}


def test_health_lists_each_unhealthy_neuron_with_the_step_it_became_so(capsys):
    code, out, _ = run_cli(capsys, "train", *DEAD_RELUS, "--steps", "30", "--json")
    steps, _ = parse_json_lines(out)
    code, out, _ = run_cli(capsys, "train", *DEAD_RELUS, "--steps", "30", "--health")
    assert code == 0
    listed = _listed(out)
    assert f"health at step 30: {steps[-1]['dead']} dead\n" in out
    assert len(listed) == steps[-1]["dead"]
    assert all(state == "dead" for state, _ in listed.values())
    assert "no point sends a gradient through it" in out
    # Each neuron's step: it is dead from then on, and was not at the step before.
    code, out, _ = run_cli(capsys, "train", *DEAD_RELUS, "--steps", "30", "--json", "--health")
    _, summary = parse_json_lines(out)
    records = summary["health"]["unhealthy"]
    assert {r["neuron"]: (r["state"], r["since"]) for r in records} == listed
    first = min(since for _, since in listed.values())
    assert steps[first - 1]["dead"] >= 1 and (first == 1 or steps[first - 2]["dead"] >= 0)


def test_health_names_a_neuron_that_died_later_by_its_step(capsys, tmp_path):
    # The step a neuron became dead is the first of an unbroken run of dead steps up
    # to the end: check one neuron against saved runs on either side of that step.
    _, out, _ = run_cli(capsys, "train", *DEAD_RELUS, "--steps", "8", "--health")
    name, (_, since) = max(_listed(out).items(), key=lambda item: item[1][1])
    layer, neuron = (int(n) - 1 for n in re.findall(r"\d+", name))
    for step, dead in ((since - 1, False), (since, True), (8, True)):
        saved = tmp_path / f"at{step}.json"
        run_cli(capsys, "train", *DEAD_RELUS, "--steps", str(step), "--save", saved)
        health = load_session(saved).session.health()
        assert ((layer, neuron) in health.dead) is dead, step


def test_health_on_the_saturated_tanh_case(capsys):
    code, out, _ = run_cli(capsys, "train", *SATURATED_TANH, "--steps", "20", "--health")
    assert code == 0
    assert "health at step 20: 2 saturated\n" in out
    assert _listed(out) == {
        "layer 2, neuron 5": ("saturated", 3),
        "layer 2, neuron 6": ("saturated", 3),
    }
    assert "local gradient 1 - t² is under 0.02" in out


def test_a_healthy_run_says_so(capsys):
    code, out, _ = run_cli(capsys, "train", "--steps", "20", "--health")
    assert code == 0 and out.endswith("health at step 20: no dead or saturated neuron\n")


def test_exploding_gradients_are_listed_by_step(capsys):
    # Measured: the tutorial's sigmoid net at lr 0.3 has |grad| at step 11 over 100x
    # step 1's, a warning: the loss diverges at step 18.
    case = ("--dataset", "tutorial", "--activation", "sigmoid", "--lr", "0.3", "--steps", "15")
    code, out, _ = run_cli(capsys, "train", *case, "--json")
    steps, summary = parse_json_lines(out)
    assert code == 0 and summary["diverged_at"] is None
    exploding = [s["step"] for s in steps if s["exploding"]]
    norms = [s["grad_norm"] for s in steps]
    assert exploding == [n for n in range(11, 16) if norms[n - 1] > 100 * norms[n - 11]]
    assert exploding == [11]
    _, out, _ = run_cli(capsys, "train", *case, "--health")
    assert "gradients exploding (|grad| grew over 100× in 10 steps) at 1 step: 11\n" in out
    assert "vanishing" not in out


def test_vanishing_gradients_are_listed_by_step(capsys):
    # Measured: the tutorial's relu net at lr 0.1 kills layer 1 by step 3, so from
    # then on layer 1's gradient is 0: far below 1e-6 of the last layer's.
    case = ("--dataset", "tutorial", "--activation", "relu", "--lr", "0.1", "--steps", "10")
    _, out, _ = run_cli(capsys, "train", *case, "--json")
    steps, _ = parse_json_lines(out)
    assert [s["step"] for s in steps if s["vanishing"]] == list(range(3, 11))
    _, out, _ = run_cli(capsys, "train", *case, "--health")
    assert (
        "gradients vanishing (layer 1's |grad| under 1e-06 of the last's) at 8 steps: 3-10" in out
    )


def test_a_loaded_run_says_its_first_step_may_be_earlier(capsys, tmp_path):
    saved = tmp_path / "run.json"
    run_cli(capsys, "train", *DEAD_RELUS, "--steps", "10", "--save", saved)
    code, out, _ = run_cli(capsys, "train", "--load", saved, "--steps", "2", "--health")
    assert code == 0
    assert "dead since step 10 or before (the run was loaded there)" in out
