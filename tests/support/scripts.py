"""Reading an exported PyTorch script's data back without running it (no torch needed)."""

from __future__ import annotations

import ast


def literals(script: str) -> dict[str, object]:
    """Every ``NAME = literal`` at the top of a script (``torch.tensor(literal)`` too)."""
    found = {}
    for node in ast.parse(script).body:
        if not isinstance(node, ast.Assign):
            continue
        value = node.value
        if isinstance(value, ast.Call) and ast.unparse(value.func) == "torch.tensor":
            value = value.args[0]
        targets = node.targets[0]
        names = [t.id for t in targets.elts] if isinstance(targets, ast.Tuple) else [targets.id]
        try:
            values = ast.literal_eval(value)
        except ValueError:
            continue
        found.update(zip(names, values) if len(names) > 1 else [(names[0], values)])
    return found
