"""What a run will cost, estimated from its sizes before anything is built.

A run the user can type (``--hidden 1000,1000``, ``--samples 10000000``) must
either fit in bounded memory or be refused up front with the reason. These
estimates are deliberately simple and err high. They were fitted to the peak
RSS (``/usr/bin/time -v``) of ``micrograd-tui train --steps 1`` on the fast
path, CPython 3.11, on a 2-core Xeon (no bug on):

==========================================  =========  ========
run (moons)                                 measured   estimate
==========================================  =========  ========
``--hidden 16 --samples 300000``            297 MB     933 MB
``--hidden 16,16 --samples 100000``         165 MB     517 MB
``--hidden 64,64 --samples 20000``          173 MB     355 MB
``--hidden 256,256 --samples 4000``         135 MB     338 MB
``--hidden 1000,1000`` (100 samples)        290 MB     1.1 GB
==========================================  =========  ========

Memory: a fixed ~20 MB; per sample (training and held out) its data, twice
with a clean twin (~1,000 bytes), and the tape of a pass (~60 bytes per
neuron, twice: with a bug on, the twin's tape and the run's are alive at
once); per parameter ~1,000 bytes (its ``Value``, its copies in the compiled
pass, the twin's, the clean gradient). A test checks real peaks against these. Time: one step
does a forward and a backward pass, ~50 ns per multiply-add of the forward
pass (W4: 66 million, ~2.4 s CPU).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

# Refuse a run whose estimate is above this: the estimates run high (measured
# peaks were a third to nearly all of them), so what is accepted stays under 2 GB.
MEMORY_LIMIT = 1.5e9  # bytes
# Refuse a run whose every step would take longer than this (CPU time, estimated).
STEP_SECONDS_LIMIT = 60.0

_FIXED_BYTES = 20e6
_SAMPLE_BYTES = 1000
_NEURON_SAMPLE_BYTES = 120
_PARAMETER_BYTES = 1000
_SECONDS_PER_MULTIPLY_ADD = 50e-9
# A Value graph (the reference engine, a gradient check): two nodes per
# multiply-add (the product and the running sum), ~300 bytes each.
_VALUE_BYTES_PER_MULTIPLY_ADD = 600


def parameter_count(nin: int, hidden: Sequence[int]) -> int:
    sizes = [nin, *hidden, 1]
    return sum((a + 1) * b for a, b in pairwise(sizes))


def multiply_adds(nin: int, hidden: Sequence[int]) -> int:
    """Multiply-adds of one sample's forward pass."""
    sizes = [nin, *hidden, 1]
    return sum(a * b for a, b in pairwise(sizes))


@dataclass(frozen=True)
class RunCost:
    memory: float  # bytes, peak
    step_seconds: float

    def problem(self) -> str | None:
        """Why the run is refused, or None."""
        if self.memory > MEMORY_LIMIT:
            return (
                f"the run would need an estimated {gigabytes(self.memory)} of memory "
                f"(limit {gigabytes(MEMORY_LIMIT)})"
            )
        if self.step_seconds > STEP_SECONDS_LIMIT:
            return (
                f"each step would take an estimated {self.step_seconds:,.0f} s "
                f"(limit {STEP_SECONDS_LIMIT:.0f} s)"
            )
        return None


def gigabytes(size: float) -> str:
    """Rounded up: an estimate just over a limit never reads as equal to it."""
    if size >= 1e9:
        return f"{math.ceil(size / 1e8) / 10:,.1f} GB"
    return f"{math.ceil(size / 1e6):,.0f} MB"


def run_cost(
    nin: int, hidden: Sequence[int], samples: int, test_samples: int = 0, batch: int | None = None
) -> RunCost:
    """The estimated peak memory and time per step of a run on the fast path.

    ``batch``: the samples one step trains on (None: all of them).
    """
    per_step = samples if batch is None else min(batch, samples)
    neurons = sum(hidden) + 1
    params = parameter_count(nin, hidden)
    # The data stays whole; one pass's tape holds the samples it runs on (a full
    # pass, for the loss on every sample, at most every few steps).
    memory = (
        _FIXED_BYTES
        + (samples + test_samples) * _SAMPLE_BYTES
        + (samples + test_samples) * neurons * _NEURON_SAMPLE_BYTES
        + params * _PARAMETER_BYTES
    )
    work = multiply_adds(nin, hidden)
    seconds = (per_step + test_samples / 3) * work * _SECONDS_PER_MULTIPLY_ADD
    return RunCost(memory, seconds)


def value_graph_bytes(nin: int, hidden: Sequence[int], samples: int) -> float:
    """The memory of one ``Value`` graph over ``samples`` (a gradient check builds one)."""
    return _FIXED_BYTES + samples * multiply_adds(nin, hidden) * _VALUE_BYTES_PER_MULTIPLY_ADD


def gradcheck_problem(nin: int, hidden: Sequence[int], samples: int) -> str | None:
    """Why a gradient check of this run is refused (its Value graph), or None."""
    size = value_graph_bytes(nin, hidden, samples)
    if size <= MEMORY_LIMIT:
        return None
    return (
        f"its Value graph of all {samples:,} samples would need an estimated "
        f"{gigabytes(size)} of memory (limit {gigabytes(MEMORY_LIMIT)})"
    )
