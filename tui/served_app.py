"""A served app, one per browser tab: ``python -m tui.served_app FLAGS`` (``tui/cli/serve.py``
starts it). It ties itself to the server that started it, then runs the dashboard."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine.training import timeline
from tui.cli import classroom
from tui.cli.serve import die_with_the_server
from tui.main import main as dashboard_main


def main(argv: Sequence[str] | None = None) -> int:
    die_with_the_server()
    timeline.BUDGET = timeline.SERVED_BUDGET  # time travel's checkpoints, per tab
    classroom.tab_folder()  # this tab's own folder, from its start (removed at exit)
    return dashboard_main(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
