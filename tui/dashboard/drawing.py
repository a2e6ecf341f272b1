"""The drawing room: draw mode on the decision boundary, the points it adds, removes or
flips (``engine/training/drawing.py`` holds the rules), and undo and redo."""

from __future__ import annotations

from textual.app import App

from engine.training.drawing import TEST, DrawnPoints, DrawRefused, Edit, SameClassHere, sign
from tui.dashboard.messages import PointEdit
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.dashboard.widgets.side import SideColumn


def short(edit: Edit) -> str:
    """What an edit did, in a few characters: "added +1", "removed -1", "made +1"."""
    verb = {"add": "added", "remove": "removed", "relabel": "made"}[edit.kind]
    return f"{verb} {sign(edit.label)}" + (" test" if edit.part == TEST else "")


class Drawing:
    """Draw mode for ``app`` (its ``session``, ``running`` and panes)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._drawn: DrawnPoints | None = None
        self.told_while_running = False  # said once per run/pause that edits apply mid-run

    @property
    def drawn(self) -> DrawnPoints:
        """The edits made to the current run's points (a new run starts with none)."""
        if self._drawn is None or self._drawn.session is not self.app.session:
            self._drawn = DrawnPoints(self.app.session)
        return self._drawn

    def toggle(self) -> None:
        app = self.app
        boundary = app.query_one(DecisionBoundary)
        if boundary.drawing:
            boundary.set_drawing(False)
            app.notify("Draw mode off: a click on a point opens its graph again.", timeout=3)
            return
        if app.session.nin != 2:
            app.notify(
                "Drawing points needs data with two features; this data has "
                f"{app.session.nin}. Try the blank dataset (ctrl+p, Dataset: blank).",
                severity="warning",
            )
            return
        side = app.query_one(SideColumn)
        for _ in range(3):  # b's states: on a short column the boundary takes the bugs' place
            if boundary.display and side.shows_boundary:
                break
            side.swap()
        app.refresh_panes()
        if not boundary.display:
            app.notify(
                "The decision boundary has no room at this size; make the terminal taller.",
                severity="warning",
            )
            return
        boundary.set_drawing(True)
        app.notify(
            "Draw mode: arrows move, + / - add a +1 / -1 point, delete removes; "
            "or click: left +1, right -1, middle removes. esc leaves.",
            timeout=4,
        )

    def edit(self, message: PointEdit) -> None:
        drawn, notify = self.drawn, self.app.notify
        try:
            if message.kind == "remove":
                nearest = drawn.nearest(message.at)
                if nearest is None:
                    notify("There is no point to remove.", severity="warning", timeout=3)
                    return
                edit = drawn.remove(nearest[0], nearest[1])
            else:
                edit = drawn.place(message.at, message.label, message.on_top)
        except SameClassHere as err:
            notify(f"{err}.", severity="warning", timeout=4)
            return
        except DrawRefused as err:
            notify(f"Cannot remove it: {err}.", severity="warning", timeout=4)
            return
        if edit.kind == "relabel":
            notify(
                f"The point in this cell was {sign(-edit.label)}: it is "
                f"{sign(edit.label)} now (u undoes).",
                timeout=3,
            )
        self._changed(short(edit))

    def undo_or_redo(self, undo: bool) -> None:
        word = "undo" if undo else "redo"
        try:
            edit = self.drawn.undo() if undo else self.drawn.redo()
        except DrawRefused as err:
            self.app.notify(f"Cannot {word} that: {err}.", severity="warning", timeout=4)
            return
        if edit is None:
            self.app.notify(f"Nothing to {word}.", timeout=3)
            return
        self._changed(f"{word}: {short(edit)}")

    def _changed(self, said: str) -> None:
        """Say (in the boundary's subtitle) what an edit did and from which step; redraw.

        While training runs, say once that the points change between two steps.
        """
        app = self.app
        step = app.session.step_count + 1
        if app.running and not self.told_while_running:
            self.told_while_running = True
            app.notify(
                f"The new points apply between two steps (from step {step}); training runs on.",
                timeout=3,
            )
        app.refresh_panes()
        app.query_one(DecisionBoundary).tell(said)

    def swap_boundary(self) -> None:
        app = self.app
        side = app.query_one(SideColumn)
        if app.session.nin != 2 and not side.short:
            app.notify(
                "The decision boundary needs data with two features; this data has "
                f"{app.session.nin}.",
                severity="warning",
            )
            return
        boundary = app.query_one(DecisionBoundary)
        if boundary.drawing:
            boundary.set_drawing(False)  # the cursor goes with the plane
        side.swap()
        app.refresh_panes()
