"""Results computed apart from any session, to check a session against."""

from __future__ import annotations

from engine import MLP
from engine.losses import LOSSES, l2_penalty
from engine.training.records import SessionConfig


def objective_at(config: SessionConfig, parameters, xs, ys) -> tuple[float, float]:
    """Loss (with the L2 term, as training uses) and accuracy of these weights on (xs, ys),
    computed with a fresh Value-graph model, apart from any session."""
    model = MLP(len(xs[0]), [*config.hidden, 1], config.activation, config.output_activation)
    for p, value in zip(model.parameters(), parameters, strict=True):
        p.data = value
    scores = [model(x) for x in xs]
    loss = LOSSES[config.loss](scores, ys)
    if config.l2:
        loss = loss + l2_penalty(model.parameters(), config.l2)
    hits = sum((s.data > 0) == (y > 0) for s, y in zip(scores, ys))
    return loss.data, hits / len(ys)
