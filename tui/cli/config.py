"""What a run is made of, the presets that train well, and the shared flags.

The dashboard and ``micrograd-tui train`` read the same flags into the same
``RunConfig`` and build the same ``TrainingSession`` from it, so a run seen in
the dashboard can be repeated headless, step for step.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field, replace

import datasets
from engine import bugs
from engine.losses import LOSSES
from engine.nn import ACTIVATIONS
from engine.training import budget
from engine.training.presets import CSV_PRESET, PRESETS
from engine.training.records import SessionConfig
from engine.training.session import TrainingSession
from tui.cli.data_file import load_csv

DEFAULT_DATASET = "tutorial"


@dataclass(frozen=True)
class RunConfig:
    """Where the data comes from, plus the session settings and the bugs."""

    dataset: str = DEFAULT_DATASET
    data_path: str | None = None  # a CSV file instead of a named dataset
    samples: int | None = None
    noise: float | None = None
    test_fraction: float = 0.0
    session: SessionConfig = field(default_factory=lambda: PRESETS[DEFAULT_DATASET])
    bugs: tuple[str, ...] = ()

    @property
    def data_label(self) -> str:
        return self.data_path if self.data_path else self.dataset

    def load_data(self) -> tuple[datasets.Dataset, datasets.Dataset | None]:
        """The training set and the held-out test set (None without a split).

        A run too large to train within the limits of ``engine/training/budget.py`` is
        refused (FlagError) before its data is generated, or once a CSV file is read.
        """
        if self.data_path:
            data = load_csv(self.data_path)
            self.check_cost(len(data), data.features)
        else:
            samples = self.samples
            if samples is None:
                samples = datasets.default_samples(self.dataset)
            self.check_cost(samples, datasets.features(self.dataset))
            data = datasets.make(self.dataset, self.samples, self.noise, self.session.seed)
        if self.test_fraction <= 0:
            return data, None
        try:
            return datasets.split(data, self.test_fraction, self.session.seed)
        except datasets.DatasetError as err:  # e.g. too few samples to hold any out
            raise FlagError("--test-fraction", str(err)) from None

    def check(self) -> None:
        """Refuse what ``load_data()`` would refuse, without generating any point.

        (A CSV file is read: what is wrong with it shows only then.)
        """
        if self.data_path:
            self.load_data()
            return
        samples = (
            self.samples if self.samples is not None else datasets.default_samples(self.dataset)
        )
        self.check_cost(samples, datasets.features(self.dataset))
        if samples - _test_count(samples, self.test_fraction) < 1:
            raise FlagError(
                "--test-fraction", f"{self.dataset}: {samples} samples leave none to train on"
            )

    def check_cost(self, samples: int, features: int) -> None:
        """FlagError naming the flag to change if this run would be too large to train."""
        hidden = self.session.hidden
        n_test = _test_count(samples, self.test_fraction)
        batch = self.session.batch_size
        problem = budget.run_cost(features, hidden, samples - n_test, n_test, batch).problem()
        if problem is None:
            return
        layers = ",".join(map(str, hidden))
        if budget.run_cost(features, hidden, 1).problem() is not None:
            raise FlagError("--hidden", f"{layers}: {problem}; use fewer or smaller layers")
        flag = "--data" if self.data_path else "--samples"
        raise FlagError(
            flag,
            f"{samples:,} samples with hidden layers {layers}: {problem}; "
            "use fewer samples or smaller layers",
        )

    def build_session(self) -> TrainingSession:
        train, test = self.load_data()
        held_out = (test.xs, test.ys) if test is not None else ((), ())
        return TrainingSession(self.session, train.xs, train.ys, self.bugs, "fast", *held_out)


def _test_count(samples: int, test_fraction: float) -> int:
    """How many points ``datasets.split`` holds out."""
    if test_fraction <= 0:
        return 0
    return max(1, round(samples * test_fraction))


class ConfigError(ValueError):
    """A flag or setting is wrong; the message names it."""


class FlagError(ConfigError, argparse.ArgumentTypeError):
    """One flag's value is wrong: ``flag`` names it, ``reason`` says why.

    Also an ``ArgumentTypeError``, so argparse prints the message as it is;
    the settings dialog shows ``reason`` beside its own label for the field.
    """

    def __init__(self, flag: str, reason: str) -> None:
        super().__init__(f"{flag}: {reason}")
        self.flag = flag
        self.reason = reason


# -- flag parsing ----------------------------------------------------------------
# Each parser takes the text of one value and returns it parsed, or raises
# FlagError naming the flag. argparse uses them as ``type=``; the settings
# dialog calls them directly, so a value is checked the same way in both.


def step_number(flag: str):
    """A parser of any whole number, negative too: the caller knows the steps allowed and
    names their range (``train --from-step``)."""

    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise FlagError(flag, f"expected a step number, got {text!r}") from None

    return parse


def whole_number(flag: str, allow_zero: bool = False, high: int | None = None, why: str = ""):
    """A parser of whole numbers from 1 (or 0) up to ``high``, ``why`` saying why that limit."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise FlagError(flag, f"expected a whole number, got {text!r}")
        if value < 0 or (value == 0 and not allow_zero):
            bound = ">= 0" if allow_zero else ">= 1"
            raise FlagError(flag, f"must be {bound}, got {value}")
        if high is not None and value > high:
            raise FlagError(flag, f"must be <= {high:,}, got {value:,}{why}")
        return value

    return parse


