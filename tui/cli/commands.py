"""The command line without the dashboard: ``train``, ``export --torch``, ``graph``, ``serve``,
and the dashboard's own flags (``dashboard_run``); ``tui/main.py`` launches the dashboard.

``micrograd-tui``: the dashboard; ``train``: headless; ``export --torch``: a PyTorch script;
``graph``: a Value graph after forward and backward; ``serve``: the dashboard in a browser."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from typing import TextIO

from engine.persist.files import is_standard_output
from engine.training import budget
from engine.training.session import TrainingSession
from tui.cli.common import PROG, Parser, configure, fail, load
from tui.cli.config import (
    RunConfig,
    add_run_flags,
    step_number,
    whole_number,
)
from tui.cli.saved_run import (
    SessionFileError,
    check_writable,
    export_history,
    export_torch,
    save_run,
)
from tui.cli.serve import DEFAULT_MAX_SESSIONS, Classroom, is_loopback, new_token, serve

# The commands that run without the dashboard (and without importing Textual).
HEADLESS = ("train", "export", "serve", "graph")


def _app_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    parser = Parser(prog=f"{PROG} train", description="Train headless and print the progress.")
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
    g.add_argument(
        "--health",
        action="store_true",
        help="after training, list each dead or saturated hidden neuron with the step it "
        "became so, and the steps whose gradients exploded or vanished",
    )
    f = parser.add_argument_group("save and resume")
    f.add_argument(
        "--save",
        metavar="FILE.json",
        help="after training, save the run (weights, optimizer, history) to resume; "
        "- for standard output. An existing file is replaced without asking: the flag is "
        "your decision (the dashboard's ctrl+s asks first)",
    )
    f.add_argument(
        "--load",
        metavar="FILE.json",
        help="resume a saved run exactly and train --steps more (--lr may change it)",
    )
    f.add_argument(
        "--from-step",
        type=step_number("--from-step"),
        metavar="N",
        help="with --load: go back to step N of the saved run, exactly as it was then, and "
        "train --steps from there. Its later steps become the ghost (the future this branch "
        "left: the dashboard draws its loss as a grey curve), which --save keeps",
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
    own = Parser(prog=f"{PROG} serve", add_help=False, allow_abbrev=False)
    own.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    own.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    room = own.add_argument_group("a classroom")
    room.add_argument(
        "--token",
        metavar="TOKEN",
        help="the token every request needs (default: a new random one when --host is not "
        "loopback, none on loopback); the printed link carries it",
    )
    room.add_argument(
        "--no-token",
        action="store_true",
        help="beyond loopback too, let anyone who reaches the port in (warns)",
    )
    room.add_argument(
        "--max-sessions",
        type=whole_number("--max-sessions"),
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"at most N dashboards (browser tabs) at once (default {DEFAULT_MAX_SESSIONS})",
    )
    room.add_argument(
        "--data-dir",
        metavar="DIR",
        help="a folder of CSV files every tab may load data from (default: none, loading off)",
    )
    parser = Parser(
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
        load(parser.prog, args)
    else:
        configure(parser.prog, args)
    _, app_argv = own.parse_known_args(argv)
    if args.token is not None and args.no_token:
        return fail(parser.prog, "--token and --no-token: give one of them")
    if args.token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{8,128}", args.token):
        return fail(parser.prog, "--token: 8 to 128 letters, digits, - or _ (it goes in a link)")
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        return fail(parser.prog, f"--data-dir: {args.data_dir}: not a folder")
    token = args.token
    if token is None and not args.no_token and not is_loopback(args.host):
        token = new_token()
    if args.no_token and not is_loopback(args.host):
        print(
            f"{parser.prog}: warning: --no-token: anyone who can reach {args.host}:{args.port} "
            "gets a dashboard",
            file=sys.stderr,
        )
    room = Classroom(token, args.max_sessions, args.data_dir)
    try:
        import textual_serve  # noqa: F401 - only to say what is missing, before serving
    except ImportError:
        return fail(
            parser.prog,
            "serving needs textual-serve: pip install 'micrograd-tui[serve]', or make serve",
        )
    try:
        return serve(app_argv, args.host, args.port, room)
    except OSError as err:  # the port is taken, the host is not ours
        # asyncio's words end in the reason: "error while attempting to bind ...: <reason>"
        reason = str(err.strerror or err).rsplit(": ", 1)[-1]
        return fail(parser.prog, f"cannot listen on {args.host}:{args.port}: {reason}")


def quiz_args(argv: list[str]) -> argparse.Namespace:
    """``quiz``'s flags (a mistake: one line, exit 2); ``--answers`` prints the key here."""
    from tui.cli.quiz import DEFAULT_ROUNDS, MAX_ROUNDS, answer_key, rounds

    parser = Parser(
        prog=f"{PROG} quiz",
        description="Diagnose it: each round hides no bug or one of the six in a run; "
        "name it from what the panes show.",
    )
    parser.add_argument(
        "--seed",
        type=whole_number("--seed", allow_zero=True),
        default=0,
        metavar="N",
        help="chooses the rounds: the same seed, the same rounds (default 0)",
    )
    parser.add_argument(
        "--rounds",
        type=whole_number("--rounds", high=MAX_ROUNDS),
        default=DEFAULT_ROUNDS,
        metavar="K",
        help=f"rounds to play (default {DEFAULT_ROUNDS})",
    )
    parser.add_argument(
        "--answers",
        action="store_true",
        help="print the answer key, one line per round, without opening the app",
    )
    args = parser.parse_args(argv)
    if args.answers:
        sys.stdout.write(answer_key(rounds(args.seed, args.rounds)))
    return args


