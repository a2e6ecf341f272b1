"""Headless training: the dashboard's session code, printing instead of drawing."""

from __future__ import annotations

import json
import math
import sys
import time
from typing import TextIO

from engine.session import StepResult
from tui.config import RunConfig


def _json_number(x: float) -> float | str | None:
    """JSON has no inf/nan: write them as strings, keep finite floats exact."""
    if math.isfinite(x):
        return x
    return str(x)


def progress_line(result: StepResult, steps: int) -> str:
    width = len(str(steps))
    return (
        f"step {result.step:>{width}}  loss {result.loss:.6g}  accuracy {result.accuracy:6.1%}  "
        f"|grad| {result.grad_norm:.4g}  |w| {result.weight_norm:.4g}  lr {result.lr:.4g}"
    )


def train(config: RunConfig, steps: int, as_json: bool = False, out: TextIO | None = None) -> int:
    """Run ``steps`` updates; exit code 0, or 1 if the loss diverged."""
    out = out or sys.stdout
    session = config.build_session()
    every = max(1, steps // 10)
    if not as_json:
        cfg = session.config
        print(
            f"training on {config.data_label} ({len(session.xs)} samples): "
            f"MLP({session.nin}, {list(cfg.hidden) + [1]}) {cfg.activation}, loss {cfg.loss}, "
            f"lr {cfg.schedule.describe()}, seed {cfg.seed}"
            + (f", bugs: {', '.join(sorted(session.bugs))}" if session.bugs else ""),
            file=out,
        )
    start = time.perf_counter()
    last: StepResult | None = None
    for _ in range(steps):
        last = session.step()
        if as_json:
            record = {
                "step": last.step,
                "loss": _json_number(last.loss),
                "accuracy": last.accuracy,
                "grad_norm": _json_number(last.grad_norm),
                "weight_norm": _json_number(last.weight_norm),
            }
            print(json.dumps(record), file=out)
        elif last.step % every == 0 or last.step == 1 or last.diverged:
            print(progress_line(last, steps), file=out)
        if last.diverged:
            break
    elapsed = time.perf_counter() - start
    done = session.step_count
    rate = done / elapsed if elapsed > 0 and done else 0.0
    if last is None:
        loss, acc = session.evaluate()
    else:
        loss, acc = last.loss, last.accuracy
    diverged_at = session.diverged_at
    if as_json:
        summary = {
            "summary": True,
            "steps": done,
            "loss": _json_number(loss),
            "accuracy": acc,
            "steps_per_s": rate,
            "diverged_at": diverged_at,
        }
        print(json.dumps(summary), file=out)
    else:
        print(
            f"done: {done} steps in {elapsed:.2f} s ({rate:,.0f} steps/s)  "
            f"loss {loss:.6g}  accuracy {acc:.1%}",
            file=out,
        )
        if diverged_at is not None:
            print(f"{session.snapshot().diverged_reason}; try a lower --lr", file=out)
    return 1 if diverged_at is not None else 0
