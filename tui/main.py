"""``micrograd-tui``: the one command. Headless commands go to ``tui/cli`` (no Textual);
anything else is the dashboard (``tui/dashboard``). This module is the only one that
imports both."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui import shadowing


def entry() -> int:
    """The installed command (and ``python -m tui``): first check that engine, datasets and
    tui are ours (``tui/shadowing.py``), before importing them; then ``main``."""
    problem = shadowing.shadowed()
    if problem:
        print(f"micrograd-tui: error: {problem}; {shadowing.INSTALL_HINT}", file=sys.stderr)
        return 2
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from tui.cli import commands

    if argv[:1] and argv[0] in commands.HEADLESS:
        return commands.run(argv)
    quiz = None
    if argv[:1] == ["quiz"]:
        args = commands.quiz_args(argv[1:])
        if args.answers:
            return 0
        from tui.cli.quiz import Game, rounds

        quiz = (Game(rounds(args.seed, args.rounds)), args.seed)
        config, session = quiz[0].current.run_config(), None
    else:
        config, session = commands.dashboard_run(argv)
    from tui.dashboard.app import MicrogradApp

    MicrogradApp(config, session, freeze_gc=True, quiz=quiz).run()
    return 0


if __name__ == "__main__":
    sys.exit(entry())