def batch_size(text: str) -> int:
    """``--batch-size``: 1 to ``datasets.MAX_SAMPLES`` (more than the samples: all of them)."""
    return whole_number(
        "--batch-size", high=datasets.MAX_SAMPLES, why=" (the most points a run holds)"
    )(text)


def sample_count(flag: str):
    """How many points to generate: at most ``datasets.MAX_SAMPLES``."""
    return whole_number(
        flag,
        high=datasets.MAX_SAMPLES,
        why=f" (a run holds at most {datasets.MAX_SAMPLES:,} points in memory)",
    )


def real_number(
    flag: str, positive: bool = False, low: float | None = None, high: float | None = None
):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise FlagError(flag, f"expected a number, got {text!r}")
        if not math.isfinite(value):
            raise FlagError(flag, f"must be a finite number, got {text!r}")
        if positive and value <= 0:
            raise FlagError(flag, f"must be > 0, got {text}")
        if low is not None and value < low:
            raise FlagError(flag, f"must be >= {low:g}, got {text}")
        if high is not None and value >= high:
            raise FlagError(flag, f"must be < {high:g}, got {text}")
        return value

    return parse


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"16,16"`` -> (16, 16); a clear error for ``4,,4``, ``0``, ``-3``, ``abc``."""
    parts = [p.strip() for p in text.split(",")]
    sizes = []
    for i, part in enumerate(parts, start=1):
        if not part:
            raise FlagError("--hidden", f"layer {i} is empty in {text!r}")
        try:
            size = int(part)
        except ValueError:
            raise FlagError(
                "--hidden", f"layer {i} is not a whole number: {part!r} (e.g. --hidden 16,16)"
            )
        if size < 1:
            raise FlagError("--hidden", f"layer {i} must have at least 1 neuron, got {size}")
        sizes.append(size)
    return tuple(sizes)


def _bug_id(text: str) -> str:
    if text not in bugs.BUGS:
        raise FlagError("--bug", f"unknown bug {text!r} (known: {', '.join(bugs.BUGS)})")
    return text


def dataset_name(text: str) -> str:
    if text not in datasets.DATASETS:
        raise FlagError(
            "--dataset", f"unknown dataset {text!r} (known: {', '.join(datasets.DATASETS)})"
        )
    return text


def one_of(flag: str, choices):
    def parse(text: str) -> str:
        if text not in choices:
            raise FlagError(flag, f"unknown value {text!r} (choose from {', '.join(choices)})")
        return text

    return parse


HIDDEN_ACTIVATIONS = [a for a in ACTIVATIONS if a != "linear"]


def add_run_flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Add the flags the dashboard and ``train`` share; return them as ``{dest: flag}``.

    Commands that refuse some of them (``--load``, an expression's graph) derive
    their lists from this one, so a new run flag cannot slip through unrefused.
    """
    g = parser.add_argument_group("run")
    flags: dict[str, str] = {}

    def add(flag: str, **options) -> None:
        flags[g.add_argument(flag, **options).dest] = flag

    add(
        "--dataset",
        type=dataset_name,
        metavar="NAME",
        help=f"one of {', '.join(datasets.DATASETS)} (default: {DEFAULT_DATASET})",
    )
    add(
        "--data",
        metavar="FILE.csv",
        help="train on a CSV file: numeric features, label (±1 or 0/1) last",
    )
    add(
        "--samples",
        type=sample_count("--samples"),
        metavar="N",
        help="points to generate (generated datasets)",
    )
    add(
        "--noise",
        type=real_number("--noise", low=0.0),
        metavar="X",
        help="noise of generated points (>= 0)",
    )
    add(
        "--test-fraction",
        type=real_number("--test-fraction", low=0.0, high=1.0),
        metavar="X",
        help="hold out this fraction of the points as a test set (0 to <1)",
    )
    add(
        "--batch-size",
        type=batch_size,
        metavar="N",
        help="train each step on N samples drawn afresh from the seed (default: all)",
    )
    add("--hidden", type=parse_hidden, metavar="SIZES", help="hidden layer sizes, e.g. 16,16")
    add(
        "--activation",
        type=one_of("--activation", HIDDEN_ACTIVATIONS),
        metavar="NAME",
        help="hidden non-linearity: tanh, relu or sigmoid",
    )
    add(
        "--loss",
        type=one_of("--loss", list(LOSSES)),
        metavar="NAME",
        help=f"one of {', '.join(LOSSES)}",
    )
    add("--lr", type=real_number("--lr", positive=True), metavar="X", help="learning rate (> 0)")
    add(
        "--seed",
        type=whole_number("--seed", allow_zero=True),
        metavar="N",
        help="seed for the initial weights and generated data (default 0)",
    )
    add(
        "--bug",
        type=_bug_id,
        action="append",
        default=[],
        metavar="ID",
        help=f"inject a bug (repeatable): {', '.join(bugs.BUGS)}",
    )
    return flags


