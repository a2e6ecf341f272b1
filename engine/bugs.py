"""The catalogue of classic backprop mistakes a learner can switch on.

Each bug is *described* here and *injected* at exactly the line where a person
would write the mistake (see ``where``). Those lines ask :func:`is_on` whether
their bug is active; nothing else in the engine knows how a bug works.

Active bugs are per thread (a :class:`contextvars.ContextVar`), so a buggy run
and its clean twin can train side by side without touching each other.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

OVERWRITE_GRAD = "overwrite-grad"
SKIP_ZERO_GRAD = "skip-zero-grad"
ZERO_GRAD_AFTER_BACKWARD = "zero-grad-after-backward"
GRADIENT_ASCENT = "gradient-ascent"
TANH_DERIVATIVE = "tanh-derivative"
FORWARD_ORDER_BACKWARD = "forward-order-backward"


# Where a bug acts: in an op (its local derivative), in backward() (the chain rule's walk),
# or in the training loop around backward() (zeroing, the update). A Value graph's
# backward() shows the first two; no graph shows the third.
IN_OP = "op"
IN_BACKWARD = "backward"
IN_LOOP = "loop"


@dataclass(frozen=True)
class Bug:
    """One injectable mistake: what it is, where it lives, what it does to training."""

    id: str
    title: str
    where: str  # module and function holding the line
    acts: str  # IN_OP, IN_BACKWARD or IN_LOOP
    buggy_line: str
    correct_line: str
    look_for: str  # one sentence: the symptom a learner should watch for
    explanation: str  # why the symptom follows from the mistake


CATALOGUE: tuple[Bug, ...] = (
    Bug(
        id=OVERWRITE_GRAD,
        title="Overwrite gradients instead of accumulating",
        where="engine/value.py · Value.backward",
        acts=IN_BACKWARD,
        buggy_line="child.grad = local_grad * node.grad",
        correct_line="child.grad += local_grad * node.grad",
        look_for=(
            "Backprop's gradients come out far smaller than the true ones (press t): "
            "on the tutorial data 53% of the true size at step 1 and 1% by step 30, "
            "while the loss stalls near 4.2 and the clean twin's keeps falling."
        ),
        explanation=(
            "When a node feeds several others, the chain rule sums the gradient "
            "flowing back along every path. Assigning keeps only the last path's "
            "share. Every weight feeds all 4 samples' forward passes, and every "
            "hidden value feeds each neuron of the next layer, so each keeps one "
            "path's share of its gradient."
        ),
    ),
    Bug(
        id=SKIP_ZERO_GRAD,
        title="Never zero the gradients",
        where="engine/training/session.py · TrainingSession.step",
        acts=IN_LOOP,
        buggy_line="# model.zero_grad()  (forgotten)",
        correct_line="model.zero_grad()",
        look_for=(
            "The applied |grad| levels off instead of decaying (16.5 on the tutorial "
            "data, while the true gradient falls to about 0) and the weights keep "
            "growing. There that momentum even drives the loss to exactly 0, below the "
            "clean twin's; on moons it overshoots: loss 4.07 against the twin's 0.197 "
            "at step 30."
        ),
        explanation=(
            "backward() adds into .grad. Without zeroing, step N's update uses "
            "grad_1 + grad_2 + ... + grad_N: momentum with no friction. The sum stops "
            "changing only once new gradients are 0, so it levels off rather than "
            "decays, and the weights keep moving by lr times it every step."
        ),
    ),
    Bug(
        id=ZERO_GRAD_AFTER_BACKWARD,
        title="Zero the gradients after backward",
        where="engine/training/session.py · TrainingSession.step",
        acts=IN_LOOP,
        buggy_line="loss.backward(); model.zero_grad(); optimizer.step()",
        correct_line="model.zero_grad(); loss.backward(); optimizer.step()",
        look_for=(
            "Every gradient the update sees is 0: the pane shows zeros and the loss is "
            "flat. The symptom line shows backward() did find the true gradient first."
        ),
        explanation=(
            "zero_grad() belongs before backward(). Called between backward() and "
            "the update, it wipes the gradients just computed."
        ),
    ),
    Bug(
        id=GRADIENT_ASCENT,
        title="Step up the gradient, not down",
        where="engine/optim.py · SGD.step",
        acts=IN_LOOP,
        buggy_line="p.data += lr * p.grad",
        correct_line="p.data -= lr * p.grad",
        look_for=(
            "The loss climbs instead of falling, toward its ceiling (16 on the tutorial "
            "data: every prediction wrong); the gradients are right, so g passes."
        ),
        explanation=(
            "The gradient points where the loss increases fastest. Adding it "
            "climbs the loss surface: gradient ascent."
        ),
    ),
    Bug(
        id=TANH_DERIVATIVE,
        title="Wrong derivative of tanh",
        where="engine/value.py · Value.tanh",
        acts=IN_OP,
        buggy_line="local_grad = 1 - t",
        correct_line="local_grad = 1 - t**2",
        look_for=(
            "On a tanh net backprop is far off the true gradient (55x its size at step "
            "1 on the tutorial data) and the loss lurches up and down; g fails. A net "
            "without tanh (moons' relu) is untouched."
        ),
        explanation=(
            "d/dx tanh(x) = 1 - tanh(x)^2 = (1 - t)(1 + t). Using 1 - t divides the "
            "true slope by 1 + t: close for t near 1, far too large as t nears -1."
        ),
    ),
    Bug(
        id=FORWARD_ORDER_BACKWARD,
        title="Walk the graph forwards in backward()",
        where="engine/value.py · Value.backward",
        acts=IN_BACKWARD,
        buggy_line="for node in topo:",
        correct_line="for node in reversed(topo):",
        look_for=(
            "Backprop gives 0 for every parameter, so nothing learns and the loss is "
            "flat: the screen of bug 3, but here backward() itself is wrong (the "
            "symptom line and g tell them apart)."
        ),
        explanation=(
            "A node may pass its gradient on only once it has received all of it, "
            "so backward must visit the output first. Walking from the leaves, "
            "each node passes on the 0 it holds before anything reaches it."
        ),
    ),
)

BUGS: dict[str, Bug] = {bug.id: bug for bug in CATALOGUE}
# The bugs a Value graph's backward() shows (in an op or in backward()), and those that
# live in the training loop.
BACKWARD_BUGS: tuple[str, ...] = tuple(bug.id for bug in CATALOGUE if bug.acts != IN_LOOP)
LOOP_BUGS: tuple[str, ...] = tuple(bug.id for bug in CATALOGUE if bug.acts == IN_LOOP)

_active: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "micrograd_tui_active_bugs", default=frozenset()
)


def validate(ids: Iterable[str]) -> frozenset[str]:
    """Return ``ids`` as a frozenset, raising ValueError naming any unknown id."""
    ids = frozenset(ids)
    unknown = sorted(ids - BUGS.keys())
    if unknown:
        known = ", ".join(BUGS)
        raise ValueError(f"unknown bug {', '.join(unknown)!s} (known: {known})")
    return ids


def is_on(bug_id: str) -> bool:
    """True when ``bug_id`` is injected in the current thread/context."""
    return bug_id in _active.get()


def active() -> frozenset[str]:
    """The bugs injected in the current thread/context."""
    return _active.get()


@contextmanager
def injected(ids: Iterable[str]) -> Iterator[None]:
    """Inject exactly ``ids`` for the duration of the block (this thread only)."""
    token = _active.set(validate(ids))
    try:
        yield
    finally:
        _active.reset(token)
