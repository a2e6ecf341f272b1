"""micrograd-tui: the command (main.py), the headless commands (cli/), the dashboard."""

__owner__ = "micrograd-tui"  # whose package this is (tui/shadowing.py checks it)
