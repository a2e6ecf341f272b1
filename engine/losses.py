"""Loss functions: scores (one Value per sample) and ±1 targets in, one Value out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.value import Value

Loss = Callable[[Sequence[Value], Sequence[float]], Value]


def sum_squared_error(scores: Sequence[Value], targets: Sequence[float]) -> Value:
    """The lecture's loss: sum((ypred - ygt)**2)."""
    return sum(((s - y) ** 2 for s, y in zip(scores, targets)), Value(0.0))


def mean_squared_error(scores: Sequence[Value], targets: Sequence[float]) -> Value:
    return sum_squared_error(scores, targets) * (1.0 / len(scores))


def hinge(scores: Sequence[Value], targets: Sequence[float]) -> Value:
    """Max-margin loss of micrograd's demo: mean(relu(1 - y * score))."""
    losses = [(1 + -y * s).relu() for s, y in zip(scores, targets)]
    return sum(losses, Value(0.0)) * (1.0 / len(losses))


def _softplus(z: Value) -> Value:
    """log(1 + e^z), written so that neither branch overflows."""
    if z.data > 0:
        return z + (1 + (-z).exp()).log()
    return (1 + z.exp()).log()


def binary_cross_entropy(scores: Sequence[Value], targets: Sequence[float]) -> Value:
    """Cross-entropy on logits with ±1 targets: mean(log(1 + e^(-y * score)))."""
    losses = [_softplus(-y * s) for s, y in zip(scores, targets)]
    return sum(losses, Value(0.0)) * (1.0 / len(losses))


def l2_penalty(parameters: Sequence[Value], alpha: float) -> Value:
    """alpha * sum(p**2): micrograd demo's regularisation, added to the loss."""
    return alpha * sum((p * p for p in parameters), Value(0.0))


LOSSES: dict[str, Loss] = {
    "sse": sum_squared_error,
    "mse": mean_squared_error,
    "hinge": hinge,
    "bce": binary_cross_entropy,
}

# What each loss is, in words (the header of a `micrograd-tui export --torch` script).
LOSS_TITLES = {
    "sse": "sum of squared errors (the lecture's)",
    "mse": "mean squared error",
    "hinge": "max-margin hinge (micrograd's demo)",
    "bce": "binary cross-entropy on logits",
}
