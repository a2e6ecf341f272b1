"""What every command shares: its parser's way of failing, and how a run is made or loaded."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace

import datasets
from engine.training.session import SessionDiverged, TrainingSession
from tui.cli.config import ConfigError, RunConfig, run_config_from_args, run_flags
from tui.cli.saved_run import SessionFileError, load_run

PROG = "micrograd-tui"


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one clear line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # "argument --hidden: --hidden: layer 2 is empty" -> "--hidden: layer 2 is empty"
        message = re.sub(r"^argument (\S+): (\1: )", r"\2", message)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def configure(prog: str, args: argparse.Namespace) -> RunConfig:
    try:
        config = run_config_from_args(args)
        config.check()  # a bad file, dataset or size fails here, before any UI starts
    except (ConfigError, datasets.DatasetError, ValueError) as err:
        raise SystemExit(fail(prog, str(err)))
    return config


# The flags that choose the data and the model: a loaded run brings its own.
_RUN_FLAGS = {dest: flag for dest, flag in run_flags().items() if dest != "lr"}


def load(
    prog: str, args: argparse.Namespace, from_step: int | None = None
) -> tuple[RunConfig, TrainingSession]:
    """The run saved in ``args.load``, with ``--lr`` applied from its next step;
    ``from_step`` (``train --from-step``): first gone back to that step of it."""
    given = [flag for dest, flag in _RUN_FLAGS.items() if getattr(args, dest) not in (None, [])]
    if given:
        raise SystemExit(
            fail(
                prog,
                f"--load resumes a saved run with its own data and settings: "
                f"drop {', '.join(given)} "
                "(only --lr may change a loaded run)",
            )
        )
    try:
        config, session = load_run(args.load)
    except SessionFileError as err:
        raise SystemExit(fail(prog, str(err)))
    if from_step is not None:
        go_back(prog, args.load, session, from_step)  # its bugs and rate as they were then
        config = replace(config, session=session.config, bugs=tuple(sorted(session.bugs)))
    if args.lr is not None:
        session.set_learning_rate(args.lr)
        config = replace(config, session=session.config)
    return config, session


def go_back(prog: str, path: str, session: TrainingSession, step: int) -> None:
    """``session`` (loaded from ``path``) back at ``step``, exactly as it was then; its
    later steps become the ghost. A step it does not reach: one line, exit 2."""
    low, high = session.earliest_step, session.step_count
    if not low <= step <= high:
        older = (
            f" (the run was saved by a micrograd-tui that kept no past: it reaches back to "
            f"step {low} only)"
            if low
            else ""
        )
        raise SystemExit(
            fail(
                prog,
                f"--from-step: must be from {low} to {high}, the steps {path} holds; "
                f"got {step}{older}",
            )
        )
    try:
        session.rewind(step)
    except SessionDiverged as err:  # only a hand-edited file replays differently
        raise SystemExit(
            fail(
                prog,
                f"--from-step: {path}: replaying its updates to step {step} diverged ({err}), "
                "so the file does not hold the run its history shows",
            )
        )
