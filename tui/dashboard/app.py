"""The dashboard: watch a tiny network learn, step by step, and break it with a key.

The app composes the panes and routes keys and messages to its rooms: ``training.py``
(the worker and its pace), ``runs.py`` (switching runs), ``drawing.py`` (draw mode),
``saving.py`` (save and export). Its keys come from ``actions.py``. Everything the panes
draw comes from ``TrainingSession.snapshot()``, an immutable copy of floats.
"""

from __future__ import annotations

import gc
import random
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Grid, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from engine import bugs as bug_catalogue
from engine.training.records import Snapshot
from engine.training.session import TrainingSession
from tui.cli.config import RunConfig
from tui.cli.quiz import NO_BUG, Game
from tui.dashboard import actions
from tui.dashboard.commands import DashboardCommands
from tui.dashboard.drawing import Drawing
from tui.dashboard.messages import PointEdit, SamplePicked, TrainingProgress, TrainingStopped
from tui.dashboard.pacing import speed_label
from tui.dashboard.quiz import QuizRoom
from tui.dashboard.runs import Runs, architecture
from tui.dashboard.saving import Saving
from tui.dashboard.screens.bug_detail import BugDetailScreen
from tui.dashboard.screens.dialogs import ErrorDialog
from tui.dashboard.screens.gradcheck import GradCheckScreen
from tui.dashboard.screens.graph import GraphScreen, GraphState
from tui.dashboard.screens.help import HelpScreen, dashboard_help
from tui.dashboard.training import GROUP, Trainer
from tui.dashboard.travel import TimeTravel
from tui.dashboard.widgets.bug_toggles import BugToggle, BugToggles
from tui.dashboard.widgets.gradients import GradientsPane
from tui.dashboard.widgets.loss_plot import LossPlot
from tui.dashboard.widgets.pane import Pane, panes_in
from tui.dashboard.widgets.parameter_grid import ParameterGrid, ParameterPane
from tui.dashboard.widgets.side import SideColumn
from tui.dashboard.widgets.status import StatusBar
from tui.dashboard.widgets.symptom import SymptomLine
from tui.dashboard.widgets.weights import WeightsPane
from tui.graphview.source import Source

MIN_WIDTH, MIN_HEIGHT = 80, 24
ROOMY_WIDTH, ROOMY_HEIGHT = 120, 40  # from here toasts have room at the bottom right


class TooSmall(Static):
    """Shown instead of the panes when the terminal is below the minimum size."""

    def on_resize(self) -> None:
        width, height = self.app.size
        self.update(
            f"micrograd-tui needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT};"
            f" this one is {width}×{height}.\nMake it larger, or press q to quit."
        )


