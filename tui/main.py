"""``micrograd-tui``: the one command. Headless commands go to ``tui/cli`` (no Textual);
anything else is the dashboard (``tui/dashboard``). This module is the only one that
imports both."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui.cli import commands


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in commands.HEADLESS:
        return commands.run(argv)
    config, session = commands.dashboard_run(argv)
    from tui.dashboard.app import MicrogradApp

    MicrogradApp(config, session, freeze_gc=True).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
