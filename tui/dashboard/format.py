"""How numbers look on screen: fixed widths, colours for sign and size."""

from __future__ import annotations

import math

POSITIVE = "#4fa3ff"  # blue: pushes up
NEGATIVE = "#ff7a45"  # orange: pushes down
BAD = "bold white on #b00020"
BARS = " ▁▂▃▄▅▆▇█"
# The colour of a neuron's health mark (engine.training.health.MARKS), by its state.
HEALTH = {"dead": "bold #f85149", "saturated": "bold #e3b341"}


def number(value: float, width: int = 7) -> str:
    """A signed number in exactly ``width`` characters."""
    if math.isnan(value):
        text = "nan"
    elif math.isinf(value):
        text = "+inf" if value > 0 else "-inf"
    else:
        text = f"{value:+.{max(width - 3, 1)}f}"
        if value != 0 and float(text) == 0:
            # Too small for fixed point ("+0.00"): keep its digits in a short exponent.
            short = _short_exponent(value, width)
            text = short if len(short) <= width else text
        elif len(text) > width:
            for digits in range(width - 3, -1, -1):
                text = f"{value:+.{digits}f}"
                if len(text) <= width:
                    break
            if len(text) > width:
                text = f"{value:+.{max(width - 7, 0)}e}"
    return text.rjust(width)


def _short_exponent(value: float, width: int) -> str:
    """``+1.2e-5`` style, the exponent without its zero padding, in at most ``width``."""
    for digits in range(max(width - 6, 0), -1, -1):
        mantissa, exponent = f"{value:+.{digits}e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
        if len(text) <= width:
            return text
    return text


def sign_colour(value: float) -> str:
    return POSITIVE if value >= 0 else NEGATIVE


def blend(colour: str, strength: float, background: tuple[int, int, int] = (30, 30, 30)) -> str:
    """``colour`` faded toward the background; strength 0..1."""
    strength = min(max(strength, 0.0), 1.0)
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(bg + (c - bg) * (0.15 + 0.85 * strength)) for c, bg in zip((r, g, b), background)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def bar(fraction: float) -> str:
    """One block character whose height shows 0..1."""
    if not math.isfinite(fraction):
        return "!"
    fraction = min(max(fraction, 0.0), 1.0)
    return BARS[round(fraction * (len(BARS) - 1))]


def is_bad(value: float, explode: float = 1e3) -> bool:
    """Non-finite, or large enough to mean the run is blowing up."""
    return not math.isfinite(value) or abs(value) > explode


def short(value: float) -> str:
    """A compact number for status lines."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3e}"
    return f"{value:.4g}"


def thin(values, buckets: int) -> list[tuple[int, float]]:
    """At most two points per bucket (its min and max), as (index, value) in order.

    Keeps spikes visible however long the history grows.
    """
    n = len(values)
    if n <= 2 * buckets or buckets <= 0:
        return list(enumerate(values))
    out: list[tuple[int, float]] = []
    size = n / buckets
    for b in range(buckets):
        lo, hi = int(b * size), max(int((b + 1) * size), int(b * size) + 1)
        chunk = [(i, values[i]) for i in range(lo, min(hi, n)) if math.isfinite(values[i])]
        if not chunk:
            continue
        small = min(chunk, key=lambda p: p[1])
        large = max(chunk, key=lambda p: p[1])
        out.extend(sorted({small, large}))
    return out


def thin_log(steps, values, buckets: int) -> list[tuple[int, float]]:
    """Like ``thin``, but the buckets are even in log(step): early steps stay whole.

    ``steps[i]`` is the step of ``values[i]`` (increasing, from 1). On a log step
    axis steps 1 to 20 take as much room as 1,000 to 20,000, so each early step
    gets a bucket of its own and a long run's later steps share theirs.
    """
    n = len(values)
    if n <= 2 * buckets or buckets <= 0:
        return list(enumerate(values))
    top = math.log(max(steps[-1], 2))
    groups: dict[int, list[tuple[int, float]]] = {}
    for i in range(n):
        if math.isfinite(values[i]):
            column = min(int(math.log(steps[i]) / top * buckets), buckets - 1)
            groups.setdefault(column, []).append((i, values[i]))
    out: list[tuple[int, float]] = []
    for column in sorted(groups):
        chunk = groups[column]
        small = min(chunk, key=lambda p: p[1])
        large = max(chunk, key=lambda p: p[1])
        out.extend(sorted({small, large}))
    return out


def sparkline(values, width: int) -> str:
    """The whole history as block characters on a log scale (norms span decades).

    0 is the flat baseline (▁), positive values rise above it; only a
    non-finite value (inf, nan) gets the distinct mark ``!``.
    """
    if width <= 0 or not values:
        return ""
    points = [v for _, v in thin(values, max(width // 2, 1))][-width:]
    logs = [math.log10(v) if math.isfinite(v) and v > 0 else None for v in points]
    finite = [v for v in logs if v is not None]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    span = (high - low) or 1.0
    return "".join(
        BARS[2 + round((v - low) / span * (len(BARS) - 3))]
        if v is not None
        else (BARS[1] if math.isfinite(points[i]) else "!")
        for i, v in enumerate(logs)
    )