class MicrogradApp(App[None]):
    """micrograd-tui: train a tiny MLP step by step, and break it on purpose."""

    TITLE = "micrograd-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {DashboardCommands}

    BINDINGS: ClassVar[list[BindingType]] = actions.bindings()

    # The screen gets a class per size band; app.tcss hides the panes below the minimum.
    # Below ROOMY (-wide-enough, -tall-enough) toasts are narrow and sit over the loss plot.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-too-narrow"),
        (MIN_WIDTH, "-wide-enough"),
        (ROOMY_WIDTH, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-too-short"),
        (MIN_HEIGHT, "-tall-enough"),
        (ROOMY_HEIGHT, "-tall"),
    ]
    NOTIFICATION_TIMEOUT: ClassVar[float] = 3

    running: reactive[bool] = reactive(False)

    def __init__(
        self,
        config: RunConfig | None = None,
        session: TrainingSession | None = None,
        freeze_gc: bool = False,
        quiz: tuple[Game, int] | None = None,
    ) -> None:
        """A new run from ``config``, or ``session`` (e.g. loaded from a file) as it is.

        ``freeze_gc``: once mounted, move everything built so far out of the cyclic
        collector's reach (``gc.freeze()``), so that its full passes stop stalling key
        presses. Process-wide, so only a process that runs this one app asks for it
        (``tui/main.py``, the benchmarks), never a test that runs many.
        """
        super().__init__()
        self._freeze_gc = freeze_gc
        self.run_config = config or RunConfig()
        self.session: TrainingSession = session or self.run_config.build_session()
        self.graph_state = GraphState()  # the Graph screen reopens where it was left
        self._last_snapshot: Snapshot | None = None
        self._panes: list[Pane] = []  # found once mounted, in screen order
        self.trainer = Trainer(self)
        self.runs = Runs(self)
        self.drawing = Drawing(self)
        self.saving = Saving(self)
        self.travel = TimeTravel(self)  # the cursor over past steps
        self.quiz: QuizRoom | None = None if quiz is None else QuizRoom(self, *quiz)

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="dashboard"):
            with Grid(id="panes"):
                yield WeightsPane(id="weights")
                yield LossPlot(id="loss")
                yield GradientsPane(id="gradients")
                yield SideColumn(id="side")
            yield SymptomLine(id="symptom")
            yield StatusBar(id="status")
        yield TooSmall(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self._panes = panes_in(self.query_one("#panes"))
        if self.quiz is not None:
            self.quiz.start_round()
        self.refresh_panes()
        if self._freeze_gc:
            gc.freeze()

    # -- drawing ---------------------------------------------------------------

    @property
    def state(self) -> str:
        if self.session.diverged_at is not None:
            return "diverged"
        return "running" if self.running else "paused"

    @property
    def compact(self) -> bool:
        """Below 120x40: short messages in narrow toasts (app.tcss), over the loss plot.

        The screen's size classes (``HORIZONTAL_BREAKPOINTS``) say it, as app.tcss reads them.
        """
        dashboard = self.screen_stack[0] if self.screen_stack else self.screen
        return not (dashboard.has_class("-wide") and dashboard.has_class("-tall"))

    @property
    def shows_boundary(self) -> bool:
        """Whether the side column shows the decision boundary (2-D data, not swapped)."""
        return self.query_one(SideColumn).shows_boundary

    def refresh_panes(self, snap: Snapshot | None = None, only: str | None = None) -> None:
        """Hand a snapshot to every pane; ``only`` ("parameters" or "curves"): half of them.

        While training runs, frames alternate halves so that no single redraw
        keeps the app from a key press for long. Each pane draws, and lays itself
        out, on its own (``tui/dashboard/widgets/pane.py``).
        """
        if snap is None:
            snap = self._shown()
        self._last_snapshot = snap
        if self.quiz is not None:
            snap = self.quiz.mask(snap)  # a round's case stays hidden
        for pane in self._panes:
            if only is None or pane.REDRAW == only:
                pane.show(snap)
        if self.quiz is not None:  # its line in the symptom line's place, the answer sheet
            self.quiz.show(self.query_one(SymptomLine), self.query_one(BugToggles))
        else:
            self.query_one(SymptomLine).show(snap)
        trainer = self.trainer
        status = self.query_one(StatusBar)
        status.show(snap, self.state, trainer.steps_per_s, speed_label(trainer.speed))
        self.sub_title = f"{self.run_config.data_label} · {architecture(self.session)}"

    @property
    def speed(self) -> float | None:
        """Steps a second while running (None: as fast as it goes)."""
        return self.trainer.speed

    def watch_running(self) -> None:
        if self.is_mounted:
            self.refresh_panes()

    # -- training: the worker lives in training.py --------------------------------

    @on(TrainingProgress)
    def _on_progress(self, message: TrainingProgress) -> None:
        half = self.trainer.progressed(message)
        if half is not None:
            self.refresh_panes(message.snapshot, only=half)

    @on(TrainingStopped)
    def _on_stopped(self, message: TrainingStopped) -> None:
        self.trainer.stopped(message)
        self.refresh_panes()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == GROUP and event.state == WorkerState.ERROR:
            self.running = False
            error = event.worker.error
            self.push_screen(
                ErrorDialog(
                    "Training stopped by an unexpected error",
                    f"{type(error).__name__}: {error}\n\nYour run is kept as it was before this "
                    "step. Press ctrl+r to reset, or report this error.",
                )
            )
            self.refresh_panes()

    # -- actions -----------------------------------------------------------------

    def action_step(self) -> None:
        def step() -> None:
            self.trainer.step_once()
            self.refresh_panes()

        self.travel.then("take a step", step)

    def action_toggle_run(self) -> None:
        if self.running:
            self.trainer.stop()
            return

        def start() -> None:
            if self.session.diverged_at is not None:
                reason = self.session.diverged_reason
                self.notify(f"{reason}. Reset with ctrl+r first.", severity="error")
                return
            self.drawing.told_while_running = False
            self.trainer.start()

        self.travel.then("run", start)

    def action_reset(self) -> None:
        self.trainer.stop()
        self.travel.forget()
        self.session.reset()
        self.notify(f"Reset to the initial weights of seed {self.session.config.seed}.")
        self.refresh_panes()

    def action_lr(self, factor: float) -> None:
        what = "halve the learning rate" if factor < 1 else "double the learning rate"
        self.travel.then(what, lambda: self.trainer.change_lr(factor))
        self.refresh_panes()

    # -- time travel: travel.py ---------------------------------------------------------

    def action_travel(self, steps: int) -> None:
        self.travel.move(steps)

    def action_travel_start(self) -> None:
        self.travel.go(self.session.earliest_step)

    def action_travel_present(self) -> None:
        self.travel.to_present()

    @on(LossPlot.StepPicked)
    def _on_step_picked(self, message: LossPlot.StepPicked) -> None:
        self.travel.go(message.step)

    def action_toggle_bug(self, number: int) -> None:
        if not 1 <= number <= len(bug_catalogue.CATALOGUE):
            self.notify(f"There is no bug {number}.", severity="warning")
            return
        bug = bug_catalogue.CATALOGUE[number - 1]
        if self.quiz is not None:  # the bug list is the answer sheet
            self.quiz.choose(bug.id)
            return

        def toggle() -> None:
            on = self.session.toggle_bug(bug.id)
            state = "on" if on else "off"
            if self.compact:
                # The symptom line says what changed; the bug's "why?" says what to look for.
                self.notify(f"{bug.id} {state} from the next step.")
            else:
                look = bug.look_for if on else ""
                self.notify(f"{bug.id} {state} from the next step. {look}", timeout=4)
            self.refresh_panes()

        switch = "off" if bug.id in self._last_snapshot.bugs else "on"
        self.travel.then(f"switch {bug.id} {switch}", toggle)

    def toggle_bug_by_id(self, bug_id: str) -> None:
        ids = [bug.id for bug in bug_catalogue.CATALOGUE]
        self.action_toggle_bug(ids.index(bug_id) + 1)

    @on(BugToggle.Toggled)
    def _on_bug_clicked(self, message: BugToggle.Toggled) -> None:
        self.toggle_bug_by_id(message.bug_id)

    def in_round(self, what: str) -> bool:
        """Whether a quiz round is open (then say that ``what`` waits for its answer)."""
        if self.quiz is not None and self.quiz.open:
            self.notify(f"{what} after you answer this round (a).", timeout=3)
            return True
        return False

    # -- Diagnose it: quiz.py ----------------------------------------------------------

    def action_quiz_start(self) -> None:
        if self.quiz is not None:
            self.notify("A quiz is on already.", timeout=3)
            return
        self.quiz = QuizRoom.begin(self, random.randrange(10_000))

    def _quiz_only(self, what: str) -> QuizRoom | None:
        """The quiz, or None after saying that ``what`` belongs to one."""
        if self.quiz is None:
            self.notify(f"{what} in a Diagnose it round (Q starts one).", timeout=3)
        return self.quiz

    def action_quiz_choose_none(self) -> None:
        if quiz := self._quiz_only("0 answers 'no bug'"):
            quiz.choose(NO_BUG)

    def action_quiz_answer(self) -> None:
        if quiz := self._quiz_only("a gives your answer"):
            quiz.give_answer()

    def action_quiz_hint(self) -> None:
        if quiz := self._quiz_only("h shows a correct run"):
            quiz.toggle_hint()

    def action_bug_detail(self, bug_id: str) -> None:
        if self.in_round("The why screens open"):
            return
        if bug_id not in bug_catalogue.BUGS:
            self.notify(f"There is no bug {bug_id!r}.", severity="warning")
            return
        self.push_screen(BugDetailScreen(bug_catalogue.BUGS[bug_id]))

    def action_demo(self, bug_id: str) -> None:
        if self.quiz is not None:  # a demo would replace the quiz's run
            self.notify("Demos open after the quiz (its score says which to watch).", timeout=3)
            return
        self.runs.demo(bug_id)

    def action_cycle_speed(self) -> None:
        self.trainer.cycle_speed()
        self.refresh_panes()

    def set_speed(self, speed: float | None) -> None:
        self.trainer.set_speed(speed)
        self.refresh_panes()

    def action_full_speed(self) -> None:
        self.trainer.full_speed()
        self.refresh_panes()

    def action_toggle_step_axis(self) -> None:
        plot = self.query_one(LossPlot)
        plot.set_log_steps(not plot.log_steps)

    def action_toggle_log(self) -> None:
        plot = self.query_one(LossPlot)
        plot.set_log_scale(not plot.log_scale)

    # -- drawing points: drawing.py -----------------------------------------------

    @property
    def drawn(self):
        """The edits made to the current run's points (a new run starts with none)."""
        return self.drawing.drawn

    def action_draw_mode(self) -> None:
        self.drawing.toggle()

    @on(PointEdit)
    def _on_point_edit(self, message: PointEdit) -> None:
        self.travel.then("change the points", lambda: self.drawing.edit(message))

    def action_undo_draw(self) -> None:
        self.travel.then("undo a drawn point", lambda: self.drawing.undo_or_redo(undo=True))

    def action_redo_draw(self) -> None:
        self.travel.then("redo a drawn point", lambda: self.drawing.undo_or_redo(undo=False))

    def action_swap_boundary(self) -> None:
        self.drawing.swap_boundary()

    def action_settings(self) -> None:
        if self.in_round("The settings open"):
            return
        self.runs.settings()

    # -- saving: saving.py ---------------------------------------------------------

    def action_save(self, kind: str) -> None:
        """ctrl+s, ctrl+e, ctrl+d, p: save the run, export its history, points or a script."""
        if not self.in_round("Saving and exporting (the file would hold the answer) open"):
            getattr(self.saving, kind)()

    def action_gradient_view(self) -> None:
        view = self.query_one(GradientsPane).cycle_view()
        if view != "backprop" and not self.session.bugs and self.quiz is None:
            self.notify(
                "No bug is on, so backprop is the true gradient; switch a bug on to compare.",
                timeout=4,
            )
        self.refresh_panes(self._last_snapshot)

    def action_gradcheck(self) -> None:
        step = self.travel.cursor  # a past step: its weights, on a copy of the run there
        self.push_screen(
            GradCheckScreen(self.session if step is None else self.session.session_at(step))
        )

    def action_graph(self) -> None:
        if isinstance(self.screen, GraphScreen):
            return
        if self.quiz is not None and self.quiz.open:  # the hidden engine, unnamed
            self.push_screen(self.quiz.graph_screen())
            return
        self.push_screen(GraphScreen(self._shown(), self.graph_state))

    def _shown(self) -> Snapshot:
        """The step the panes show: the cursor's, or the present."""
        return self.travel.snapshot() or self.session.snapshot()

    @on(SamplePicked)
    def _open_sample_graph(self, message: SamplePicked) -> None:
        """A predictions row or a boundary point was clicked: that sample's graph."""
        if isinstance(self.screen, GraphScreen):
            self.screen.show_sample(message.sample)
            return
        self.graph_state.source = Source.MODEL
        self.graph_state.sample = message.sample
        self.graph_state.position = 0
        self.push_screen(GraphScreen(self._shown(), self.graph_state))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(dashboard_help(self.screen_stack[0]))

    def choose_dataset(self, name: str) -> None:
        """Switch to a dataset's preset; asks first if the current run has steps."""
        self.runs.choose_dataset(name)

    # -- keeping the two parameter panes pointing at the same parameter --------

    @on(ParameterGrid.CursorMoved)
    def _sync_cursor(self, message: ParameterGrid.CursorMoved) -> None:
        for grid in self.query(ParameterGrid):
            if grid is not message.grid:
                grid.cursor = message.cursor
        if self._last_snapshot is not None:  # the grids redraw themselves; the details follow
            for pane in self.query(ParameterPane):
                pane.show_detail(self._last_snapshot)
