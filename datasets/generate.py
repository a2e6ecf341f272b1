"""The lecture's four points, five two-dimensional classics, and a blank plane to draw on.

Every generator takes ``samples``, ``noise`` and ``seed`` and draws from its own
``random.Random(seed)``, so the same arguments give the same points every time.
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

# The most points a run generates (``samples``); a CSV file holds at most as many
# rows (``datasets.csv.MAX_CSV_ROWS``, a test keeps them equal). What a run of that
# many costs depends on the model too: tui/cli/config.py checks both.
MAX_SAMPLES = 1_000_000


class DatasetError(ValueError):
    """A dataset could not be made or read; the message says what and where."""


@dataclass(frozen=True)
class Dataset:
    name: str
    xs: list[list[float]]
    ys: list[float]  # +1.0 or -1.0

    def __post_init__(self) -> None:
        if len(self.xs) != len(self.ys):
            raise DatasetError(f"{self.name}: {len(self.xs)} samples but {len(self.ys)} labels")

    @property
    def features(self) -> int:
        return len(self.xs[0]) if self.xs else 0

    def __len__(self) -> int:
        return len(self.ys)


def tutorial(samples: int | None = None, noise: float | None = None, seed: int = 0) -> Dataset:
    """The lecture's dataset: four points in 3-D with targets ±1 (fixed, no randomness)."""
    xs = [
        [2.0, 3.0, -1.0],
        [3.0, -1.0, 0.5],
        [0.5, 1.0, 1.0],
        [1.0, 1.0, -1.0],
    ]
    ys = [1.0, -1.0, -1.0, 1.0]
    return Dataset("tutorial", xs, ys)