def run_flags() -> dict[str, str]:
    """The run flags as ``{dest: flag}``, for commands that refuse some of them."""
    return add_run_flags(argparse.ArgumentParser(add_help=False))


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """Start from the dataset's preset, then apply every flag given."""
    if args.dataset and args.data:
        raise ConfigError("--dataset and --data both name the data; give one of them")
    dataset = args.dataset or DEFAULT_DATASET
    preset = CSV_PRESET if args.data else PRESETS[dataset]
    overrides = {}
    if args.hidden is not None:
        overrides["hidden"] = args.hidden
    if args.activation is not None:
        overrides["activation"] = args.activation
    if args.loss is not None:
        overrides["loss"] = args.loss
    if args.lr is not None:
        overrides["lr"] = args.lr
        if preset.lr_end is not None:  # keep the schedule's shape, from the new start
            overrides["lr_end"] = preset.lr_end * args.lr / preset.lr
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.data and (args.samples is not None or args.noise is not None):
        raise ConfigError("--samples and --noise shape generated datasets, not a --data file")
    problem = None if args.data else datasets.shape_problem(dataset, args.samples, args.noise)
    if problem:
        given = [
            flag
            for flag, v in (("--samples", args.samples), ("--noise", args.noise))
            if v is not None
        ]
        raise ConfigError(f"{', '.join(given) or '--dataset'}: {problem}")
    return RunConfig(
        dataset=dataset,
        data_path=args.data,
        samples=args.samples,
        noise=args.noise,
        test_fraction=args.test_fraction or 0.0,
        session=replace(preset, **overrides),
        bugs=tuple(dict.fromkeys(args.bug)),
    )
