"""The size limits: estimates of a run's memory and time, checked against real runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.training import budget
from engine.training.presets import PRESETS

ROOT = Path(__file__).resolve().parents[2]

_PEAK_PROBE = """
import resource, sys
import datasets
from engine.training.session import TrainingSession
from engine.training.records import SessionConfig

samples, hidden = int(sys.argv[1]), tuple(map(int, sys.argv[2].split(",")))
data = datasets.make("moons", samples)
config = SessionConfig(hidden=hidden, activation="relu", loss="hinge", lr=0.1, l2=1e-4)
session = TrainingSession(config, data.xs, data.ys, ("overwrite-grad",))  # a twin too
session.step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


@pytest.mark.parametrize("samples, hidden", [(20000, "16,16"), (40, "300,300")])
def test_the_memory_estimate_errs_high(samples, hidden):
    # A real run in a fresh process (many samples; a wide net that compiles to loops):
    # its peak resident memory stays under the estimate the limits are checked against.
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_PROBE, str(samples), hidden],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    peak = int(done.stdout)
    estimate = budget.run_cost(2, tuple(map(int, hidden.split(","))), samples).memory
    assert peak < estimate, (peak, estimate)


def test_presets_and_the_benchmark_workloads_are_well_within_the_limits():
    for config in PRESETS.values():
        assert budget.run_cost(3, config.hidden, 1000).problem() is None
    assert budget.run_cost(2, (256, 256), 1000).problem() is None  # W4


def test_too_much_memory_or_time_is_named_with_the_estimate_and_the_limit():
    memory = budget.run_cost(2, (5000, 5000), 100).problem()
    assert memory is not None and "of memory (limit 1.5 GB)" in memory
    assert "estimated 25.2 GB" in memory, memory
    time = budget.run_cost(2, (700, 700), 4000).problem()
    assert time == "each step would take an estimated 98 s (limit 60 s)"
    # Mini-batches cut the time of a step, not the memory of the data and a full pass.
    assert budget.run_cost(2, (700, 700), 4000, batch=100).problem() is None
    batched = budget.run_cost(2, (16, 16), 1_000_000, batch=32)
    assert batched.memory == budget.run_cost(2, (16, 16), 1_000_000).memory


def test_a_gradient_check_is_refused_when_its_value_graph_would_not_fit():
    assert budget.gradcheck_problem(2, (16, 16), 100) is None
    problem = budget.gradcheck_problem(2, (256, 256), 100)
    assert problem is not None and problem.startswith("its Value graph of all 100 samples")
    assert problem.endswith("(limit 1.5 GB)")
