"""The side column: the bug switches, and below them the decision boundary or the predictions."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from engine.session import Snapshot
from tui.widgets.boundary import DecisionBoundary
from tui.widgets.bug_toggles import BugToggles
from tui.widgets.pane import Pane
from tui.widgets.predictions import PredictionsPane


class SideColumn(Pane, Vertical):
    """Bugs on top; below, the decision boundary for 2-D data (``b`` swaps it for the
    predictions), the predictions for any other data. It lays out its own three panes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self.predictions_instead = False  # on 2-D data: the user swapped with b

    def compose(self) -> ComposeResult:
        yield BugToggles(id="bugs")
        yield PredictionsPane(id="predictions")
        yield DecisionBoundary(id="boundary")

    @property
    def shows_boundary(self) -> bool:
        """Two features: the decision boundary takes the predictions' place (b swaps them)."""
        snap = self._snapshot
        return snap is not None and snap.layer_sizes[0] == 2 and not self.predictions_instead

    def swap(self) -> None:
        """Boundary for predictions, or back (the app checks that the data is 2-D first)."""
        self.predictions_instead = not self.predictions_instead
        if self._snapshot is not None:
            self.show(self._snapshot)

    LOWER_MIN = 4  # rows the predictions or boundary need to say anything

    def on_resize(self) -> None:
        self.query_one(BugToggles).fit(self.size.height)
        if self._snapshot is not None:
            self.show(self._snapshot)

    def _lower_fits(self, bugs: BugToggles) -> bool:
        """Whether the pane below the bugs gets room, after all six bugs on a short column."""
        if not bugs.has_class("-terse"):
            return True
        return self.size.height - bugs.terse_height >= self.LOWER_MIN

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        bugs = self.query_one(BugToggles)
        bugs.fit(self.size.height)
        bugs.show(snapshot)
        boundary = self.shows_boundary
        room = self._lower_fits(bugs)
        self.query_one(PredictionsPane).display = room and not boundary
        self.query_one(DecisionBoundary).display = room and boundary
        if not room:
            return
        if boundary:
            self.query_one(DecisionBoundary).show(snapshot)
        else:
            self.query_one(PredictionsPane).show(snapshot)
