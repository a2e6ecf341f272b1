"""The quiz room: Diagnose it. A round hides a case (no bug, or one of the six) in an
ordinary run; the learner names it from what the panes show.

While a round is open the panes draw a *masked* snapshot: no bug is on, no bug event
marks the loss plot, no symptom line; the true gradient (``t``) and the gradient check
(``g``) work as always, and the Graph screen runs the hidden engine without naming it.
A correct run of the same model (the clean twin) shows only when asked for (``h``): the
score notes it. The bug list is the answer sheet: ``1``-``6`` choose a bug, ``0`` no bug,
``a`` answers; the reveal says what was hidden, its symptom in this run's numbers and
which pane gave it away; ``n`` plays the next round, and the last ends with the score.
"""

from __future__ import annotations

import time
from dataclasses import replace

from rich.style import Style
from rich.text import Text
from textual.app import App

from engine.training.records import Snapshot
from tui.cli.quiz import DEFAULT_ROUNDS, GAVE_AWAY, NO_BUG, Game, Played, case_title, rounds
from tui.dashboard.screens.graph import GraphScreen
from tui.dashboard.screens.quiz import RevealScreen, SummaryScreen
from tui.dashboard.widgets.bug_toggles import BugToggles
from tui.dashboard.widgets.loss_plot import LossPlot
from tui.dashboard.widgets.symptom import SymptomLine, symptom_text
from tui.graphview.source import GraphState, Source


class QuizRoom:
    """One quiz: its ``Game``, the round open now, the answer chosen, the hint used."""

    clock = staticmethod(time.monotonic)  # the round clock (tests set their own)

    @classmethod
    def begin(cls, app: App, seed: int, count: int = DEFAULT_ROUNDS) -> QuizRoom:
        """A quiz started from the dashboard (the palette's Diagnose it), its first round on."""
        room = cls(app, Game(rounds(seed, count)), seed)
        app.notify(
            f"Quiz seed {seed}: the answer key is micrograd-tui quiz --seed {seed} --answers.",
            timeout=6,
        )
        room.start_round()
        return room

    def __init__(self, app: App, game: Game, seed: int) -> None:
        self.app = app
        self.game = game
        self.seed = seed
        self.answer: str | None = None
        self.hint = False
        self.started = self.clock()
        self.open = False  # a round is open: its case is hidden
        self.show_twin = False

    # -- rounds ------------------------------------------------------------------------

    def start_round(self) -> None:
        """The next round's run in place of the current one (no question: it is a game)."""
        app, current = self.app, self.game.current
        assert current is not None
        app.trainer.stop()
        app.query_one(LossPlot).twin_label = "a correct run of the same model"
        app.run_config = current.run_config()
        app.session = app.run_config.build_session()
        self.answer, self.hint, self.show_twin, self.open = None, False, False, True
        self.started = self.clock()
        app.refresh_panes()
        app.notify(
            f"Round {current.number} of {len(self.game.rounds)} on {current.preset}: "
            "train it, look, and name what is wrong (if anything).",
            title="Diagnose it",
            timeout=5,
        )

    def choose(self, case: str) -> None:
        if not self.open:
            self.app.notify("The round is answered: n plays the next one.", timeout=3)
            return
        self.answer = case
        self.app.refresh_panes()

    def give_answer(self) -> None:
        if not self.open:
            return
        if self.answer is None:
            self.app.notify("Choose first: 1-6 a bug, 0 no bug; then a answers.", timeout=4)
            return
        app = self.app
        app.trainer.stop()
        seconds = self.clock() - self.started
        played = self.game.answer(self.answer, app.session.step_count, seconds, self.hint)
        self.open = False
        app.refresh_panes()
        bug = None if played.round.case == NO_BUG else played.round.case
        text = reveal_text(played, app.session.snapshot(), last=self.game.current is None)
        app.push_screen(RevealScreen(text, bug), self._next)

    def _next(self, _=None) -> None:
        if self.game.current is not None:
            self.start_round()
            return
        self.app.push_screen(SummaryScreen(summary_text(self.game)), self._over)

    def _over(self, _=None) -> None:
        """Back to training: every bug shown again, the twin called the clean twin."""
        app = self.app
        app.quiz = None
        app.query_one(LossPlot).twin_label = "clean twin"
        app.refresh_panes()

    def graph_screen(self) -> GraphScreen:
        """The Graph screen on the model, running the hidden engine without naming it."""
        app = self.app
        state = GraphState(source=Source.MODEL, bugs=set(app.session.bugs))
        return GraphScreen(app.session.snapshot(), state, name_bugs=False)

    def toggle_hint(self) -> None:
        """Show (or hide) a correct run of the same model: a hint the score notes."""
        if not self.open:
            return
        self.show_twin = not self.show_twin
        self.hint = self.hint or self.show_twin
        self.app.refresh_panes()

    # -- what the panes see ------------------------------------------------------------

    def mask(self, snap: Snapshot) -> Snapshot:
        """``snap`` as an open round shows it: no bug on or marked, the twin on request."""
        if not self.open:
            return snap
        twin = None
        if self.show_twin:
            twin = snap.twin_history or snap.history  # no bug: a correct run is this run
        return replace(
            snap,
            bugs=frozenset(),
            bug_events=(),
            trace=None,
            twin_history=twin,
            true_gradients=snap.true_gradients or snap.gradients,
        )

    def line(self) -> Text:
        """The round's line, where the symptom line stands outside a quiz."""
        current = self.game.current
        out = Text("Diagnose it ", style="bold #e0af68")
        if current is None or not self.open:
            out.append("answered: n for the next round", style="dim")
            return out
        elapsed = int(self.clock() - self.started)
        answer = "—" if self.answer is None else case_title(self.answer)
        rounds = len(self.game.rounds)
        out.append(
            f"round {current.number} of {rounds} · {elapsed // 60}:{elapsed % 60:02d} · "
            f"{self.app.session.step_count} steps · your answer: "
        )
        out.append(answer, style="bold")
        out.append(" ")
        out.append(
            " answer ", style=Style(bold=True, reverse=True, meta={"@click": "app.quiz_answer"})
        )
        out.append(" · 1-6 a bug, 0 no bug, a answers · h: a correct run", style="dim")
        return out

    def show(self, symptom: SymptomLine, toggles: BugToggles) -> None:
        """The round's line where the symptom line stands, and the answer sheet."""
        symptom.display = True
        symptom.update(self.line())
        self.sheet(toggles)

    def sheet(self, toggles: BugToggles) -> None:
        """The bug list as the answer sheet while a round is open; the list once answered."""
        if not self.open:
            toggles.border_title = BugToggles.BORDER_TITLE
            toggles.mark_answer(None)
            return
        toggles.border_title = "Which bug? 1-6 · 0 no bug · a answers"
        chosen = (
            "—" if self.answer is None else ("no bug" if self.answer == NO_BUG else self.answer)
        )
        toggles.border_subtitle = f"your answer: {chosen}"
        toggles.mark_answer(self.answer)


