"""The dashboard's actions, one row each: the one home of every key's id, key, title,
footer text, help text and palette entry.

``MicrogradApp.BINDINGS``, the command palette (``commands.py``) and the help screen
(``screens/help.py``) all read ``ACTIONS``; nothing else restates a key or its words.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from engine.bugs import CATALOGUE
from tui.dashboard.pacing import DEFAULT_SPEED, SPEEDS, speed_label


@dataclass(frozen=True)
class Action:
    id: str
    keys: str  # Textual's key names, comma-separated
    action: str  # the App's action_<name>, with arguments as Textual writes them
    footer: str  # the footer's word
    help: str  # one line: the help screen, and the footer's tooltip
    show: bool = True  # in the footer
    palette: str | None = None  # the palette's title; None: not offered by name there
    palette_help: str = ""  # what the palette says under the title (the key is added)


def _bug_toggle(number: int) -> Action:
    bug = CATALOGUE[number - 1]
    return Action(
        f"bug-{number}",
        str(number),
        f"toggle_bug({number})",
        f"bug {number}",
        f"Switch bug {number} ({bug.id}) on or off",
        show=number == 1,
    )


SPEED_LIST = ", ".join(speed_label(s, unit="") for s in SPEEDS)

ACTIONS: tuple[Action, ...] = (
    # First, so that the footer shows them at every width (it cuts from the right).
    Action(
        "help",
        "question_mark,f1",
        "help",
        "Help",
        "Every key, pane and bug explained",
        palette="Help",
        palette_help="every key, pane and bug",
    ),
    Action("quit", "q", "quit", "Quit", "Quit"),
    # Not a priority binding: a text field in a dialog (or the palette) needs its spaces.
    Action(
        "step",
        "space",
        "step",
        "Step",
        "Take one training step: forward, zero_grad, backward, update",
        palette="Step once",
        palette_help="forward, zero_grad, backward, update",
    ),
    Action(
        "run",
        "r",
        "toggle_run",
        "Run/Pause",
        "Train continuously, or pause",
        palette="Run / pause",
        palette_help="train continuously, or stop",
    ),
    Action(
        "reset",
        "ctrl+r",
        "reset",
        "Reset",
        "Back to the seed's initial weights",
        palette="Reset",
        palette_help="back to the seed's initial weights",
    ),
    Action(
        "lr-down",
        "left_square_bracket",
        "lr(0.5)",
        "lr ½",
        "Halve the learning rate",
        palette="Halve the learning rate",
    ),
    Action(
        "lr-up",
        "right_square_bracket",
        "lr(2.0)",
        "lr ×2",
        "Double the learning rate",
        palette="Double the learning rate",
    ),
    *(_bug_toggle(number) for number in range(1, len(CATALOGUE) + 1)),
    Action(
        "graph",
        "v",
        "graph",
        "Graph",
        "The value graph and a chain-rule stepper: forward, then backward node by node",
        palette="Graph and chain-rule stepper",
        palette_help="draw_dot-style value graph; step forward and backward node by node",
    ),
    Action(
        "back",
        "less_than_sign",
        "travel(-1)",
        "◀ step",
        "Time travel: view the step before (every pane as it was; a change there branches)",
        show=False,
        palette="Back one step",
        palette_help="every pane as it was a step before",
    ),
    Action(
        "forward",
        "greater_than_sign",
        "travel(1)",
        "step ▶",
        "Time travel: view the step after, up to the present",
        show=False,
        palette="Forward one step",
        palette_help="toward the present",
    ),
    Action(
        "back-ten",
        "left_curly_bracket",
        "travel(-10)",
        "◀◀",
        "Time travel: ten steps back",
        show=False,
    ),
    Action(
        "forward-ten",
        "right_curly_bracket",
        "travel(10)",
        "▶▶",
        "Time travel: ten steps forward",
        show=False,
    ),
    Action(
        "first-step",
        "home",
        "travel_start",
        "Start",
        "Time travel: view the run's start (step 0); a click on the loss plot views that step",
        show=False,
        palette="View the start",
        palette_help="step 0, the seed's weights",
    ),
    Action(
        "present",
        "end",
        "travel_present",
        "Present",
        "Time travel: back to the present, the run's latest step",
        show=False,
        palette="Back to the present",
        palette_help="the run's latest step",
    ),
    Action("speed", "s", "cycle_speed", "Speed", f"Run speed: {SPEED_LIST} steps/s"),
    Action(
        "full-speed",
        "f",
        "full_speed",
        "Full speed",
        f"Train as fast as it goes, or back to {DEFAULT_SPEED:g} steps/s to watch",
        palette="Full speed / watchable pace",
        palette_help="as fast as it goes, or back to the default pace",
    ),
    Action(
        "log-scale",
        "l",
        "toggle_log",
        "Log",
        "Loss plot: linear or log scale",
        palette="Toggle log scale",
        palette_help="loss plot",
    ),
    Action(
        "step-axis",
        "x",
        "toggle_step_axis",
        "Step axis",
        "Loss plot: linear or log step axis (log keeps a long run's first steps apart)",
        show=False,
        palette="Toggle log step axis",
        palette_help="loss plot: a long run's first steps spread out",
    ),
    Action(
        "gradient-view",
        "t",
        "gradient_view",
        "True grad",
        "Gradients pane: backprop, the true gradient, or their difference",
    ),
    Action(
        "boundary",
        "b",
        "swap_boundary",
        "Boundary",
        "2-D data: show the decision boundary or the predictions; on a short "
        "terminal (80x24), show them in the bug list's place, or the bugs again",
        show=False,
        palette="Swap decision boundary / predictions",
    ),
    Action(
        "draw",
        "d",
        "draw_mode",
        "Draw",
        "2-D data: draw mode, to add and remove your own points on the decision "
        "boundary (arrows, + - delete, or the mouse; esc leaves)",
        show=False,  # the decision boundary's border names it, where it applies
        palette="Draw mode: your own points",
        palette_help="2-D data: add and remove points on the decision boundary",
    ),
    Action(
        "undo-draw",
        "u",
        "undo_draw",
        "Undo",
        "Undo the last point drawn, removed or flipped",
        show=False,
        palette="Undo the last drawn point",
    ),
    Action(
        "redo-draw",
        "U",
        "redo_draw",
        "Redo",
        "Redo the last point undone",
        show=False,
        palette="Redo the drawn point",
    ),
    Action(
        "settings",
        "c",
        "settings",
        "Settings",
        "Data and model: dataset, samples, noise, split, layers, loss, lr, seed",
        palette="Run settings…",
        palette_help="dataset, samples, noise, split, layers, activation, loss, lr, seed",
    ),
    Action(
        "gradcheck",
        "g",
        "gradcheck",
        "Gradcheck",
        "Check backprop against finite differences at the weights the panes show",
        palette="Gradient check",
        palette_help="backprop vs finite differences",
    ),
    Action(
        "quiz",
        "Q",
        "quiz_start",
        "Diagnose it",
        "Diagnose it: 6 rounds, each a run with a hidden bug (or none) to name from the panes",
        show=False,
        palette="Diagnose it",
        palette_help="a quiz: name the hidden bug from what the panes show",
    ),
    Action(
        "answer-none",
        "0",
        "quiz_choose_none",
        "no bug",
        "Diagnose it: choose 'no bug' as your answer (1-6 choose a bug)",
        show=False,
    ),
    Action("answer", "a", "quiz_answer", "Answer", "Diagnose it: give your answer", show=False),
    Action(
        "hint",
        "h",
        "quiz_hint",
        "Hint",
        "Diagnose it: show or hide a correct run of the same model (the score notes it)",
        show=False,
    ),
    Action(
        "save-session",
        "ctrl+s",
        "save('save_session')",
        "Save",
        "Save the run to a file (open it again with micrograd-tui --load FILE)",
        show=False,
        palette="Save the run",
        palette_help="to a JSON file you can --load",
    ),
    Action(
        "export-history",
        "ctrl+e",
        "save('export_history')",
        "Export",
        "Export the loss history as CSV",
        show=False,
        palette="Export the loss history",
        palette_help="as CSV",
    ),
    Action(
        "export-data",
        "ctrl+d",
        "save('export_data')",
        "Export data",
        "Export the run's points (drawn ones included) as CSV, for --data FILE",
        show=False,
        palette="Export the data",
        palette_help="the points, drawn ones included, as CSV for --data",
    ),
    Action(
        "export-torch",
        "p",
        "save('export_torch')",
        "PyTorch",
        "Export the run as a PyTorch script that continues it, step for step",
        show=False,
        palette="Export to PyTorch",
        palette_help="a script that continues this run in torch",
    ),
)

# Keys that widgets handle themselves (the palette, a pane's cursor, draw mode): help only.
WIDGET_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+p", "Command palette: every action, dataset presets, run speeds"),
    ("arrows", "Move the cursor in a focused weights or gradients pane, or in draw mode (d)"),
    (
        "+ - delete",
        (
            "Draw mode: add a +1 point, a -1 point, remove the nearest; or click: "
            "left +1, right -1, middle (or ctrl) removes"
        ),
    ),
)

_KEY_NAMES = {
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "question_mark": "?",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
}


def key_label(keys: str) -> str:
    """How help and the palette write keys: '[', '? or f1', 'ctrl+r'."""
    return " or ".join(_KEY_NAMES.get(k, k) for k in keys.split(","))


# The panes that scroll (the parameter grids, the bug list) bind home and end to scrolling;
# on the dashboard those keys are time travel's, wherever the focus is.
TRAVEL_KEYS: list[Binding] = [
    Binding("home", "app.travel_start", "Start", show=False),
    Binding("end", "app.travel_present", "Present", show=False),
]


def bindings() -> list[Binding]:
    """The App's bindings, in the footer's order."""
    return [
        Binding(a.keys, a.action, a.footer, id=a.id, show=a.show, tooltip=a.help) for a in ACTIONS
    ]


def help_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for the help screen: help, the widgets' keys, then quit last."""
    rows = [(key_label(a.keys), a.help) for a in ACTIONS if a.id not in ("help", "quit")]
    by_id = {a.id: (key_label(a.keys), a.help) for a in ACTIONS}
    return [*rows, by_id["help"], *WIDGET_KEYS, by_id["quit"]]


def key_of(action: str) -> str:
    """The keys of the action named ``action`` (for messages such as "press t")."""
    return next(key_label(a.keys) for a in ACTIONS if a.action == action)


def palette_entries() -> list[tuple[str, str, str]]:
    """(title, action, what it does, with its key) for the command palette."""
    return [
        (a.palette, a.action, f"{a.palette_help} ({key_label(a.keys)})".lstrip())
        for a in ACTIONS
        if a.palette is not None
    ]
