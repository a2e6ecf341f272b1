"""The dashboard: watch a tiny network learn, step by step, and break it with a key.

Everything the panes draw comes from ``TrainingSession.snapshot()``, an
immutable copy of floats. Training runs in one thread worker that posts a
coalescing ``TrainingProgress`` message at most ~15 times a second; widgets
never touch the ``Value`` objects the worker is mutating.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

import datasets
from engine import bugs as bug_catalogue
from engine.training import budget
from engine.training.drawing import TEST, DrawnPoints, DrawRefused, Edit
from engine.training.records import Snapshot
from engine.training.session import SessionDiverged, TrainingSession
from tui.cli.config import PRESETS, ConfigError, RunConfig
from tui.cli.demos import DEMOS
from tui.dashboard.commands import DashboardCommands
from tui.dashboard.messages import PointEdit, SamplePicked, TrainingProgress, TrainingStopped
from tui.dashboard.pacing import DEFAULT_SPEED, FRAME_WAIT, SPEEDS, frame_pacer, speed_label
from tui.dashboard.saving import SaveActions
from tui.dashboard.screens.bug_detail import BugDetailScreen
from tui.dashboard.screens.building import BuildingScreen
from tui.dashboard.screens.dialogs import ConfirmDialog, ErrorDialog
from tui.dashboard.screens.gradcheck import GradCheckScreen
from tui.dashboard.screens.graph import GraphScreen, GraphState
from tui.dashboard.screens.help import HelpScreen
from tui.dashboard.screens.settings import RunSettingsScreen
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.dashboard.widgets.bug_toggles import BugToggle
from tui.dashboard.widgets.gradients import GradientsPane
from tui.dashboard.widgets.loss_plot import LossPlot
from tui.dashboard.widgets.pane import Pane, help_sections, panes_in
from tui.dashboard.widgets.parameter_grid import ParameterGrid, ParameterPane
from tui.dashboard.widgets.side import SideColumn
from tui.dashboard.widgets.status import StatusBar
from tui.dashboard.widgets.symptom import SymptomLine
from tui.dashboard.widgets.weights import WeightsPane

MIN_WIDTH, MIN_HEIGHT = 80, 24
ROOMY_WIDTH, ROOMY_HEIGHT = 120, 40  # from here toasts have room at the bottom right
LR_MIN, LR_MAX = 1e-6, 1e3


# From this many weights or points a new run is built in a worker (BuildingScreen):
# drawing 20,000 weights or generating 20,000 points takes a noticeable moment.
BACKGROUND_BUILD_FROM = 20_000


def builds_slowly(config: RunConfig) -> bool:
    """Whether building ``config``'s run could hold up the UI for a noticeable moment."""
    if config.data_path:
        try:
            return os.path.getsize(config.data_path) > 1_000_000
        except OSError:
            return False  # the build reports the problem at once
    samples = config.samples or datasets.default_samples(config.dataset)
    weights = budget.parameter_count(datasets.features(config.dataset), config.session.hidden)
    return max(samples, weights) >= BACKGROUND_BUILD_FROM


class TooSmall(Static):
    """Shown instead of the panes when the terminal is below the minimum size."""

    def on_resize(self) -> None:
        width, height = self.app.size
        self.update(
            f"micrograd-tui needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT};"
            f" this one is {width}×{height}.\nMake it larger, or press q to quit."
        )