def reveal_text(played: Played, snap: Snapshot, last: bool = False) -> Text:
    case = played.round.case
    out = Text()
    if played.right:
        out.append(" RIGHT ", style="bold black on green")
    else:
        out.append(" NOT QUITE ", style="bold white on #b00020")
    out.append(f"  round {played.round.number} on {played.round.preset}: ")
    out.append(case_title(case), style="bold")
    if case != NO_BUG:
        out.append(f" ({case})")
    if not played.right:
        out.append(f"; you answered {case_title(played.answer)}")
    out.append(f"\n\nWhat gave it away: {GAVE_AWAY[case]}\n")
    if case != NO_BUG and snap.trace is not None:
        out.append("\nIn this run's numbers: ")
        out.append_text(symptom_text(snap))
        out.append("\n")
    if case != NO_BUG:
        out.append(
            f"\nw: why it breaks training (the buggy line beside the correct one). Its demo, "
            f"after the quiz: ctrl+p 'Demo bug: {case}'.\n",
            style="dim",
        )
    out.append("\nn (or enter): " + ("the score" if last else "the next round"), style="bold")
    return out


def summary_text(game: Game) -> Text:
    out = Text("Diagnose it: the score\n\n", style="bold")
    out.append(game.summary() + "\n")
    missed = [p for p in game.played if not p.right and p.round.case != NO_BUG]
    if missed:
        out.append("\nWorth a second look (ctrl+p):\n", style="bold")
        for p in missed:
            out.append(f"  Demo bug: {p.round.case}  ·  Why? Explain bug: {p.round.case}\n")
    out.append("\nescape or enter: back to training, every bug shown again", style="dim")
    return out
