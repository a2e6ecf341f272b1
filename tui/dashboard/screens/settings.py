"""The run settings dialog: data, model and training, checked as the flags are.

``RunSettingsScreen(config)`` opens prefilled from a ``RunConfig``; picking
another dataset fills in that dataset's preset. Apply parses every field
with the command line's own parsers (``tui.cli.config``), so a value the CLI
refuses is refused here with the same reason, shown under the form with the
field's name; the dialog stays open and keeps what was typed. It returns the
new ``RunConfig``, or None when cancelled (escape). It never touches the
running session: asking before discarding a run is the app's part.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

import datasets
from engine.losses import LOSSES
from engine.training.records import SessionConfig
from tui.cli import classroom
from tui.cli.config import (
    CSV_PRESET,
    HIDDEN_ACTIVATIONS,
    PRESETS,
    FlagError,
    RunConfig,
    batch_size,
    dataset_name,
    one_of,
    parse_hidden,
    real_number,
    sample_count,
    whole_number,
)

CSV = "csv"  # the dataset choice that keeps the current CSV file
SHARED = "shared:"  # served: the choice of a CSV file in the teacher's folder, by name


def _is_file(choice: str) -> bool:
    """Whether a dataset choice is a CSV file (the current one, or a shared one)."""
    return choice == CSV or choice.startswith(SHARED)


CONSTANT, LINEAR_DECAY = "constant", "linear"


@dataclass(frozen=True)
class Field:
    """One text field: the label the user sees, and how its text is parsed."""

    id: str
    label: str
    parse: Callable[[str], object]
    placeholder: str = ""


# The parsers are the CLI's, built with the same rules and flag names (a test
# checks each against the flag's); the decay end and steps have no flag, and
# get names of the same form.
FIELDS = {
    f.id: f
    for f in (
        Field("samples", "Samples", sample_count("--samples")),
        Field("noise", "Noise", real_number("--noise", low=0.0)),
        Field(
            "test-fraction",
            "Test fraction",
            real_number("--test-fraction", low=0.0, high=1.0),
            "held out: 0 to < 1, e.g. 0.2",
        ),
        Field("hidden", "Hidden layers", parse_hidden, "sizes, e.g. 16,16"),
        Field("lr", "Learning rate", real_number("--lr", positive=True), "> 0"),
        Field("lr-end", "Decay to", real_number("--lr-end", positive=True), "end rate > 0"),
        Field("decay-steps", "Decay over", whole_number("--decay-steps"), "steps >= 1"),
        Field("seed", "Seed", whole_number("--seed", allow_zero=True), "whole number >= 0"),
        Field("batch-size", "Batch size", batch_size, "samples per step; blank: all"),
    )
}
# The field to blame for a flag's error that only shows once the data is sized.
FLAG_FIELDS = {
    "--test-fraction": "test-fraction",
    "--samples": "samples",
    "--hidden": "hidden",
    "--data": "dataset",
}
CHOICES = {
    "dataset": ("Dataset", dataset_name),
    "activation": ("Activation", one_of("--activation", HIDDEN_ACTIVATIONS)),
    "loss": ("Loss", one_of("--loss", list(LOSSES))),
}


class SettingError(Exception):
    """A field's value is wrong: which field, and the message to show."""

    def __init__(self, field_id: str, message: str) -> None:
        super().__init__(message)
        self.field_id = field_id


def _label(field_id: str) -> str:
    return FIELDS[field_id].label if field_id in FIELDS else CHOICES[field_id][0]


def _generator_default(name: str, parameter: str) -> object | None:
    """The default a dataset generator uses for ``samples`` or ``noise``."""
    default = inspect.signature(datasets.DATASETS[name]).parameters[parameter].default
    return None if default in (None, inspect.Parameter.empty) else default


def _text(value: float | None) -> str:
    """A number as the user would type it; ``str`` keeps floats exact (0.05, 1e-05)."""
    return "" if value is None else str(value)


