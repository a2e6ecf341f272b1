"""The side column: the bug switches, and below them the decision boundary or the predictions."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from engine.training.records import Snapshot
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.dashboard.widgets.bug_toggles import BugToggles
from tui.dashboard.widgets.pane import Pane
from tui.dashboard.widgets.predictions import PredictionsPane


class SideColumn(Pane, Vertical):
    """Bugs on top; below, the decision boundary for 2-D data (``b`` swaps it for the
    predictions), the predictions for any other data. It lays out its own three panes.

    A column too short for the bug list and a pane below it (80x24) shows the bugs
    alone, and ``b`` puts the pane below in their place (then, on 2-D data, the
    predictions, then the bugs again); the titles say what ``b`` shows next.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self.predictions_instead = False  # on 2-D data: the user swapped with b
        self.lower_instead_of_bugs = False  # on a short column: b put the lower pane in place

    def compose(self) -> ComposeResult:
        yield BugToggles(id="bugs")
        yield PredictionsPane(id="predictions")
        yield DecisionBoundary(id="boundary")

    @property
    def two_features(self) -> bool:
        snap = self._snapshot
        return snap is not None and snap.layer_sizes[0] == 2

    @property
    def shows_boundary(self) -> bool:
        """Two features: the decision boundary takes the predictions' place (b swaps them)."""
        return self.two_features and not self.predictions_instead

    @property
    def short(self) -> bool:
        """Too short for the bug list (one line a bug) and a pane below it."""
        bugs = self.query_one(BugToggles)
        return bugs.has_class("-terse") and self.size.height - bugs.terse_height < self.LOWER_MIN

    def swap(self) -> None:
        """b: boundary for predictions, or back; on a short column, cycle through the bugs too
        (the app checks that the data is 2-D, or the column short, first)."""
        if not self.short:
            self.predictions_instead = not self.predictions_instead
        elif not self.lower_instead_of_bugs:
            self.lower_instead_of_bugs, self.predictions_instead = True, False
        elif self.two_features and not self.predictions_instead:
            self.predictions_instead = True
        else:
            self.lower_instead_of_bugs, self.predictions_instead = False, False
        if self._snapshot is not None:
            self.show(self._snapshot)

    # Rows the predictions or boundary need to be whole: borders, and for the
    # predictions a header, a few samples and the "… more" line (the boundary's min-height).
    LOWER_MIN = 8

    def on_resize(self) -> None:
        self.query_one(BugToggles).fit(self.size.height)
        if self._snapshot is not None:
            self.show(self._snapshot)

    def _next_title(self) -> str:
        """What b shows next on a short column, for the title of what shows now."""
        if not self.lower_instead_of_bugs:
            return "boundary" if self.two_features else "predictions"
        if self.two_features and not self.predictions_instead:
            return "predictions"
        return "bugs"

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        bugs = self.query_one(BugToggles)
        bugs.fit(self.size.height)
        bugs.show(snapshot)
        short = self.short
        lower = not short or self.lower_instead_of_bugs
        boundary = self.shows_boundary
        predictions = self.query_one(PredictionsPane)
        plane = self.query_one(DecisionBoundary)
        bugs.display = not short or not self.lower_instead_of_bugs
        predictions.display = lower and not boundary
        plane.display = lower and boundary
        if self.parent is not None:
            # The dashboard's lower row grows for the boundary (app.tcss: #panes.-plane),
            # from whichever show or resize put it on screen or took it off; not on a
            # short column, where the boundary has the bugs' rows and the loss plot needs its own.
            self.parent.set_class(plane.display and not short, "-plane")
        hint = f" · b: {self._next_title()}" if short else ""
        bugs.border_title = f"{BugToggles.BORDER_TITLE}{hint}"
        predictions.border_title = f"{PredictionsPane.BORDER_TITLE}{hint}"
        plane.border_title = f"{DecisionBoundary.BORDER_TITLE}{hint}"
        if not lower:
            return
        if boundary:
            plane.show(snapshot)
        else:
            predictions.show(snapshot)
