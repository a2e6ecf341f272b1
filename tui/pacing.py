"""How fast the run trains (the speeds ``s`` cycles through) and how often frames are drawn."""

from __future__ import annotations

SPEEDS: tuple[float | None, ...] = (None, 20.0, 5.0, 1.0)  # steps/s; None: as fast as it goes


def speed_label(speed: float | None, unit: str = "/s") -> str:
    """``max`` or ``20/s``: as the status bar and the notices say it."""
    return "max" if speed is None else f"{speed:g}{unit}"