class RunSettingsScreen(ModalScreen[RunConfig | None]):
    """Data, model and training settings for a new run; returns a RunConfig or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="settings.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="settings.apply"),
    ]

    DEFAULT_CSS = """
    RunSettingsScreen {
        align: center middle;
    }
    #settings {
        width: 64;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    #settings-form {
        grid-size: 2;
        grid-columns: 15 1fr;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: auto;
    }
    #settings-form Label {
        color: $text-muted;
        width: 100%;
        text-align: right;
    }
    #settings-form Label.-invalid {
        color: $error;
        text-style: bold;
    }
    #settings-error {
        color: $error;
        height: auto;
        margin-top: 1;
    }
    #settings-error.-empty {
        display: none;
    }
    #settings-buttons {
        height: auto;
        align: center middle;
        margin-top: 1;
    }
    #settings-buttons Button {
        margin: 0 1;
    }
    """

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.config = config
        self._dataset = CSV if config.data_path else config.dataset  # whose values fill the form
        self._base: SessionConfig = config.session  # l2, weight decay, output: kept as they are

    # -- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        cfg, session = self.config, self.config.session
        dataset_options = [(name, name) for name in datasets.DATASETS]
        if cfg.data_path:
            dataset_options.append((f"file {Path(cfg.data_path).name}", CSV))
        if classroom.served():  # the teacher's folder, by name: no path is typed
            shared = classroom.data_files()
            dataset_options += [(f"shared file {name}", SHARED + name) for name in shared]
        with Vertical(id="settings") as box:
            box.border_title = "Run settings"
            with Grid(id="settings-form"):
                yield from self._row(
                    "dataset",
                    Select(
                        dataset_options,
                        value=self._dataset,
                        allow_blank=False,
                        compact=True,
                        id="dataset",
                    ),
                )
                yield from self._input("samples", _text(cfg.samples))
                yield from self._input("noise", _text(cfg.noise))
                yield from self._input("test-fraction", _text(cfg.test_fraction))
                yield from self._input("hidden", ",".join(str(h) for h in session.hidden))
                yield from self._row(
                    "activation",
                    Select(
                        [(a, a) for a in HIDDEN_ACTIVATIONS],
                        value=session.activation,
                        allow_blank=False,
                        compact=True,
                        id="activation",
                    ),
                )
                yield from self._row(
                    "loss",
                    Select(
                        [(name, name) for name in LOSSES],
                        value=session.loss,
                        allow_blank=False,
                        compact=True,
                        id="loss",
                    ),
                )
                yield from self._input("lr", _text(session.lr))
                yield from self._row(
                    "schedule",
                    Select(
                        [("constant", CONSTANT), ("linear decay", LINEAR_DECAY)],
                        value=CONSTANT if session.lr_end is None else LINEAR_DECAY,
                        allow_blank=False,
                        compact=True,
                        id="schedule",
                    ),
                    label="Schedule",
                )
                yield from self._input("lr-end", _text(session.lr_end))
                yield from self._input("decay-steps", _text(session.decay_steps))
                yield from self._input("seed", _text(session.seed))
                yield from self._input("batch-size", _text(session.batch_size))
            if classroom.served():
                yield Static(self._shared_note(), id="settings-shared")
            yield Static("", id="settings-error", classes="-empty")
            with Horizontal(id="settings-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    @staticmethod
    def _shared_note() -> str:
        """Served: where data files come from, or that loading them is off."""
        if classroom.data_dir() is None:
            return f"Data files: {classroom.LOADING_OFF}."
        count = len(classroom.data_files())
        return f"Data files: {count} shared by the teacher, under Dataset ('shared file …')."

    def _row(self, field_id: str, control, label: str | None = None) -> ComposeResult:
        label = label or _label(field_id)
        yield Label(label, id=f"{field_id}-label")
        yield control

    def _input(self, field_id: str, value: str) -> ComposeResult:
        yield from self._row(field_id, Input(value, compact=True, id=field_id))

    def on_mount(self) -> None:
        self._fit_to_dataset()
        self._fit_to_schedule()
        self.query_one("#dataset", Select).focus()

    # -- reacting to choices ---------------------------------------------------------

    @on(Select.Changed, "#dataset")
    def _dataset_changed(self, event: Select.Changed) -> None:
        name = event.value
        if name == self._dataset or name == Select.NULL:
            return  # the form already holds this dataset's values
        self._dataset = name
        preset = CSV_PRESET if _is_file(name) else PRESETS[name]
        self._base = replace(preset, seed=self._base.seed)
        self._fill_session(preset)
        self.query_one("#samples", Input).value = ""
        self.query_one("#noise", Input).value = ""
        self._fit_to_dataset()

    def _fill_session(self, preset: SessionConfig) -> None:
        """Put a preset's model and training settings in the form; seed and split stay."""
        self.query_one("#hidden", Input).value = ",".join(str(h) for h in preset.hidden)
        self.query_one("#activation", Select).value = preset.activation
        self.query_one("#loss", Select).value = preset.loss
        self.query_one("#lr", Input).value = _text(preset.lr)
        self.query_one("#schedule", Select).value = (
            CONSTANT if preset.lr_end is None else LINEAR_DECAY
        )
        self.query_one("#lr-end", Input).value = _text(preset.lr_end)
        self.query_one("#decay-steps", Input).value = _text(preset.decay_steps)
        self._fit_to_schedule()

    def _fit_to_dataset(self) -> None:
        """Samples and noise shape generated data; the lecture's points and files are fixed."""
        fixed = _is_file(self._dataset) or self._dataset in datasets.FIXED_POINTS
        for field_id in ("samples", "noise"):
            box = self.query_one(f"#{field_id}", Input)
            box.disabled = fixed
            if fixed:
                box.value = ""
                box.placeholder = "fixed by the data"
            else:
                box.placeholder = f"blank: {_generator_default(self._dataset, field_id)}"

    @on(Select.Changed, "#schedule")
    def _fit_to_schedule(self) -> None:
        decaying = self.query_one("#schedule", Select).value == LINEAR_DECAY
        for field_id in ("lr-end", "decay-steps"):
            self.query_one(f"#{field_id}", Input).disabled = not decaying
        lr_end = self.query_one("#lr-end", Input)
        if decaying and not lr_end.value:
            lr_end.value = _text(self._suggested_lr_end())

    def _suggested_lr_end(self) -> float:
        try:
            return FIELDS["lr"].parse(self.query_one("#lr", Input).value.strip()) / 10
        except FlagError:
            return self._base.lr / 10

    # -- apply / cancel ----------------------------------------------------------------

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted)
    def action_apply(self) -> None:
        self._clear_error()
        try:
            config = self.read_config()
        except SettingError as err:
            self._show_error(err)
            return
        self.dismiss(config)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def read_config(self) -> RunConfig:
        """The RunConfig the form describes; raises SettingError naming the first bad field."""

        def value(field_id: str, blank=...):
            text = self.query_one(f"#{field_id}", Input).value.strip()
            if not text and blank is not ...:
                return blank
            try:
                return FIELDS[field_id].parse(text)
            except FlagError as err:
                raise SettingError(field_id, f"{FIELDS[field_id].label}: {err.reason}") from None

        def choice(field_id: str) -> str:
            selected = self.query_one(f"#{field_id}", Select).value
            label, parse = CHOICES[field_id]
            try:
                return parse(str(selected))
            except FlagError as err:
                raise SettingError(field_id, f"{label}: {err.reason}") from None

        csv = _is_file(self._dataset)
        name = self.config.dataset if csv else choice("dataset")
        data_path = self.config.data_path if csv else None
        if self._dataset.startswith(SHARED):
            try:  # checked again: the folder may have changed since the list was made
                data_path = classroom.data_path(self._dataset.removeprefix(SHARED))
            except classroom.NotShared as err:
                raise SettingError("dataset", f"{_label('dataset')}: {err}") from None
        samples = value("samples", blank=None)
        noise = value("noise", blank=None)
        test_fraction = value("test-fraction")
        hidden = value("hidden")
        activation = choice("activation")
        loss = choice("loss")
        lr = value("lr")
        decaying = self.query_one("#schedule", Select).value == LINEAR_DECAY
        lr_end = value("lr-end") if decaying else None
        decay_steps = value("decay-steps") if decaying else self._base.decay_steps
        seed = value("seed")
        batch = value("batch-size", blank=None)
        try:
            session = replace(
                self._base,
                hidden=hidden,
                activation=activation,
                loss=loss,
                lr=lr,
                lr_end=lr_end,
                decay_steps=decay_steps,
                seed=seed,
                batch_size=batch,
            )
        except ValueError as err:  # the parsers above should have caught it already
            raise SettingError("hidden", f"{_label('hidden')}: {err}") from None
        config = RunConfig(
            dataset=name,
            data_path=data_path,
            samples=samples,
            noise=noise,
            test_fraction=test_fraction,
            session=session,
            bugs=self.config.bugs,
        )
        try:
            # e.g. too few samples to hold out a test set, or a run too large to train
            config.check()
        except (datasets.DatasetError, ValueError) as err:
            if isinstance(err, FlagError) and err.flag in FLAG_FIELDS:
                field_id, reason = FLAG_FIELDS[err.flag], err.reason
            else:
                field_id, reason = ("dataset" if csv else "samples"), str(err)
            raise SettingError(field_id, f"{_label(field_id)}: {reason}") from None
        return config

    def _show_error(self, err: SettingError) -> None:
        message = self.query_one("#settings-error", Static)
        message.update(str(err))
        message.remove_class("-empty")
        self.query_one(f"#{err.field_id}-label", Label).add_class("-invalid")
        field = self.query_one(f"#{err.field_id}")
        field.focus()
        if isinstance(field, Input):
            # Already focused after an earlier error, focus() selects nothing: typing
            # would append to the bad text. Select it, so typing replaces it.
            field.select_all()

    def _clear_error(self) -> None:
        self.query_one("#settings-error", Static).add_class("-empty")
        for label in self.query("#settings-form Label.-invalid"):
            label.remove_class("-invalid")
