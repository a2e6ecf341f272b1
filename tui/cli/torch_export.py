"""A run, continued in PyTorch: write a standalone script that trains on from where it is.

The lecture ends by building the same neuron in PyTorch. ``torch_script()``
does that for a learner's own run: the script defines the same MLP as a
``torch.nn.Module`` in float64, sets the run's current weights, data, loss
(with L2), learning-rate schedule and step count, and trains with a plain
PyTorch loop. Its lines, ``{"step": n, "loss": x}`` numbered as the run goes
on, compare directly with ``micrograd-tui train --json``.

Matching the engine to a relative 1e-9 over 100 steps needs the same
operations, not just the same maths:

* Every score is ``act(b + w·x)`` in float64 (a ``Value`` is a Python float).
* ``mse`` and the hinge are means; ``sse`` is a sum; L2 adds ``alpha * sum(p**2)``.
* Cross-entropy is ``softplus(-y * score)`` written as in ``engine/losses.py``,
  so that neither branch overflows. ``torch.nn.functional.softplus`` would
  not do: above its threshold (20) it returns ``z`` itself, a relative
  error of about 2e-9 in that sample's loss.
* The rate of update ``k`` (counted from 0) is ``Schedule.at(k)``:
  ``start + (end - start) * min(k, steps) / steps``, or constant.
* ``torch.optim.SGD``'s weight decay adds ``wd * p`` to the gradient, which
  is our ``p -= lr * wd * p`` before ``p -= lr * grad`` up to rounding.

PyTorch has none of our injectable bugs, so a run with a bug on exports its
weights to be trained clean from here (``bug_note()`` says so). A diverged
run cannot be continued: ``ExportRefused`` says why.

No Textual and no torch here: this only writes text.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from collections.abc import Sequence

from engine.losses import LOSS_TITLES
from engine.training.records import Snapshot

# The loss of each kind, as the script writes it: (docstring, body).
_LOSS_CODE = {
    "sse": (
        "Sum of squared errors (the lecture's): sum((score - y)**2).",
        "return ((scores - targets) ** 2).sum()",
    ),
    "mse": (
        "Mean squared error: mean((score - y)**2).",
        "return ((scores - targets) ** 2).mean()",
    ),
    "hinge": (
        "Max-margin hinge (micrograd's demo): mean(relu(1 - y * score)).",
        "return torch.relu(1 - targets * scores).mean()",
    ),
    "bce": (
        "Binary cross-entropy on logits with ±1 targets: mean(log(1 + e^(-y * score))).",
        # log(1 + e^z) as engine/losses.py writes it: z + log(1 + e^-z) for z > 0,
        # log(1 + e^z) otherwise; max(z, 0) and -|z| pick the branch without overflow.
        (
            "z = -targets * scores\n"
            "    return (z.clamp(min=0) + torch.log(1 + torch.exp(-z.abs()))).mean()"
        ),
    ),
}


class ExportRefused(ValueError):
    """The run cannot be continued in PyTorch; the message says why."""


def refusal(snap: Snapshot) -> str | None:
    """Why this run cannot be exported (it diverged, its weights overflowed), or None."""
    if snap.diverged_reason is not None:
        return (
            f"the run {snap.diverged_reason}, so there is nothing to continue; "
            "export it before it diverges, or with a lower --lr"
        )
    if not all(math.isfinite(p) for p in snap.parameters):
        return f"the weights at step {snap.step} are not all finite numbers"
    batch = snap.config.batch_size
    if batch is not None and batch < len(snap.targets):
        return (
            f"the run trains on batches of {batch} and the script on every point: "
            "export a run without --batch-size"
        )
    return None


def bug_note(snap: Snapshot) -> str | None:
    """What a learner must know when bugs are on: the script trains the weights clean."""
    if not snap.bugs:
        return None
    names = ", ".join(sorted(snap.bugs))
    plural = "s" if len(snap.bugs) > 1 else ""
    return (
        f"this run has bug{plural} {names} on: PyTorch has no such bug, so the script "
        f"trains these weights clean; its losses follow this run with the bug{plural} "
        "switched off"
    )


def _floats(values: Sequence[float]) -> str:
    """``[0.1, -2.0]``: each float written so that Python reads back the same bits."""
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def _rows(rows: Sequence[Sequence[float]], indent: str) -> str:
    """A list of rows, one row per line."""
    if not rows:
        return "[]"
    inner = "".join(f"{indent}    {_floats(row)},\n" for row in rows)
    return f"[\n{inner}{indent}]"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=88, break_on_hyphens=False, break_long_words=False)


def _learning_rate_code(start: float, end: float | None, steps: int) -> str:
    if end is None or steps <= 0:
        return (
            f"LR = {start!r}  # constant\n\n\n"
            "def learning_rate(step):\n"
            '    """The rate of update number `step` (from 0): constant."""\n'
            "    return LR\n"
        )
    return (
        f"LR_START, LR_END, LR_STEPS = {start!r}, {end!r}, {steps}\n\n\n"
        "def learning_rate(step):\n"
        '    """The rate of update number `step` (from 0): LR_START to LR_END, linearly,\n'
        '    over the first LR_STEPS updates, then LR_END."""\n'
        "    progress = min(step, LR_STEPS) / LR_STEPS\n"
        "    return LR_START + (LR_END - LR_START) * progress\n"
    )


