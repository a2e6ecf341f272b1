"""The Graph screen's words: its title line and the stepper's panel, as Rich text."""

from __future__ import annotations

from rich.text import Text

from engine.inspect.graph import Graph
from tui.graphview.picture import Picture
from tui.graphview.stepper import Stepper

TONES = {"head": "bold", "bad": "bold red", "note": "cyan", "good": "green"}


def title_text(what: str, bugs: set[str], progress: str, name_bugs: bool = True) -> Text:
    """``Graph model · sample 3 of 100 · weights of step 12 · bugs in this graph: ...``."""
    title = Text()
    title.append("Graph ", style="bold")
    title.append(f"{what} · ")
    names = ", ".join(sorted(bugs)) or "none"
    if not name_bugs:
        names = "the round's, hidden"
    title.append(f"bugs in this graph: {names}", style="bold red" if bugs else "dim")
    title.append(f" · {progress}", style="bold")
    return title


def panel_text(
    graph: Graph,
    picture: Picture,
    stepper: Stepper,
    focus_key: int | None,
    heading: str | None = None,
) -> Text:
    """The stepper's lines for its step, then what the focused box is.

    ``heading``: a first line (an example's title, at its start)."""
    text = Text(no_wrap=False)
    if heading:
        text.append(heading + "\n", style="italic")
    for i, line in enumerate(stepper.panel()):
        if i:
            text.append("\n")
        text.append(line.text, style=TONES.get(line.tone, ""))
    step_node = stepper.step.node
    if step_node is not None and picture.box_of[step_node] != step_node:
        inside = picture.names[picture.box_of[step_node]]
        text.append(f"\n(inside {inside}, collapsed: Enter opens it)", style="dim")
    if focus_key is not None:
        text.append(_focus_line(graph, picture, focus_key), style="dim")
    return text


def _focus_line(graph: Graph, picture: Picture, key: int) -> str:
    node = graph.nodes[key]
    box = picture.boxes[key]
    label = node.label if node.label and node.label != box.label else ""
    focus = f"\n▸ {box.label}"
    if label:
        focus += f" ({label})"
    if box.neuron:
        return (
            focus + f": neuron {box.neuron[1]} of layer {box.neuron[0]}, collapsed (Enter opens it)"
        )
    if node.op:
        return focus + f" = {node.op} of {', '.join(picture.names[c] for c in node.children)}"
    if picture.group_of.get(key):
        return focus + "  (Enter closes its neuron)"
    return focus
