"""A preset per dataset: an architecture, loss and learning rate that train well.

Keyed by dataset name, so the engine needs no import of ``datasets`` to hold
them; the dashboard, ``micrograd-tui train`` and the engine's tests all read
these same configurations.
"""

from __future__ import annotations

from engine.training.records import SessionConfig

PRESETS: dict[str, SessionConfig] = {
    # The lecture: MLP(3, [4, 4, 1]) of tanh, sum of squared errors, lr 0.05.
    "tutorial": SessionConfig(hidden=(4, 4), activation="tanh", loss="sse", lr=0.05),
    # karpathy's demo: relu MLP(2, [16, 16, 1]), hinge + 1e-4 L2, lr 1.0 -> 0.1 over 100 steps.
    "moons": SessionConfig(
        hidden=(16, 16),
        activation="relu",
        loss="hinge",
        lr=1.0,
        lr_end=0.1,
        decay_steps=100,
        l2=1e-4,
    ),
    "xor": SessionConfig(hidden=(8, 8), activation="tanh", loss="mse", lr=0.5),
    "circles": SessionConfig(hidden=(8, 8), activation="tanh", loss="mse", lr=0.5),
    "spiral": SessionConfig(
        hidden=(16, 16),
        activation="tanh",
        loss="mse",
        lr=0.5,
        lr_end=0.1,
        decay_steps=500,
    ),
    "blobs": SessionConfig(hidden=(4,), activation="tanh", loss="mse", lr=0.2),
    # A plane to draw on (draw mode, d): room for the shapes a learner draws.
    "blank": SessionConfig(hidden=(8, 8), activation="tanh", loss="mse", lr=0.2),
}
CSV_PRESET = SessionConfig(hidden=(8, 8), activation="tanh", loss="mse", lr=0.2)
