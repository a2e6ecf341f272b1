"""The headless commands (``train``, ``graph``, ``export``, ``serve``'s server) and the run flags.

Nothing here imports Textual or ``tui.dashboard``; a test runs the commands and checks.
"""
