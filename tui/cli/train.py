"""Headless training: the dashboard's session code, printing instead of drawing."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from engine.inspect.gradcheck import PASS_THRESHOLD, GradCheckResult
from engine.nn import neuron_name, parameter_names
from engine.persist.session_file import json_ready
from engine.training.health import (
    GROWTH,
    GROWTH_STEPS,
    SATURATION,
    VANISHING,
    HealthLog,
)
from engine.training.records import StepResult
from engine.training.session import TrainingSession
from tui.cli.config import RunConfig


def progress_line(
    result: StepResult, steps: int, extra: dict[str, float], batched: bool = False
) -> str:
    width = len(str(steps))
    what = "batch loss" if batched else "loss"
    line = (
        f"step {result.step:>{width}}  {what} {result.loss:.6g}  "
        f"accuracy {result.accuracy:6.1%}  "
        f"|grad| {result.grad_norm:.4g}  |w| {result.weight_norm:.4g}  lr {result.lr:.4g}"
    )
    return line + _extras_text(extra, accuracy_width=6)


def _extras_text(extra: dict[str, float], accuracy_width: int = 0) -> str:
    """The test metrics and twin loss of ``_extras``, as the tail of a line."""
    text = ""
    if "full_loss" in extra:
        text += f"  loss on all samples {extra['full_loss']:.6g}"
    if "test_loss" in extra:
        accuracy = f"{extra['test_accuracy']:{accuracy_width or ''}.1%}"
        text += f"  test loss {extra['test_loss']:.6g}  test accuracy {accuracy}"
    if "twin_loss" in extra:
        text += f"  clean twin loss {extra['twin_loss']:.6g}"
    return text


def _extras(session: TrainingSession, twin: bool) -> dict[str, float]:
    """Test-set metrics (with a split) and the clean twin's loss (with --twin and a bug on)."""
    extra: dict[str, float] = {}
    if not math.isnan(session.full_loss):
        extra["full_loss"] = session.full_loss
    if session.test_xs:
        extra["test_loss"], extra["test_accuracy"] = session.test_metrics
    if twin and session.twin_loss is not None:
        extra["twin_loss"] = session.twin_loss
    return extra


def gradcheck_report(
    result: GradCheckResult, step: int, names: Sequence[str], worst: int = 5
) -> str:
    """The verdict, then the worst parameters by the dashboard's names for them."""
    verdict = "PASS" if result.passed else "FAIL"
    scope = (
        f"{len(result.checks)} of {result.total_parameters} parameters, chosen at random"
        if result.is_subset
        else f"all {result.total_parameters} parameters"
    )
    lines = [
        (
            f"gradient check at step {step}: {verdict}, max relative error "
            f"{result.max_rel_error:.3g} (pass below {PASS_THRESHOLD:g}) over {scope}"
        )
    ]
    if not result.passed:
        shown = sorted(result.checks, key=lambda c: -c.rel_error)[:worst]
        width = max(len(names[c.index]) for c in shown)
        lines.append(f"  worst: {'parameter':<{width}}  numerical      backprop       rel. error")
        for check in shown:
            lines.append(
                f"         {names[check.index]:<{width}}  {check.numerical:+.6e}  "
                f"{check.backprop:+.6e}  {check.rel_error:.3g}"
            )
    return "\n".join(lines)


def gradcheck_record(result: GradCheckResult) -> dict:
    return {
        "passed": result.passed,
        "max_rel_error": json_ready(result.max_rel_error),
        "max_abs_error": json_ready(result.max_abs_error),
        "checked": len(result.checks),
        "parameters": result.total_parameters,
    }


