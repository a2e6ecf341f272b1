"""How fast the run trains (the speeds ``s`` cycles through) and how often frames are drawn."""

from __future__ import annotations

SPEEDS: tuple[float | None, ...] = (None, 20.0, 5.0, 1.0)  # steps/s; None: as fast as it goes
# What r starts at: slow enough to watch the loss fall on small data (the tutorial's
# clean loss falls below 0.03 within 30 steps: a second and a half), a cap that a large
# net below it never feels. f switches to full speed and back.
DEFAULT_SPEED = 20.0


def speed_label(speed: float | None, unit: str = "/s") -> str:
    """``max`` or ``20/s``: as the status bar and the notices say it."""
    return "max" if speed is None else f"{speed:g}{unit}"
