"""``micrograd-tui``: the dashboard; ``train``: headless; ``export --torch``: a PyTorch script;
``graph``: a Value graph after forward and backward; ``serve``: the dashboard in a browser."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

import datasets
from engine.persist.files import is_standard_output
from engine.training import budget
from engine.training.session import TrainingSession
from tui.cli.config import (
    ConfigError,
    RunConfig,
    add_run_flags,
    run_config_from_args,
    run_flags,
    whole_number,
)
from tui.cli.saved_run import (
    SessionFileError,
    check_writable,
    export_history,
    export_torch,
    load_run,
    save_run,
)

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
    parser.add_argument(
        "--load", metavar="FILE.json", help="open a run saved with ctrl+s or 'train --save'"
    )
    return parser


def _train_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=f"{PROG} train", description="Train headless and print the progress.")
    add_run_flags(parser)
    g = parser.add_argument_group("train")
    g.add_argument(
        "--steps",
        type=whole_number("--steps", allow_zero=True),
        default=100,
        metavar="N",
        help="updates to run (default 100)",
    )
    g.add_argument(
        "--json", action="store_true", help="print one JSON object per step, then a summary"
    )
    g.add_argument(
        "--twin",
        action="store_true",
        help="with a --bug: also train a clean twin (same seed, data, rates) and print its loss",
    )
    g.add_argument(
        "--gradcheck",
        action="store_true",
        help="after training, check backprop against finite differences",
    )
    f = parser.add_argument_group("save and resume")
    f.add_argument(
        "--save",
        metavar="FILE.json",
        help="after training, save the run (weights, optimizer, history) to resume; "
        "- for standard output",
    )
    f.add_argument(
        "--load",
        metavar="FILE.json",
        help="resume a saved run exactly and train --steps more (--lr may change it)",
    )
    f.add_argument(
        "--history-csv",
        metavar="FILE.csv",
        help="after training, write the loss history (one row per step) as CSV; "
        "- for standard output",
    )
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port: expected a whole number, got {text!r}")
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"--port: must be from 1 to 65535, got {value}")
    return value


def _serve_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The whole ``serve`` command line, and its own flags alone (the rest go to each app)."""
    own = _Parser(prog=f"{PROG} serve", add_help=False, allow_abbrev=False)
    own.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    own.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    parser = _Parser(
        prog=f"{PROG} serve",
        parents=[own],
        allow_abbrev=False,
        description="Serve the dashboard to a browser (textual-serve): each tab runs its own "
        "dashboard, with the same flags as the app.",
    )
    add_run_flags(parser)
    parser.add_argument(
        "--load", metavar="FILE.json", help="open a run saved with ctrl+s or 'train --save'"
    )
    return parser, own


def _serve(argv: list[str]) -> int:
    parser, own = _serve_parsers()
    args = parser.parse_args(argv)  # every flag checked, and --help
    # Refuse what the app would refuse, here rather than in every browser tab.
    if args.load is not None:
        _loaded(parser.prog, args)
    else:
        _config(parser.prog, args)
    _, app_argv = own.parse_known_args(argv)
    try:
        import textual_serve  # noqa: F401 - only to say what is missing, before serving
    except ImportError:
        return _fail(
            parser.prog,
            "serving needs textual-serve: pip install 'micrograd-tui[serve]', or make serve",
        )
    from tui.cli.serve import serve

    try:
        return serve(app_argv, args.host, args.port)
    except OSError as err:  # the port is taken, the host is not ours
        # asyncio's words end in the reason: "error while attempting to bind ...: <reason>"
        reason = str(err.strerror or err).rsplit(": ", 1)[-1]
        return _fail(parser.prog, f"cannot listen on {args.host}:{args.port}: {reason}")


def _export_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"{PROG} export",
        description="Write the run as a standalone PyTorch script that trains on from where "
        "it is, step for step (needs only torch to run).",
    )
    parser.add_argument(
        "--torch",
        required=True,
        metavar="FILE.py",
        help="the script to write; 'python FILE.py --steps M' prints one JSON line per step",
    )
    add_run_flags(parser)
    g = parser.add_argument_group("export")
    g.add_argument(
        "--steps",
        type=whole_number("--steps", allow_zero=True),
        default=0,
        metavar="N",
        help="train N steps first, then export (default 0: the initial weights)",
    )
    g.add_argument(
        "--load", metavar="FILE.json", help="export a run saved with ctrl+s or 'train --save'"
    )
    return parser


