"""What the dashboard asks of a pane: the contract between ``tui/dashboard/app.py`` and a pane.

A pane is a Textual widget that also inherits ``Pane``:

    class LossPlot(Pane, PlotextPlot):
        HELP_TITLE = "Loss"
        HELP = "The loss after every step. ..."
        REDRAW = "curves"

        def show(self, snapshot: Snapshot) -> None:
            ...

* ``show(snapshot)``: draw this ``engine.training.session.Snapshot`` (immutable floats).
  The pane takes from it whatever it needs; the app passes nothing else. It
  is called after every key that changes the run and, while training runs, up
  to ~15 times a second (``tui/dashboard/pacing.py``), so it must be cheap, or keep the
  snapshot and do the costly part later (as ``DecisionBoundary`` does).
* Layout is the pane's own business: on ``on_resize`` it lays itself out again
  from the snapshot it kept (how many rows fit, compact or full text, which
  child shows). The app knows no pane's sizes.
* ``HELP_TITLE`` and ``HELP``: a name and one paragraph for the help screen,
  which gathers them from every widget on the dashboard, in screen order (a
  pane that holds others, like the side column, lets its children carry
  theirs; a widget that is not a pane, like the status bar, may carry them
  too). ``HELP`` is Textual's own attribute: Textual's help panel shows it for
  the focused widget, as posting does.
* ``REDRAW``: ``"parameters"`` or ``"curves"``. While training runs, frames
  alternate between the two halves, so that no single frame keeps a key press
  waiting long; a pane is redrawn every other frame.

The app finds its panes once, after mounting (``panes_in``), and hands each
snapshot to every one of them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.dom import DOMNode

from engine.training.records import Snapshot

REDRAW_HALVES = ("parameters", "curves")


class Pane:
    """Mixed into a widget the dashboard draws from snapshots (see the module docstring)."""

    HELP_TITLE: ClassVar[str | None] = None
    REDRAW: ClassVar[str] = "curves"  # or "parameters": see REDRAW_HALVES

    def show(self, snapshot: Snapshot) -> None:
        raise NotImplementedError


def panes_in(node: DOMNode) -> list[Pane]:
    """The top-level panes under ``node``, in screen order (a pane's own sub-panes are its own)."""
    found: list[Pane] = []

    def walk(parent: DOMNode) -> None:
        for child in parent.children:
            if isinstance(child, Pane):
                found.append(child)
            else:
                walk(child)

    walk(node)
    return found


def help_sections(node: DOMNode) -> list[tuple[str, str]]:
    """``(HELP_TITLE, HELP)`` of every widget under ``node`` that has both, in screen order."""
    sections = []
    for widget in node.walk_children():
        title, text = getattr(widget, "HELP_TITLE", None), widget.HELP
        if title and text:
            sections.append((title, text))
    return sections
