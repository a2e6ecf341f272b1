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


@dataclass(frozen=True)
class Bug:
    """One injectable mistake: what it is, where it lives, what it does to training."""

    id: str
    title: str
    where: str  # module and function holding the line
    buggy_line: str
    correct_line: str
    look_for: str  # one sentence: the symptom a learner should watch for
    explanation: str  # why the symptom follows from the mistake


CATALOGUE: tuple[Bug, ...] = (
    Bug(
        id=OVERWRITE_GRAD,
        title="Overwrite gradients instead of accumulating",
        where="engine/value.py · Value.backward",
        buggy_line="child.grad = local_grad * node.grad",
        correct_line="child.grad += local_grad * node.grad",
        look_for=(
            "A value used twice (like b = a + a) keeps only its last gradient, "
            "so shared weights get wrong gradients and training stalls."
        ),
        explanation=(
            "When a node feeds several others, the chain rule sums the gradient "
            "flowing back along every path. Assigning keeps only the last path's "
            "share. Every weight feeds all 4 samples' forward passes, so it keeps "
            "just one sample's gradient."
        ),
    ),
    Bug(
        id=SKIP_ZERO_GRAD,
        title="Never zero the gradients",
        where="engine/session.py · TrainingSession.step",
        buggy_line="# model.zero_grad()  (forgotten)",
        correct_line="model.zero_grad()",
        look_for=(
            "The gradient norm never decays: each update applies the sum of every "
            "earlier step's gradient, so the weights keep growing."
        ),
        explanation=(
            "backward() adds into .grad. Without zeroing, step N's update uses "
            "grad_1 + grad_2 + ... + grad_N: momentum with no friction. On a toy "
            "set the loss may even fall faster at first, then overshoot."
        ),
    ),
    Bug(
        id=ZERO_GRAD_AFTER_BACKWARD,
        title="Zero the gradients after backward",
        where="engine/session.py · TrainingSession.step",
        buggy_line="loss.backward(); model.zero_grad(); optimizer.step()",
        correct_line="model.zero_grad(); loss.backward(); optimizer.step()",
        look_for="Every applied gradient is 0, so the weights never move and the loss is flat.",
        explanation=(
            "zero_grad() belongs before backward(). Called between backward() and "
            "the update, it wipes the gradients just computed."
        ),
    ),
    Bug(
        id=GRADIENT_ASCENT,
        title="Step up the gradient, not down",
        where="engine/optim.py · SGD.step",
        buggy_line="p.data += lr * p.grad",
        correct_line="p.data -= lr * p.grad",
        look_for="The loss climbs instead of falling.",
        explanation=(
            "The gradient points where the loss increases fastest. Adding it "
            "climbs the loss surface: gradient ascent."
        ),
    ),
    Bug(
        id=TANH_DERIVATIVE,
        title="Wrong derivative of tanh",
        where="engine/value.py · Value.tanh",
        buggy_line="local_grad = 1 - t",
        correct_line="local_grad = 1 - t**2",
        look_for=(
            "It still trains, erratically; only a gradient check reveals that the "
            "gradients are wrong."
        ),
        explanation=(
            "d/dx tanh(x) = 1 - tanh(x)^2. Using 1 - t has the right sign for "
            "t > 0 but the wrong size, and exceeds 1 for negative t."
        ),
    ),
    Bug(
        id=FORWARD_ORDER_BACKWARD,
        title="Walk the graph forwards in backward()",
        where="engine/value.py · Value.backward",
        buggy_line="for node in topo:",
        correct_line="for node in reversed(topo):",
        look_for="Every parameter gradient is 0, so nothing learns.",
        explanation=(
            "A node may pass its gradient on only once it has received all of it, "
            "so backward must visit the output first. Walking from the leaves, "
            "each node passes on the 0 it holds before anything reaches it."
        ),
    ),
)

BUGS: dict[str, Bug] = {bug.id: bug for bug in CATALOGUE}

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