def _export_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
        _, session = load(parser.prog, args)
        source = f"the run saved in {args.load}"
    else:
        session = configure(parser.prog, args).build_session()
        source = f"`{PROG} export {shlex.join(argv)}`"
    _writable(parser.prog, args.torch, allow_stdout=False)
    for _ in range(args.steps if session.diverged_at is None else 0):
        if session.step().diverged:
            break
    try:
        written, step = export_torch(args.torch, session, source)
    except (ExportRefused, SessionFileError) as err:
        return fail(parser.prog, f"cannot export: {err}")
    print(f"wrote {written}: the run at step {step}, in PyTorch")
    note = bug_note(session.snapshot())
    if note:
        print(f"note: {note}")
    print(f"run it: python {args.torch} --steps 100  (prints steps {step + 1} to {step + 100})")
    return 0


def _writable(prog: str, *paths: str | None, allow_stdout: bool = True) -> None:
    """Refuse, before training, to write where it cannot succeed."""
    for path in paths:
        problem = None if path is None else check_writable(path, allow_stdout)
        if problem:
            raise SystemExit(fail(prog, f"cannot write {problem}"))


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


def run(argv: list[str]) -> int:
    """Run the headless command ``argv[0]`` (one of ``HEADLESS``) with the rest of ``argv``."""
    if argv[:1] == ["train"]:
        from tui.cli.train import train

        parser = _train_parser()
        args = parser.parse_args(argv[1:])
        if args.from_step is not None and args.load is None:
            return fail(
                parser.prog, "--from-step: needs --load FILE.json (a saved run to go back in)"
            )
        if args.load is not None:
            config, session = load(parser.prog, args, args.from_step)
        else:
            config = configure(parser.prog, args)
            session = config.build_session()
        to_stdout = [p for p in (args.save, args.history_csv) if p and is_standard_output(p)]
        if len(to_stdout) == 2:
            return fail(
                parser.prog, "--save and --history-csv cannot both write to standard output"
            )
        _writable(parser.prog, args.save, args.history_csv)
        if args.gradcheck:
            problem = budget.gradcheck_problem(session.nin, session.config.hidden, len(session.xs))
            if problem:
                return fail(parser.prog, f"--gradcheck: {problem}")
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
                health=args.health,
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
            return fail(parser.prog, problem)
        return code

    if argv[:1] == ["export"]:
        return _export(argv[1:])
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])

    if argv[:1] == ["graph"]:
        from tui.cli.graph import graph_main, graph_parser

        parser = graph_parser()
        return graph_main(argv[1:], parser)
    raise ValueError(f"not a headless command: {argv[:1]}")


def dashboard_run(argv: list[str]) -> tuple[RunConfig, TrainingSession | None]:
    """The dashboard's flags: its run's config, and the session when ``--load`` gave one.

    A mistake exits (SystemExit 2) with one line, before any UI starts."""
    parser = _app_parser()
    args = parser.parse_args(argv)
    if args.load is not None:
        return load(parser.prog, args)
    return configure(parser.prog, args), None
