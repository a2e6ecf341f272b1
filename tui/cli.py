"""``micrograd-tui`` opens the dashboard; ``micrograd-tui train`` trains headless."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

import datasets
from tui.config import ConfigError, RunConfig, add_run_flags, run_config_from_args

PROG = "micrograd-tui"


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one clear line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # "argument --hidden: --hidden: layer 2 is empty" -> "--hidden: layer 2 is empty"
        message = re.sub(r"^argument (\S+): (\1: )", r"\2", message)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _app_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="See backpropagation: train a tiny neural network step by step, "
        "and break it on purpose.  'micrograd-tui train --help' for headless training.",
    )
    add_run_flags(parser)
    return parser


def _train_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=f"{PROG} train", description="Train headless and print the progress.")
    add_run_flags(parser)
    g = parser.add_argument_group("train")
    g.add_argument("--steps", type=_steps, default=100, metavar="N", help="updates to run (default 100)")
    g.add_argument("--json", action="store_true", help="print one JSON object per step, then a summary")
    g.add_argument("--twin", action="store_true",
                   help="with a --bug: also train a clean twin (same seed, data, rates) and print its loss")
    g.add_argument("--gradcheck", action="store_true",
                   help="after training, check backprop against finite differences")
    return parser


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps: expected a whole number, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"--steps: must be >= 0, got {value}")
    return value


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def _config(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[argparse.Namespace, RunConfig]:
    args = parser.parse_args(argv)
    try:
        config = run_config_from_args(args)
        config.load_data()  # a bad file or dataset fails here, before any UI starts
    except (ConfigError, datasets.DatasetError, ValueError) as err:
        raise SystemExit(_fail(parser.prog, str(err)))
    return args, config


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        from tui.train import train

        args, config = _config(_train_parser(), argv[1:])
        try:
            code = train(
                config, steps=args.steps, as_json=args.json, twin=args.twin, gradcheck=args.gradcheck
            )
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`train | head`): stop quietly, as shell tools do,
            # and keep Python from failing again when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + 13  # 128 + SIGPIPE, what a shell reports for a broken pipe
        return code

    _args, config = _config(_app_parser(), argv)
    from tui.app import MicrogradApp

    MicrogradApp(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