class MicrogradApp(SaveActions, App[None]):
    """micrograd-tui: train a tiny MLP step by step, and break it on purpose."""

    TITLE = "micrograd-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {DashboardCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        # First, so that the footer shows them at every width (it cuts from the right).
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            id="help",
            tooltip="Every key, pane and bug explained",
        ),
        Binding("q", "quit", "Quit", id="quit"),
        # Not a priority binding: a text field in a dialog (or the palette) needs its spaces.
        Binding(
            "space",
            "step",
            "Step",
            id="step",
            tooltip="Take one training step: forward, zero_grad, backward, update",
        ),
        Binding("r", "toggle_run", "Run/Pause", id="run", tooltip="Train continuously, or pause"),
        Binding(
            "ctrl+r", "reset", "Reset", id="reset", tooltip="Back to the seed's initial weights"
        ),
        Binding(
            "left_square_bracket",
            "lr_down",
            "lr ½",
            id="lr-down",
            tooltip="Halve the learning rate",
        ),
        Binding(
            "right_square_bracket", "lr_up", "lr ×2", id="lr-up", tooltip="Double the learning rate"
        ),
        *(
            Binding(
                str(i),
                f"toggle_bug({i})",
                f"bug {i}",
                id=f"bug-{i}",
                show=i == 1,
                tooltip=f"Switch bug {i} ({bug.id}) on or off",
            )
            for i, bug in enumerate(bug_catalogue.CATALOGUE, start=1)
        ),
        Binding(
            "v",
            "graph",
            "Graph",
            id="graph",
            tooltip="The value graph and a chain-rule stepper: forward, then backward node by node",
        ),
        Binding(
            "s",
            "cycle_speed",
            "Speed",
            id="speed",
            tooltip=f"Run speed: {', '.join(speed_label(s, unit='') for s in SPEEDS)} steps/s",
        ),
        Binding(
            "f",
            "full_speed",
            "Full speed",
            id="full-speed",
            tooltip=f"Train as fast as it goes, or back to {DEFAULT_SPEED:g} steps/s to watch",
        ),
        Binding("l", "toggle_log", "Log", id="log-scale", tooltip="Loss plot: linear or log scale"),
        Binding(
            "x",
            "toggle_step_axis",
            "Step axis",
            id="step-axis",
            show=False,
            tooltip="Loss plot: linear or log step axis (log keeps a long run's first steps apart)",
        ),
        Binding(
            "t",
            "gradient_view",
            "True grad",
            id="gradient-view",
            tooltip="Gradients pane: backprop, the true gradient, or their difference",
        ),
        Binding(
            "b",
            "swap_boundary",
            "Boundary",
            id="boundary",
            show=False,
            tooltip="2-D data: show the decision boundary or the predictions; on a short "
            "terminal (80x24), show them in the bug list's place, or the bugs again",
        ),
        Binding(
            "d",
            "draw_mode",
            "Draw",
            id="draw",
            show=False,  # the decision boundary's border names it, where it applies
            tooltip="2-D data: draw mode, to add and remove your own points on the decision "
            "boundary (arrows, + - delete, or the mouse; esc leaves)",
        ),
        Binding(
            "u",
            "undo_draw",
            "Undo",
            id="undo-draw",
            show=False,
            tooltip="Undo the last point drawn, removed or flipped",
        ),
        Binding(
            "U",
            "redo_draw",
            "Redo",
            id="redo-draw",
            show=False,
            tooltip="Redo the last point undone",
        ),
        Binding(
            "c",
            "settings",
            "Settings",
            id="settings",
            tooltip="Data and model: dataset, samples, noise, split, layers, loss, lr, seed",
        ),
        Binding(
            "g",
            "gradcheck",
            "Gradcheck",
            id="gradcheck",
            tooltip="Check backprop against finite differences at the current weights",
        ),
        Binding(
            "ctrl+s",
            "save_session",
            "Save",
            id="save-session",
            show=False,
            tooltip="Save the run to a file (open it again with micrograd-tui --load FILE)",
        ),
        Binding(
            "ctrl+e",
            "export_history",
            "Export",
            id="export-history",
            show=False,
            tooltip="Export the loss history as CSV",
        ),
        Binding(
            "ctrl+d",
            "export_data",
            "Export data",
            id="export-data",
            show=False,
            tooltip="Export the run's points (drawn ones included) as CSV, for --data FILE",
        ),
        Binding(
            "p",
            "export_torch",
            "PyTorch",
            id="export-torch",
            show=False,
            tooltip="Export the run as a PyTorch script that continues it, step for step",
        ),
    ]

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
        self, config: RunConfig | None = None, session: TrainingSession | None = None
    ) -> None:
        """A new run from ``config``, or ``session`` (e.g. loaded from a file) as it is."""
        super().__init__()
        self.run_config = config or RunConfig()
        self.session: TrainingSession = session or self.run_config.build_session()
        self.speed: float | None = DEFAULT_SPEED
        self.steps_per_s: float | None = None
        self._last_snapshot: Snapshot | None = None
        self._stop = threading.Event()
        self._frame_done = threading.Event()  # set by the UI once a frame is on screen
        self._frame = 0
        self._panes: list[Pane] = []  # found once mounted, in screen order
        self.graph_state = GraphState()  # the Graph screen reopens where it was left
        self._drawn: DrawnPoints | None = None  # the points drawn into this session
        self._told_drawing_runs = False  # said once per run/pause that edits apply mid-run

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
        self.refresh_panes()
        # Everything built so far lives as long as the app: keep the cyclic collector
        # from walking it again and again (its full passes stall key presses).
        gc.freeze()

    # -- drawing ---------------------------------------------------------------

    @property
    def state(self) -> str:
        if self.session.diverged_at is not None:
            return "diverged"
        return "running" if self.running else "paused"

    @property
    def compact(self) -> bool:
        """Below 120x40: short messages in narrow toasts (app.tcss), over the loss plot."""
        width, height = self.size
        return width < ROOMY_WIDTH or height < ROOMY_HEIGHT

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
            snap = self.session.snapshot()
        self._last_snapshot = snap
        for pane in self._panes:
            if only is None or pane.REDRAW == only:
                pane.show(snap)
        self.query_one(SymptomLine).show(snap)
        self.query_one(StatusBar).show(snap, self.state, self.steps_per_s, speed_label(self.speed))
        self.sub_title = f"{self.run_config.data_label} · {self._architecture()}"

    def _architecture(self) -> str:
        cfg = self.session.config
        sizes = [self.session.nin, *cfg.hidden, 1]
        return f"MLP({sizes[0]}, {sizes[1:]}) {cfg.activation} · loss {cfg.loss} · seed {cfg.seed}"

    def watch_running(self) -> None:
        if self.is_mounted:
            self.refresh_panes()

    # -- training worker ---------------------------------------------------------

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def _train(self) -> None:
        worker = get_current_worker()
        session = self.session
        recent: deque[float] = deque(maxlen=50)
        frames = frame_pacer()
        while not worker.is_cancelled and not self._stop.is_set():
            started = time.monotonic()
            try:
                result = session.step()
            except SessionDiverged as err:
                self.post_message(TrainingStopped(str(err)))
                return
            recent.append(time.monotonic())
            if result.diverged:
                self.post_message(TrainingStopped(session.diverged_reason))
                return
            if not frames.wait():
                rate = (
                    (len(recent) - 1) / (recent[-1] - recent[0])
                    if len(recent) > 1 and recent[-1] > recent[0]
                    else None
                )
                posted = time.monotonic()
                self._frame_done.clear()
                self.post_message(TrainingProgress(session, session.snapshot(), rate))
                # Let the UI thread draw this frame without sharing the interpreter lock:
                # it finishes sooner, so a key pressed meanwhile waits less.
                self._frame_done.wait(FRAME_WAIT)
                frames.done(posted)  # the next frame when waiting has cost ~FRAME_SHARE
            time.sleep(0)  # hand the interpreter lock to the UI thread if it is waiting for it
            speed = self.speed
            if speed is not None:
                # Wait for the next step's slot, waking at once on pause.
                self._stop.wait(max(0.0, started + 1 / speed - time.monotonic()))
        self.post_message(TrainingStopped(None))

    def _start_training(self) -> None:
        self._told_drawing_runs = False
        self._stop.clear()
        self.running = True
        self._train()

    def _stop_training(self) -> None:
        self._stop.set()
        self._frame_done.set()
        self.workers.cancel_group(self, "training")
        self.running = False
        self.steps_per_s = None

    @on(TrainingProgress)
    def _on_progress(self, message: TrainingProgress) -> None:
        if message.steps_per_s is not None:
            self.steps_per_s = message.steps_per_s
        if self.running and message.session is self.session:  # not a stale one from before a reset
            self._frame += 1
            self.refresh_panes(message.snapshot, only=("parameters", "curves")[self._frame % 2])
        self.call_after_refresh(self._frame_done.set)

    @on(TrainingStopped)
    def _on_stopped(self, message: TrainingStopped) -> None:
        if message.diverged_reason:
            self.running = False
            self.steps_per_s = None
            self._tell_diverged(message.diverged_reason)
        self.refresh_panes()

    def _tell_diverged(self, reason: str) -> None:
        self.notify(
            f"{reason}. Lower the learning rate with [ and reset with ctrl+r.",
            title="Training diverged",
            severity="error",
            timeout=8,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "training" and event.state == WorkerState.ERROR:
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
        if self.running:
            self.notify(
                "Training is running: press r to pause before stepping.", severity="warning"
            )
            return
        try:
            result = self.session.step()
        except SessionDiverged as err:
            self._tell_diverged(str(err))
            return
        if result.diverged:
            self._tell_diverged(self.session.diverged_reason)
        self.refresh_panes()

    def action_toggle_run(self) -> None:
        if self.running:
            self._stop_training()
            return
        if self.session.diverged_at is not None:
            self.notify(
                f"{self.session.diverged_reason}. Reset with ctrl+r first.", severity="error"
            )
            return
        self._start_training()

    def action_reset(self) -> None:
        self._stop_training()
        self.session.reset()
        self.notify(f"Reset to the initial weights of seed {self.session.config.seed}.")
        self.refresh_panes()

    def _change_lr(self, factor: float) -> None:
        lr = self.session.learning_rate * factor
        if not LR_MIN <= lr <= LR_MAX:
            limit = "minimum" if lr < LR_MIN else "maximum"
            self.notify(
                f"The learning rate is already {self.session.learning_rate:g}; "
                f"{lr:g} is past the {limit} of {LR_MIN if lr < LR_MIN else LR_MAX:g}.",
                severity="warning",
            )
            return
        self.session.set_learning_rate(lr)
        self.notify(f"Learning rate {lr:g} from the next step.", timeout=2)
        self.refresh_panes()

    def action_lr_down(self) -> None:
        self._change_lr(0.5)

    def action_lr_up(self) -> None:
        self._change_lr(2.0)

    def action_toggle_bug(self, number: int) -> None:
        if not 1 <= number <= len(bug_catalogue.CATALOGUE):
            self.notify(f"There is no bug {number}.", severity="warning")
            return
        bug = bug_catalogue.CATALOGUE[number - 1]
        on = self.session.toggle_bug(bug.id)
        state = "on" if on else "off"
        if self.compact:
            # The symptom line says what changed; the bug's "why?" says what to look for.
            self.notify(f"{bug.id} {state} from the next step.")
        else:
            self.notify(
                f"{bug.id} {state} from the next step. {bug.look_for if on else ''}", timeout=4
            )
        self.refresh_panes()

    def toggle_bug_by_id(self, bug_id: str) -> None:
        ids = [bug.id for bug in bug_catalogue.CATALOGUE]
        self.action_toggle_bug(ids.index(bug_id) + 1)

    @on(BugToggle.Toggled)
    def _on_bug_clicked(self, message: BugToggle.Toggled) -> None:
        self.toggle_bug_by_id(message.bug_id)

    def action_bug_detail(self, bug_id: str) -> None:
        if bug_id not in bug_catalogue.BUGS:
            self.notify(f"There is no bug {bug_id!r}.", severity="warning")
            return
        self.push_screen(BugDetailScreen(bug_catalogue.BUGS[bug_id]))

    def action_demo(self, bug_id: str) -> None:
        """Load the run where ``bug_id`` shows plainest, bug on, clean twin beside it."""
        demo = DEMOS.get(bug_id)
        if demo is None:
            self.notify(f"There is no demo of {bug_id!r}.", severity="warning")
            return

        def loaded() -> None:
            self.notify(demo.why, title=f"Demo: {bug_id} on {demo.dataset}", timeout=8)

        self._replace_run(demo.run_config(), f"Load the {bug_id} demo", then=loaded)

    def action_cycle_speed(self) -> None:
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.set_speed(SPEEDS[(index + 1) % len(SPEEDS)])

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._stop.set()  # wake a sleeping worker so the new pace applies now
        if self.running:
            self._stop.clear()
            self._train()
        self.notify(f"Run speed: {speed_label(speed)}.", timeout=2)
        self.refresh_panes()

    def action_full_speed(self) -> None:
        self.set_speed(DEFAULT_SPEED if self.speed is None else None)

    def action_toggle_step_axis(self) -> None:
        plot = self.query_one(LossPlot)
        plot.set_log_steps(not plot.log_steps)

    def action_toggle_log(self) -> None:
        plot = self.query_one(LossPlot)
        plot.set_log_scale(not plot.log_scale)

    # -- drawing points ----------------------------------------------------------------

    @property
    def drawn(self) -> DrawnPoints:
        """The edits made to the current run's points (a new run starts with none)."""
        if self._drawn is None or self._drawn.session is not self.session:
            self._drawn = DrawnPoints(self.session)
        return self._drawn

    def action_draw_mode(self) -> None:
        boundary = self.query_one(DecisionBoundary)
        if boundary.drawing:
            boundary.set_drawing(False)
            self.notify("Draw mode off: a click on a point opens its graph again.", timeout=3)
            return
        if self.session.nin != 2:
            self.notify(
                "Drawing points needs data with two features; this data has "
                f"{self.session.nin}. Try the blank dataset (ctrl+p, Dataset: blank).",
                severity="warning",
            )
            return
        side = self.query_one(SideColumn)
        for _ in range(3):  # b's states: on a short column the boundary takes the bugs' place
            if boundary.display and side.shows_boundary:
                break
            side.swap()
        self.refresh_panes()
        if not boundary.display:
            self.notify(
                "The decision boundary has no room at this size; make the terminal taller.",
                severity="warning",
            )
            return
        boundary.set_drawing(True)
        self.notify(
            "Draw mode: arrows move, + / - add a +1 / -1 point, delete removes; "
            "or click: left +1, right -1, middle removes. esc leaves.",
            timeout=4,
        )

    @on(PointEdit)
    def _on_point_edit(self, message: PointEdit) -> None:
        drawn = self.drawn
        try:
            if message.kind == "remove":
                nearest = drawn.nearest(message.at)
                if nearest is None:
                    self.notify("There is no point to remove.", severity="warning", timeout=3)
                    return
                edit = drawn.remove(nearest[0], nearest[1])
            elif message.on_top is not None and message.on_top < len(self.session.ys):
                if self.session.ys[message.on_top] == message.label:
                    self.notify(
                        f"There is already a {_sign(message.label)} point in this cell; "
                        "a second would only count it twice.",
                        severity="warning",
                        timeout=4,
                    )
                    return
                edit = drawn.relabel(message.on_top)
                self.notify(
                    f"The point in this cell was {_sign(-edit.label)}: it is "
                    f"{_sign(edit.label)} now (u undoes).",
                    timeout=3,
                )
            else:
                edit = drawn.add(message.at, message.label)
        except DrawRefused as err:
            self.notify(f"Cannot remove it: {err}.", severity="warning", timeout=4)
            return
        self._drawn_changed(_short(edit))

    def _drawn_changed(self, said: str) -> None:
        """Say (in the boundary's subtitle) what an edit did and from which step; redraw.

        While training runs, say once that the points change between two steps.
        """
        step = self.session.step_count + 1
        if self.running and not self._told_drawing_runs:
            self._told_drawing_runs = True
            self.notify(
                f"The new points apply between two steps (from step {step}); training runs on.",
                timeout=3,
            )
        self.refresh_panes()
        self.query_one(DecisionBoundary).tell(said)

    def action_undo_draw(self) -> None:
        self._undo_or_redo(undo=True)

    def action_redo_draw(self) -> None:
        self._undo_or_redo(undo=False)

    def _undo_or_redo(self, undo: bool) -> None:
        drawn = self.drawn
        word = "undo" if undo else "redo"
        try:
            edit = drawn.undo() if undo else drawn.redo()
        except DrawRefused as err:
            self.notify(f"Cannot {word} that: {err}.", severity="warning", timeout=4)
            return
        if edit is None:
            self.notify(f"Nothing to {word}.", timeout=3)
            return
        self._drawn_changed(f"{word}: {_short(edit)}")

    def action_swap_boundary(self) -> None:
        side = self.query_one(SideColumn)
        if self.session.nin != 2 and not side.short:
            self.notify(
                "The decision boundary needs data with two features; this data has "
                f"{self.session.nin}.",
                severity="warning",
            )
            return
        boundary = self.query_one(DecisionBoundary)
        if boundary.drawing:
            boundary.set_drawing(False)  # the cursor goes with the plane
        side.swap()
        self.refresh_panes()

    def action_settings(self) -> None:
        current = replace(
            self.run_config,
            session=self.session.config,
            bugs=tuple(sorted(self.session.bugs)),
        )

        def apply(config: RunConfig | None) -> None:
            if config is None or config == current:
                return
            self._replace_run(config, "Apply the new settings")

        self.push_screen(RunSettingsScreen(current), apply)

    def action_gradient_view(self) -> None:
        view = self.query_one(GradientsPane).cycle_view()
        if view != "backprop" and not self.session.bugs:
            self.notify(
                "No bug is on, so backprop is the true gradient; switch a bug on to compare.",
                timeout=4,
            )
        self.refresh_panes(self._last_snapshot)

    def action_gradcheck(self) -> None:
        self.push_screen(GradCheckScreen(self.session))

    def action_graph(self) -> None:
        if not isinstance(self.screen, GraphScreen):
            self.push_screen(GraphScreen(self.session, self.graph_state))

    @on(SamplePicked)
    def _open_sample_graph(self, message: SamplePicked) -> None:
        """A predictions row or a boundary point was clicked: that sample's graph."""
        if isinstance(self.screen, GraphScreen):
            self.screen.show_sample(message.sample)
            return
        self.graph_state.source = "model"
        self.graph_state.sample = message.sample
        self.graph_state.position = 0
        self.push_screen(GraphScreen(self.session, self.graph_state))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        bindings = [b for b in self.BINDINGS if isinstance(b, Binding)]
        # Help and quit lead the footer; in the help screen they close the list.
        bindings.sort(key=lambda b: b.id in ("help", "quit"))
        rows = [(self.key_label(b), b.tooltip or b.description) for b in bindings]
        rows.insert(-1, ("ctrl+p", "Command palette: every action, dataset presets, run speeds"))
        rows.insert(
            -1,
            (
                "arrows",
                "Move the cursor in a focused weights or gradients pane, or in draw mode (d)",
            ),
        )
        rows.insert(
            -1,
            (
                "+ - delete",
                (
                    "Draw mode: add a +1 point, a -1 point, remove the nearest; or click: "
                    "left +1, right -1, middle (or ctrl) removes"
                ),
            ),
        )
        sections = help_sections(self.screen_stack[0])  # the dashboard's panes, in screen order
        sections.append((GradCheckScreen.HELP_TITLE, GradCheckScreen.HELP))
        sections.append((GraphScreen.HELP_TITLE, GraphScreen.HELP))
        self.push_screen(HelpScreen(rows, sections))

    @staticmethod
    def key_label(binding: Binding) -> str:
        """How help and the palette write a binding's keys: '[', '? or f1', 'ctrl+r'."""
        names = {"left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?"}
        return " or ".join(names.get(k, k) for k in binding.key.split(","))

    # -- choosing a different run ------------------------------------------------------

    def choose_dataset(self, name: str) -> None:
        """Switch to a dataset's preset; asks first if the current run has steps."""
        if name not in datasets.DATASETS:
            self.notify(f"Unknown dataset {name!r}.", severity="error")
            return
        config = RunConfig(
            dataset=name,
            session=replace(PRESETS[name], seed=self.session.config.seed),
            bugs=tuple(sorted(self.session.bugs)),
        )
        self._replace_run(config, f"Switch to the {name} preset")

    def _replace_run(self, config: RunConfig, what: str, then=None) -> None:
        """Start ``config``'s run in place of this one (asking first if it has steps).

        ``then``: called once it has started, to say more than ``what`` does. A
        large run is built off the UI thread (``BuildingScreen``), and can be cancelled.
        """

        def switch(session: TrainingSession | str | None) -> None:
            if session is None:
                self.notify("Cancelled: kept the current run.", timeout=3)
                return
            if isinstance(session, str):
                self.notify(session, title="Could not start that run", severity="error")
                return
            self._stop_training()
            self.run_config = config
            self.session = session
            boundary = self.query_one(DecisionBoundary)
            if boundary.drawing and session.nin != 2:
                boundary.set_drawing(False)
            if then is None:
                self.notify(f"{what}: {self._architecture()}.")
            else:
                then()
            self.refresh_panes()

        def apply(confirmed: bool | None) -> None:
            if not confirmed:
                self.notify("Kept the current run.", timeout=2)
                return
            if builds_slowly(config):
                # Off the UI thread, with its progress shown; escape cancels it.
                self.push_screen(BuildingScreen(config, what), switch)
                return
            try:
                switch(config.build_session())
            except (ConfigError, datasets.DatasetError, ValueError) as err:
                switch(str(err))

        if self.session.step_count == 0:
            apply(True)
        else:
            self.push_screen(
                ConfirmDialog(
                    f"{what}? This discards the current run ({self.session.step_count} steps).",
                    yes="Discard and switch",
                ),
                apply,
            )

    # -- keeping the two parameter panes pointing at the same parameter --------

    @on(ParameterGrid.CursorMoved)
    def _sync_cursor(self, message: ParameterGrid.CursorMoved) -> None:
        for grid in self.query(ParameterGrid):
            if grid is not message.grid:
                grid.cursor = message.cursor
        if self._last_snapshot is not None:  # the grids redraw themselves; the details follow
            for pane in self.query(ParameterPane):
                pane.show_detail(self._last_snapshot)


def _sign(label: float | None) -> str:
    return "+1" if label is not None and label > 0 else "-1"


def _short(edit: Edit) -> str:
    """What an edit did, in a few characters: "added +1", "removed -1", "made +1"."""
    verb = {"add": "added", "remove": "removed", "relabel": "made"}[edit.kind]
    return f"{verb} {_sign(edit.label)}" + (" test" if edit.part == TEST else "")
