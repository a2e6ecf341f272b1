"""Mutating a session file at random: what loads must run, the rest is one SessionFileError.

Shared by the session file's fuzz tests (tests/engine/test_session_file.py,
test_timeline_file.py).
"""

from __future__ import annotations

import copy
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from engine.persist.session_file import SessionFileError, load_session, save_session
from engine.training.session import SessionDiverged


def _paths(value, prefix=()):
    """Every place in a JSON document: (path, value)."""
    yield prefix, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["inf", "-inf", "nan", "", "tanh", "relu", "skip-zero-grad", "fast"])
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)


def mutate(document: dict, data) -> dict:
    document = copy.deepcopy(document)
    places = [p for p, _ in _paths(document) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(places))
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            key = path[-1]
            action = data.draw(st.sampled_from(["delete", "replace", "nudge"]))
            if action == "delete":
                del parent[key]
            elif action == "replace":
                parent[key] = data.draw(json_values)
            elif isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
                parent[key] = parent[key] + data.draw(st.sampled_from([-1, 1, 0.5, 1e300]))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed this place
    return document


def load_or_refuse(path) -> None:
    try:
        loaded = load_session(path).session
    except SessionFileError as err:
        assert str(err).startswith(f"{path}: ")
        return
    # What loads must also run: a view of its past, a step, a snapshot, and a save again.
    for step in {loaded.earliest_step, (loaded.earliest_step + loaded.step_count) // 2}:
        try:
            loaded.view(step)
        except SessionDiverged:
            pass  # values edited so that the replay blows up: the file cannot tell
    try:
        loaded.step()
    except SessionDiverged:
        pass
    loaded.snapshot()
    save_session(path, loaded)


FUZZ = settings(
    max_examples=int(os.environ.get("PERSIST_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
