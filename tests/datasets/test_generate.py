"""Generated datasets: deterministic per seed, ±1 labels, the requested size and shape."""

from __future__ import annotations

import math
from collections import Counter

import pytest

import datasets
from datasets import DATASETS, Dataset, DatasetError

GENERATED = [name for name in DATASETS if name != "tutorial"]
# blank's two points carry no noise by default: every seed draws the same plane.
RANDOM = [name for name in GENERATED if name != "blank"]


def _points(data: Dataset) -> list[tuple[tuple[float, ...], float]]:
    return [(tuple(x), y) for x, y in zip(data.xs, data.ys)]


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_points(name):
    assert _points(datasets.make(name, seed=4)) == _points(datasets.make(name, seed=4))


@pytest.mark.parametrize("name", RANDOM)
def test_different_seeds_differ(name):
    assert _points(datasets.make(name, seed=1)) != _points(datasets.make(name, seed=2))


@pytest.mark.parametrize("name", list(DATASETS))
def test_labels_are_plus_minus_one_and_both_classes_appear(name):
    data = datasets.make(name)
    assert set(data.ys) == {-1.0, 1.0}
    assert len(data.xs) == len(data.ys) == len(data)
    assert all(isinstance(v, float) and math.isfinite(v) for x in data.xs for v in x)
    assert {len(x) for x in data.xs} == {data.features}


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("samples", [1, 2, 7, 50])
def test_sizes_honour_samples(name, samples):
    data = datasets.make(name, samples=samples, seed=3)
    assert len(data) == samples
    assert data.features == 2
    assert set(data.ys) <= {-1.0, 1.0}


def test_tutorial_is_the_lectures_four_points():
    data = datasets.make("tutorial")
    assert data.xs == [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    assert data.ys == [1.0, -1.0, -1.0, 1.0]


# -- the shapes, checked without noise ---------------------------------------------------


def test_moons_without_noise_lie_on_two_half_circles():
    data = datasets.make("moons", samples=40, noise=0.0)
    for (x, y), label in zip(data.xs, data.ys):
        if label < 0:  # the outer moon: the upper unit half circle
            assert math.hypot(x, y) == pytest.approx(1.0) and y >= -1e-12
        else:  # the inner moon: shifted to (1, 0.5), the lower half
            assert math.hypot(x - 1, y - 0.5) == pytest.approx(1.0) and y <= 0.5 + 1e-12
    assert Counter(data.ys) == {-1.0: 20, 1.0: 20}


def test_circles_without_noise_separate_by_radius():
    data = datasets.make("circles", samples=60, noise=0.0)
    for (x, y), label in zip(data.xs, data.ys):
        r = math.hypot(x, y)
        assert (r <= 0.5) if label > 0 else (0.7 <= r <= 1.0)


def test_xor_without_noise_labels_by_quadrant():
    data = datasets.make("xor", samples=80, noise=0.0)
    for (x, y), label in zip(data.xs, data.ys):
        assert label == (1.0 if x * y > 0 else -1.0)


def test_blobs_centre_on_their_label():
    data = datasets.make("blobs", samples=400, noise=0.1)
    for label in (-1.0, 1.0):
        pts = [x for x, y in zip(data.xs, data.ys) if y == label]
        mean_x = sum(p[0] for p in pts) / len(pts)
        mean_y = sum(p[1] for p in pts) / len(pts)
        assert mean_x == pytest.approx(label, abs=0.05)
        assert mean_y == pytest.approx(label, abs=0.05)


def test_spiral_arms_alternate_and_stay_in_the_unit_disc_without_noise():
    data = datasets.make("spiral", samples=50, noise=0.0)
    assert data.ys[:4] == [1.0, -1.0, 1.0, -1.0]
    assert all(math.hypot(*x) <= 1.0 + 1e-12 for x in data.xs)


# -- make()'s errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"name": "nope"}, ["nope", "moons"]),
        ({"name": "moons", "samples": 0}, ["samples", "0"]),
        ({"name": "moons", "samples": -3}, ["samples", "-3"]),
        ({"name": "moons", "noise": -0.5}, ["noise", "-0.5"]),
        ({"name": "moons", "noise": math.nan}, ["noise", "nan"]),
        ({"name": "moons", "noise": math.inf}, ["noise", "inf"]),
    ],
)
def test_make_refuses_bad_arguments_with_a_clear_message(kwargs, words):
    with pytest.raises(DatasetError) as err:
        datasets.make(**kwargs)
    for word in words:
        assert word in str(err.value)


# -- split ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.9])
def test_split_holds_out_points_disjointly(fraction):
    data = datasets.make("blobs", samples=40, seed=1)
    train, test = datasets.split(data, fraction, seed=2)
    assert len(test) == round(40 * fraction)
    assert len(train) + len(test) == 40
    # every point lands on exactly one side
    assert Counter(_points(train)) + Counter(_points(test)) == Counter(_points(data))
    assert not set(_points(train)) & set(_points(test))


def test_split_is_deterministic_per_seed():
    data = datasets.make("moons", samples=30)
    first = datasets.split(data, 0.3, seed=5)
    assert [_points(d) for d in first] == [_points(d) for d in datasets.split(data, 0.3, seed=5)]
    assert [_points(d) for d in first] != [_points(d) for d in datasets.split(data, 0.3, seed=6)]


def test_split_keeps_at_least_one_point_on_each_side():
    data = datasets.make("blobs", samples=3)
    train, test = datasets.split(data, 0.01)
    assert len(test) == 1 and len(train) == 2
    train, test = datasets.split(data, 0.0)
    assert len(train) == 3 and len(test) == 0


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_split_refuses_a_bad_fraction(fraction):
    with pytest.raises(DatasetError, match="fraction"):
        datasets.split(datasets.make("blobs", samples=10), fraction)


def test_split_refuses_to_leave_nothing_to_train_on():
    with pytest.raises(DatasetError, match="none to train on"):
        datasets.split(datasets.make("blobs", samples=1), 0.5)


def test_blank_is_two_points_on_the_diagonal_one_of_each_class():
    data = datasets.make("blank")
    assert data.xs == [[-1.0, -1.0], [1.0, 1.0]]
    assert data.ys == [-1.0, 1.0]
    assert datasets.make("blank", seed=1, noise=0.1).xs != data.xs  # noise is seeded


def test_csv_text_reads_back_exactly(tmp_path):
    xs = [[0.1, -2.5e-7], [1 / 3, 1e300], [-0.0, 7.0]]
    ys = [1.0, -1.0, 1.0]
    text = datasets.csv_text(xs, ys)
    back = datasets.parse_csv(text, "points.csv")
    assert back.xs == xs and back.ys == ys
    assert text.splitlines()[0] == "x1,x2,label"


def test_fixed_points_take_no_samples_or_noise_and_generated_sets_do():
    """One home for the rules: FIXED_POINTS and shape_problem, asked by make and the flags."""
    assert "tutorial" in datasets.FIXED_POINTS
    assert "tutorial" in datasets.shape_problem("tutorial", 10, None)
    assert "tutorial" in datasets.shape_problem("tutorial", None, 0.0)
    assert datasets.shape_problem("tutorial", None, None) is None
    assert datasets.shape_problem("moons", 10, 0.0) is None
    assert "noise" in datasets.shape_problem("moons", None, -1.0)
    with pytest.raises(datasets.DatasetError, match="fixed points"):
        datasets.make("tutorial", samples=10)
    assert datasets.default_samples("tutorial") == len(datasets.make("tutorial").ys) == 4
