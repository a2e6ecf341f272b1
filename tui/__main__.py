import sys

from tui.main import entry

sys.exit(entry())