def torch_script(snap: Snapshot, source: str, file_name: str = "model.py") -> str:
    """The Python source of a script that continues the run of ``snap`` in PyTorch.

    ``source`` says where the run came from (flags or a saved file), for the
    script's docstring. ExportRefused if the run cannot be continued.
    """
    problem = refusal(snap)
    if problem:
        raise ExportRefused(problem)
    cfg = snap.config
    schedule = cfg.schedule  # the session keeps it equal to its optimizer's, --lr changes too
    sizes = list(snap.layer_sizes)
    output_activation = cfg.output_activation or ("tanh" if cfg.activation == "tanh" else "linear")
    step = snap.step
    loss_doc, loss_body = _LOSS_CODE[cfg.loss]
    note = bug_note(snap)
    bug_paragraph = f"\n{_paragraph(f'Note: {note}.')}\n" if note else ""
    l2_text = f" + L2 {cfg.l2!r} * sum(p**2)" if cfg.l2 else ""
    layers = "".join(
        f"    (  # layer {i}: {_count(len(bias), 'neuron')} of {_count(len(weight[0]), 'input')}\n"
        f"        {_rows(weight, '        ')},\n"
        f"        {_floats(bias)},\n"
        "    ),\n"
        for i, (weight, bias) in enumerate(zip(snap.weights, snap.biases), start=1)
    )
    steps_after = f"{step + 1}, {step + 2}, ..."
    history = snap.history
    first_loss = repr(history.loss[0]) if step else "None"
    assert not step or history.steps[0] == 1, "the history always keeps step 1"
    constants = ""
    l2_function = l2_term = decay_arg = ""
    if cfg.l2:
        constants += f"L2 = {cfg.l2!r}  # L2 * sum(p**2) is added to the loss\n"
        l2_function = (
            "def l2_penalty(model):\n"
            "    return L2 * sum((p * p).sum() for p in model.parameters())\n\n\n"
        )
        l2_term = " + l2_penalty(model)"
    if cfg.weight_decay:
        constants += (
            f"WEIGHT_DECAY = {cfg.weight_decay!r}  # SGD shrinks each weight by lr * this\n"
        )
        decay_arg = ", weight_decay=WEIGHT_DECAY"
    data_text = f"the run's {len(snap.inputs)} training samples"
    if snap.test_inputs:
        data_text += f" (its {len(snap.test_inputs)} held-out samples are not used)"
    decay_text = f"; weight decay {cfg.weight_decay!r}" if cfg.weight_decay else ""
    return f'''#!/usr/bin/env python3
"""A micrograd-tui run, continued in PyTorch.

{_paragraph(f"Exported by micrograd-tui from {source}, at step {step}.")}
Model: MLP({sizes[0]}, {sizes[1:]}), {cfg.activation} hidden layers, {output_activation} output.
Loss: {LOSS_TITLES[cfg.loss]}{l2_text}.
Learning rate: {schedule.describe()}{decay_text}.
Data: {data_text}.
{bug_paragraph}
Needs only PyTorch (pip install torch). Run it:

    python {file_name} --steps 100

It prints one JSON object per step, {{"step": n, "loss": x}}, numbered as the run
continues ({steps_after}): each line compares with the same step of
`micrograd-tui train --json` run for {step} + 100 steps.
"""

import argparse
import json
import math
import sys

import torch

# micrograd's Value holds a Python float: 64 bits, so the tensors do too.
torch.set_default_dtype(torch.float64)

STEPS_DONE = {step}  # updates the run had taken when it was exported
SIZES = {sizes}  # inputs, hidden layers, one output
HIDDEN_ACTIVATION = {json.dumps(cfg.activation)}
OUTPUT_ACTIVATION = {json.dumps(output_activation)}
{constants}{_learning_rate_code(schedule.start, schedule.end, schedule.steps)}

# The training data: one row of features per sample, and its target, +1 or -1.
X = torch.tensor({_rows(snap.inputs, "")})
Y = torch.tensor({_floats(snap.targets)})

# The weights at step {step}, layer by layer: weight[neuron][input], then bias[neuron].
WEIGHTS = [
{layers}]

# micrograd-tui stops a run that blows up (engine/training/divergence.py): the same rule here.
BLOW_UP = 1e6
FIRST_LOSS = {first_loss}  # the loss of the run's step 1 (None: this script takes step 1)


def blow_up(loss, first_loss, largest_parameter):
    """Why a run with these numbers has diverged, or None if it has not."""
    if not math.isfinite(loss):
        return f"the loss became {{loss}}"
    if first_loss > 0 and loss > BLOW_UP * first_loss:
        return f"the loss {{loss:.3g}} is over 10^6 times step 1's ({{first_loss:.3g}})"
    if not largest_parameter <= BLOW_UP:  # nan too
        return f"a parameter reached {{largest_parameter:.3g}} (over 10^6 in size)"
    return None


ACTIVATIONS = {{
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}}


class MLP(torch.nn.Module):
    """micrograd's MLP: each layer computes act(b + w·x) for each of its neurons."""

    def __init__(self, sizes, activation, output_activation):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(nin, nout) for nin, nout in zip(sizes, sizes[1:])
        )
        self.activations = [activation] * (len(self.layers) - 1) + [output_activation]

    def forward(self, x):
        for layer, activation in zip(self.layers, self.activations):
            x = ACTIVATIONS[activation](layer(x))
        return x.squeeze(-1)  # one score per sample


def data_loss(scores, targets):
    """{loss_doc}"""
    {loss_body}


{l2_function}
def main():
    parser = argparse.ArgumentParser(description="Continue the exported run in PyTorch.")
    parser.add_argument("--steps", type=int, default=100, help="updates to run (default 100)")
    args = parser.parse_args()
    if args.steps < 0:
        parser.error(f"--steps: must be >= 0, got {{args.steps}}")

    model = MLP(SIZES, HIDDEN_ACTIVATION, OUTPUT_ACTIVATION)
    with torch.no_grad():
        for layer, (weight, bias) in zip(model.layers, WEIGHTS):
            layer.weight.copy_(torch.tensor(weight))
            layer.bias.copy_(torch.tensor(bias))
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate(STEPS_DONE){decay_arg})

    first_loss = FIRST_LOSS
    for step in range(STEPS_DONE, STEPS_DONE + args.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step)
        optimizer.zero_grad()
        loss = data_loss(model(X), Y){l2_term}
        loss.backward()
        if first_loss is None:
            first_loss = loss.item()
        reason = blow_up(loss.item(), first_loss, 0.0)
        if reason is None:  # else keep the weights that produced it, as micrograd-tui does
            optimizer.step()
            largest = max(p.abs().max().item() for p in model.parameters())
            reason = blow_up(loss.item(), first_loss, largest)
        value = loss.item() if math.isfinite(loss.item()) else str(loss.item())
        print(json.dumps({{"step": step + 1, "loss": value}}), flush=True)
        if reason is not None:
            print(f"diverged at step {{step + 1}}: {{reason}}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def script_name(path: str | os.PathLike[str]) -> str:
    """The file name a learner types to run the script."""
    return os.path.basename(os.fspath(path)) or "model.py"
