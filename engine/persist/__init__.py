"""Files: the one careful writer and bounded reader (``files``), and session files."""