def _export(argv: list[str]) -> int:
    from tui.cli.torch_export import ExportRefused, bug_note

    parser = _export_parser()
    args = parser.parse_args(argv)
    if args.load is not None:
        _, session = _loaded(parser.prog, args)
        source = f"the run saved in {args.load}"
    else:
        session = _config(parser.prog, args).build_session()
        source = f"`{PROG} export {shlex.join(argv)}`"
    _writable(parser.prog, args.torch, allow_stdout=False)
    for _ in range(args.steps if session.diverged_at is None else 0):
        if session.step().diverged:
            break
    try:
        written, step = export_torch(args.torch, session, source)
    except (ExportRefused, SessionFileError) as err:
        return _fail(parser.prog, f"cannot export: {err}")
    print(f"wrote {written}: the run at step {step}, in PyTorch")
    note = bug_note(session.snapshot())
    if note:
        print(f"note: {note}")
    print(f"run it: python {args.torch} --steps 100  (prints steps {step + 1} to {step + 100})")
    return 0


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def _config(prog: str, args: argparse.Namespace) -> RunConfig:
    try:
        config = run_config_from_args(args)
        config.check()  # a bad file, dataset or size fails here, before any UI starts
    except (ConfigError, datasets.DatasetError, ValueError) as err:
        raise SystemExit(_fail(prog, str(err)))
    return config


# The flags that choose the data and the model: a loaded run brings its own.
_RUN_FLAGS = {dest: flag for dest, flag in run_flags().items() if dest != "lr"}


def _loaded(prog: str, args: argparse.Namespace) -> tuple[RunConfig, TrainingSession]:
    """The run saved in ``args.load``, with ``--lr`` applied from its next step."""
    given = [flag for dest, flag in _RUN_FLAGS.items() if getattr(args, dest) not in (None, [])]
    if given:
        raise SystemExit(
            _fail(
                prog,
                f"--load resumes a saved run with its own data and settings: "
                f"drop {', '.join(given)} "
                "(only --lr may change a loaded run)",
            )
        )
    try:
        config, session = load_run(args.load)
    except SessionFileError as err:
        raise SystemExit(_fail(prog, str(err)))
    if args.lr is not None:
        session.set_learning_rate(args.lr)
        config = replace(config, session=session.config)
    return config, session


def _writable(prog: str, *paths: str | None, allow_stdout: bool = True) -> None:
    """Refuse, before training, to write where it cannot succeed."""
    for path in paths:
        problem = None if path is None else check_writable(path, allow_stdout)
        if problem:
            raise SystemExit(_fail(prog, f"cannot write {problem}"))


def _save(
    args: argparse.Namespace, config: RunConfig, session: TrainingSession, out: TextIO
) -> str | None:
    """Write --save and --history-csv; the error if one failed."""
    try:
        if args.save is not None:
            written, step = save_run(args.save, session, config)
            if not args.json:
                print(f"saved the run at step {step} to {written}", file=out)
        if args.history_csv is not None:
            written = export_history(args.history_csv, session)
            if not args.json:
                print(f"wrote the loss history to {written}", file=out)
    except SessionFileError as err:
        return str(err)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        from tui.cli.train import train

        parser = _train_parser()
        args = parser.parse_args(argv[1:])
        if args.load is not None:
            config, session = _loaded(parser.prog, args)
        else:
            config = _config(parser.prog, args)
            session = config.build_session()
        to_stdout = [p for p in (args.save, args.history_csv) if p and is_standard_output(p)]
        if len(to_stdout) == 2:
            return _fail(
                parser.prog, "--save and --history-csv cannot both write to standard output"
            )
        _writable(parser.prog, args.save, args.history_csv)
        if args.gradcheck:
            problem = budget.gradcheck_problem(session.nin, session.config.hidden, len(session.xs))
            if problem:
                return _fail(parser.prog, f"--gradcheck: {problem}")
        # With a file written to standard output, everything else goes to stderr.
        out = sys.stderr if to_stdout else sys.stdout
        try:
            code = train(
                config,
                steps=args.steps,
                as_json=args.json,
                out=out,
                twin=args.twin,
                gradcheck=args.gradcheck,
                session=session,
                resumed_from=args.load,
            )
            problem = _save(args, config, session, out)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`train | head`): stop quietly, as shell tools do,
            # and keep Python from failing again when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + 13  # 128 + SIGPIPE, what a shell reports for a broken pipe
        if problem:
            return _fail(parser.prog, problem)
        return code

    if argv[:1] == ["export"]:
        return _export(argv[1:])
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])

    if argv[:1] == ["graph"]:
        from tui.cli.graph import graph_main, graph_parser

        parser = graph_parser(_Parser)
        return graph_main(
            argv[1:],
            parser,
            loaded=lambda args: _loaded(parser.prog, args),
            configure=lambda args: _config(parser.prog, args),
        )

    parser = _app_parser()
    args = parser.parse_args(argv)
    if args.load is not None:
        config, session = _loaded(parser.prog, args)
    else:
        config = _config(parser.prog, args)
        session = None
    from tui.dashboard.app import MicrogradApp

    MicrogradApp(config, session).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