class HealthWatch:
    """Each step's health (``--health``): since when each neuron is unhealthy, and
    which steps' gradients exploded or vanished."""

    def __init__(self, session: TrainingSession) -> None:
        self.first = session.step_count
        self.log = HealthLog()
        self.exploding: list[int] = []
        self.vanishing: list[int] = []
        self.add(session)

    def add(self, session: TrainingSession) -> None:
        health = session.health()
        self.log.add(health)
        if health.exploding:
            self.exploding.append(health.step)
        if health.vanishing:
            self.vanishing.append(health.step)

    def record(self) -> dict:
        """The summary's ``health`` entry (--json)."""
        return {
            "unhealthy": [
                {
                    "neuron": neuron_name(*neuron),
                    "layer": neuron[0] + 1,
                    "index": neuron[1] + 1,
                    "state": state,
                    "since": since,
                }
                for neuron, state, since in self.log.unhealthy()
            ],
            "exploding_steps": self.exploding,
            "vanishing_steps": self.vanishing,
        }

    def report(self, step: int, activation: str) -> str:
        """The neurons unhealthy at ``step``, each with the step it became so; the gradients."""
        unhealthy = self.log.unhealthy()
        loaded = " or before (the run was loaded there)" if self.first else ""
        if not unhealthy:
            lines = [f"health at step {step}: no dead or saturated neuron"]
        else:
            counts = {}
            for _, state, _ in unhealthy:
                counts[state] = counts.get(state, 0) + 1
            lines = [f"health at step {step}: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
            width = max(len(neuron_name(*neuron)) for neuron, _, _ in unhealthy)
            for neuron, state, since in unhealthy:
                early = loaded if since == self.first else ""
                lines.append(
                    f"  {neuron_name(*neuron):<{width}}  {state} since step {since}{early}"
                )
            lines.append("  " + _meaning(activation))
        for word, steps, rule in (
            ("exploding", self.exploding, f"|grad| grew over {GROWTH:g}× in {GROWTH_STEPS} steps"),
            ("vanishing", self.vanishing, f"layer 1's |grad| under {VANISHING:g} of the last's"),
        ):
            if steps:
                lines.append(
                    f"gradients {word} ({rule}) at {_plural(len(steps), 'step')}: {_spans(steps)}"
                )
        return "\n".join(lines)


def _meaning(activation: str) -> str:
    """What the marks mean, for this net's activation."""
    if activation == "relu":
        return (
            "dead: output 0 on every training point, so no point sends a gradient "
            "through it (its weights learn nothing from the data)"
        )
    if activation == "tanh":
        return (
            f"saturated: |t| > {SATURATION:g} on every training point, so its local "
            "gradient 1 - t² is under 0.02 there and it learns slowly"
        )
    return (
        "saturated: within 0.01 of 0 or 1 on every training point, so its local "
        "gradient t(1 - t) is under 0.01 there and it learns slowly"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _spans(steps: list[int], most: int = 6) -> str:
    """ "3-9, 14, 20-22": runs of consecutive steps, the first ``most`` of them."""
    spans: list[list[int]] = []
    for step in steps:
        if spans and step == spans[-1][1] + 1:
            spans[-1][1] = step
        else:
            spans.append([step, step])
    text = [f"{a}-{b}" if b > a else f"{a}" for a, b in spans[:most]]
    if len(spans) > most:
        text.append("...")
    return ", ".join(text)


def train(
    config: RunConfig,
    steps: int,
    as_json: bool = False,
    out: TextIO | None = None,
    twin: bool = False,
    gradcheck: bool = False,
    session: TrainingSession | None = None,
    resumed_from: str | None = None,
    health: bool = False,
) -> int:
    """Run ``steps`` updates; exit code 0, or 1 if the loss diverged.

    ``session``: train this one (e.g. loaded from ``resumed_from``) instead of
    a new one built from ``config``. ``--json`` lines carry each step's dead and
    saturated counts (at the weights after its update); ``health``: after training,
    each unhealthy neuron and the step it became so.
    """
    out = out or sys.stdout
    if session is None:
        session = config.build_session()
    first = session.step_count
    every = max(1, steps // 10)
    if not as_json:
        cfg = session.config
        held_out = f", {len(session.test_xs)} held out" if session.test_xs else ""
        doing = f"resuming {resumed_from} at step {first}" if resumed_from else "training"
        print(
            f"{doing} on {config.data_label} ({len(session.xs)} samples{held_out}): "
            f"MLP({session.nin}, {list(cfg.hidden) + [1]}) {cfg.activation}, loss {cfg.loss}, "
            f"lr {cfg.schedule.describe()}, seed {cfg.seed}"
            + (f", batches of {cfg.batch_size}" if session.batch(0) is not None else "")
            + (f", bugs: {', '.join(sorted(session.bugs))}" if session.bugs else ""),
            file=out,
        )
        ghost = session.ghost
        if resumed_from and ghost is not None and ghost.steps:
            first_lost, last_lost = ghost.steps[0], ghost.last_step
            lost = (
                f"steps {first_lost} to {last_lost}"
                if last_lost > first_lost
                else f"step {last_lost}"
            )
            print(
                f"the ghost: {lost}, the future the branch at step {ghost.branch_step} left "
                "(a --save keeps it)",
                file=out,
            )
    if twin and not session.bugs:
        # On stderr too with --json, so the JSON lines stay clean.
        print(
            "--twin: no bug is on, so there is no clean twin to compare with",
            file=sys.stderr if as_json else out,
        )
    batched = session.batch(0) is not None
    watch = HealthWatch(session) if health else None
    start = time.perf_counter()
    last: StepResult | None = None
    extra: dict[str, float] = {}
    # A loaded run may have diverged already: it takes no step, and says why below.
    for _ in range(steps if session.diverged_at is None else 0):
        last = session.step()
        extra = _extras(session, twin)
        if watch is not None:
            watch.add(session)
        if as_json:
            now = session.health()  # at the weights after this step's update
            record = {
                "step": last.step,
                "loss": json_ready(last.loss),
                "accuracy": last.accuracy,
                "grad_norm": json_ready(last.grad_norm),
                "weight_norm": json_ready(last.weight_norm),
                "lr": last.lr,
                "dead": len(now.dead),
                "saturated": len(now.saturated),
                "exploding": now.exploding,
                "vanishing": now.vanishing,
            }
            record.update({k: json_ready(v) for k, v in extra.items()})
            print(json.dumps(record), file=out)
        elif last.step % every == 0 or last.step == first + 1 or last.diverged:
            print(progress_line(last, first + steps, extra, batched), file=out)
        if last.diverged:
            break
    elapsed = time.perf_counter() - start
    done = session.step_count
    taken = done - first
    rate = taken / elapsed if elapsed > 0 and taken else 0.0
    if last is None:
        loss, acc = session.evaluate()
    else:
        loss, acc = last.loss, last.accuracy
    diverged_at = session.diverged_at
    check = None
    if gradcheck and diverged_at is not None:
        # Finite differences of an inf/NaN loss say nothing about the gradients.
        print(
            "--gradcheck: skipped, the run diverged (its loss is not finite)",
            file=sys.stderr if as_json else out,
        )
    elif gradcheck:
        check = session.passes.gradcheck()
    if as_json:
        summary = {
            "summary": True,
            "steps": done,
            "loss": json_ready(loss),
            "accuracy": acc,
            "steps_per_s": rate,
            "diverged_at": diverged_at,
        }
        summary.update({k: json_ready(v) for k, v in extra.items()})
        if check is not None:
            summary["gradcheck"] = gradcheck_record(check)
        if watch is not None:
            summary["health"] = watch.record()
        print(json.dumps(summary), file=out)
    else:
        tail = _extras_text(extra)
        whole = f", {done} in all" if first else ""
        print(
            f"done: {taken} steps in {elapsed:.2f} s ({rate:,.0f} steps/s){whole}  "
            f"loss {loss:.6g}  accuracy {acc:.1%}{tail}",
            file=out,
        )
        if diverged_at is not None:
            print(f"{session.diverged_reason}; try a lower --lr", file=out)
        if check is not None:
            sizes = (session.nin, *session.config.hidden, 1)
            print(gradcheck_report(check, done, parameter_names(sizes)), file=out)
        if watch is not None:
            print(watch.report(done, session.config.activation), file=out)
    return 1 if diverged_at is not None else 0