def xor(samples: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Points in the square [-1, 1]²; +1 where x and y share a sign."""
    rng = random.Random(seed)
    xs, ys = [], []
    for _ in range(samples):
        x, y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        # Keep points off the axes so the classes are separable without noise.
        x += 0.1 if x >= 0 else -0.1
        y += 0.1 if y >= 0 else -0.1
        ys.append(1.0 if x * y >= 0 else -1.0)
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
    return Dataset("xor", xs, ys)


def moons(samples: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (as sklearn's make_moons): outer -1, inner +1."""
    rng = random.Random(seed)
    n_outer = samples // 2
    n_inner = samples - n_outer
    xs, ys = [], []
    for i in range(n_outer):
        t = math.pi * i / max(n_outer - 1, 1)
        xs.append([math.cos(t), math.sin(t)])
        ys.append(-1.0)
    for i in range(n_inner):
        t = math.pi * i / max(n_inner - 1, 1)
        xs.append([1 - math.cos(t), 0.5 - math.sin(t)])
        ys.append(1.0)
    xs = [[x + rng.gauss(0, noise), y + rng.gauss(0, noise)] for x, y in xs]
    return _shuffled("moons", xs, ys, rng)


def circles(samples: int = 200, noise: float = 0.05, seed: int = 0) -> Dataset:
    """A disc (+1) inside a ring (-1)."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(samples):
        inside = i % 2 == 0
        r = rng.uniform(0.0, 0.5) if inside else rng.uniform(0.7, 1.0)
        t = rng.uniform(0, 2 * math.pi)
        xs.append([r * math.cos(t) + rng.gauss(0, noise), r * math.sin(t) + rng.gauss(0, noise)])
        ys.append(1.0 if inside else -1.0)
    return Dataset("circles", xs, ys)


def spiral(samples: int = 200, noise: float = 0.05, seed: int = 0) -> Dataset:
    """Two arms winding around each other, one turn and a half."""
    rng = random.Random(seed)
    xs, ys = [], []
    per_arm = samples // 2
    for i in range(samples):
        arm = i % 2
        k = i // 2
        r = (k + 1) / (per_arm + 1)
        t = 3 * math.pi * r + arm * math.pi
        xs.append([r * math.cos(t) + rng.gauss(0, noise), r * math.sin(t) + rng.gauss(0, noise)])
        ys.append(1.0 if arm == 0 else -1.0)
    return Dataset("spiral", xs, ys)


def blobs(samples: int = 100, noise: float = 0.4, seed: int = 0) -> Dataset:
    """Two Gaussian clusters around (1, 1) (+1) and (-1, -1) (-1)."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(samples):
        label = 1.0 if i % 2 == 0 else -1.0
        xs.append([label + rng.gauss(0, noise), label + rng.gauss(0, noise)])
        ys.append(label)
    return Dataset("blobs", xs, ys)


def blank(samples: int = 2, noise: float = 0.0, seed: int = 0) -> Dataset:
    """A plane to draw your own points on: ``samples`` points on the diagonal from
    (-1, -1) to (1, 1), the lower half -1 and the upper half +1 (two by default).

    The dashboard's draw mode (``d``) adds and removes points from there.
    """
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(samples):
        t = -1.0 + 2.0 * i / (samples - 1) if samples > 1 else -1.0
        xs.append([t + rng.gauss(0, noise), t + rng.gauss(0, noise)])
        ys.append(1.0 if 2 * i >= samples else -1.0)
    return Dataset("blank", xs, ys)


def _shuffled(name: str, xs, ys, rng: random.Random) -> Dataset:
    order = list(range(len(xs)))
    rng.shuffle(order)
    return Dataset(name, [xs[i] for i in order], [ys[i] for i in order])


Generator = Callable[..., Dataset]

DATASETS: dict[str, Generator] = {
    "tutorial": tutorial,
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "spiral": spiral,
    "blobs": blobs,
    "blank": blank,
}


# The datasets whose points are fixed, with what they are: samples and noise do not apply.
FIXED_POINTS = {"tutorial": "the lecture's 4 fixed points"}


def shape_problem(name: str, samples: int | None, noise: float | None) -> str | None:
    """What is wrong with generating ``name`` with these samples and noise, or None: the one
    home of the rules (the run flags, the settings dialog and ``make`` ask it)."""
    if name not in DATASETS:
        return f"unknown dataset {name!r} (known: {', '.join(DATASETS)})"
    if name in FIXED_POINTS and (samples is not None or noise is not None):
        return f"samples and noise shape generated datasets; {name} is {FIXED_POINTS[name]}"
    if samples is not None and not 1 <= samples <= MAX_SAMPLES:
        return f"samples must be from 1 to {MAX_SAMPLES:,}, got {samples:,}"
    if noise is not None and not (math.isfinite(noise) and noise >= 0):
        return f"noise must be a number >= 0, got {noise}"
    return None


def make(
    name: str, samples: int | None = None, noise: float | None = None, seed: int = 0
) -> Dataset:
    """Build a dataset by name; ``None`` keeps the generator's default."""
    problem = shape_problem(name, samples, noise)
    if problem:
        raise DatasetError(problem)
    kwargs: dict = {"seed": seed}
    if samples is not None:
        kwargs["samples"] = samples
    if noise is not None:
        kwargs["noise"] = noise
    return DATASETS[name](**kwargs)


def default_samples(name: str) -> int:
    """How many points ``make(name)`` generates when ``samples`` is not given."""
    if name in FIXED_POINTS:
        return len(DATASETS[name]())
    return inspect.signature(DATASETS[name]).parameters["samples"].default


def features(name: str) -> int:
    """How many features each point of dataset ``name`` has."""
    return DATASETS[name]().features if name in FIXED_POINTS else DATASETS[name](samples=2).features


def split(dataset: Dataset, test_fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Hold out ``test_fraction`` of the samples (at least one on each side)."""
    if not (0 <= test_fraction < 1):
        raise DatasetError(f"test fraction must be in [0, 1), got {test_fraction}")
    n = len(dataset)
    n_test = round(n * test_fraction)
    if test_fraction > 0:
        n_test = max(1, n_test)
    if n - n_test < 1:
        raise DatasetError(f"{dataset.name}: {n} samples leave none to train on")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    test_idx, train_idx = sorted(order[:n_test]), sorted(order[n_test:])
    train = Dataset(
        dataset.name, [dataset.xs[i] for i in train_idx], [dataset.ys[i] for i in train_idx]
    )
    test = Dataset(
        dataset.name + " (test)",
        [dataset.xs[i] for i in test_idx],
        [dataset.ys[i] for i in test_idx],
    )
    return train, test
