"""The run settings dialog: the RunConfig it returns, and every field it refuses."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace

import pytest
from textual.app import App
from textual.widgets import Input, Label, Select

import datasets
from tests.support.pilot import SettingsApp, shown_error
from tui.cli.commands import _app_parser
from tui.cli.config import PRESETS, RunConfig
from tui.dashboard.screens.settings import RunSettingsScreen

SIZE = (80, 24)
MOONS = RunConfig(
    dataset="moons",
    samples=120,
    noise=0.15,
    test_fraction=0.2,
    session=replace(PRESETS["moons"], seed=3),
    bugs=("overwrite-grad",),
)


def field(app: App, field_id: str):
    return app.screen.query_one(f"#{field_id}")


async def fill(pilot, field_id: str, text: str) -> None:
    """Put text in a field at once (quicker than typing it key by key)."""
    box = field(pilot.app, field_id)
    assert isinstance(box, Input) and not box.disabled
    box.value = text
    await pilot.pause()


async def type_into(pilot, field_id: str, text: str) -> None:
    """Focus a field (which selects its text) and type over it, as a user would."""
    box = field(pilot.app, field_id)
    assert isinstance(box, Input) and not box.disabled
    box.focus()
    await pilot.pause()
    box.action_select_all()
    await pilot.press("backspace", *text)
    assert box.value == text


async def choose(pilot, field_id: str, value: str) -> None:
    select = field(pilot.app, field_id)
    assert isinstance(select, Select)
    select.value = value
    await pilot.pause()


async def apply(pilot) -> None:
    """Apply through the dialog's own binding (ctrl+s), as a keyboard user would.

    Not by clicking Apply: a Button ignores clicks for 0.2 s after the last one, so a
    test that clicks it twice in a row passes or fails with the machine's speed.
    """
    await pilot.press("ctrl+s")
    await pilot.pause()


# -- what Apply returns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [MOONS, RunConfig(), RunConfig(dataset="spiral", session=PRESETS["spiral"])],
    ids=["moons", "tutorial", "spiral"],
)
async def test_apply_unchanged_returns_the_same_config(config):
    app = SettingsApp(config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#apply")
        await pilot.pause()
    assert app.results == [config]


async def test_apply_returns_every_edited_field():
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "samples", "150")
        await type_into(pilot, "noise", "0.2")
        await type_into(pilot, "test-fraction", "0.25")
        await type_into(pilot, "hidden", "8,4")
        await choose(pilot, "activation", "tanh")
        await choose(pilot, "loss", "mse")
        await type_into(pilot, "lr", "0.3")
        await type_into(pilot, "lr-end", "0.03")
        await type_into(pilot, "decay-steps", "250")
        await type_into(pilot, "seed", "7")
        await pilot.press("enter")  # enter in a field applies
        await pilot.pause()
    expected = replace(
        MOONS,
        samples=150,
        noise=0.2,
        test_fraction=0.25,
        session=replace(
            MOONS.session,
            hidden=(8, 4),
            activation="tanh",
            loss="mse",
            lr=0.3,
            lr_end=0.03,
            decay_steps=250,
            seed=7,
        ),
    )
    assert app.results == [expected]


async def test_constant_schedule_drops_the_end_rate():
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, "schedule", "constant")
        assert field(app, "lr-end").disabled and field(app, "decay-steps").disabled
        await apply(pilot)
    assert app.results == [replace(MOONS, session=replace(MOONS.session, lr_end=None))]


async def test_picking_a_dataset_fills_in_its_preset_and_keeps_seed_and_split():
    start = replace(
        MOONS,
        dataset="tutorial",
        samples=None,
        noise=None,
        session=replace(PRESETS["tutorial"], seed=5),
    )
    app = SettingsApp(start)
    async with app.run_test(size=SIZE) as pilot:
        assert field(app, "samples").disabled  # the lecture's 4 points are fixed
        await choose(pilot, "dataset", "spiral")
        assert field(app, "hidden").value == "16,16"
        assert field(app, "lr").value == "0.5"
        assert field(app, "activation").value == "tanh"
        assert not field(app, "samples").disabled
        assert field(app, "samples").placeholder == "blank: 200"
        await apply(pilot)
    assert app.results == [
        replace(start, dataset="spiral", session=replace(PRESETS["spiral"], seed=5))
    ]


async def test_picking_a_dataset_with_the_keyboard():
    app = SettingsApp(RunConfig())
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen.focused is field(app, "dataset")
        await pilot.press("enter", "down", "down", "enter")  # tutorial -> xor -> moons
        await pilot.pause()
        assert field(app, "dataset").value == "moons"
        assert field(app, "loss").value == "hinge"
        await apply(pilot)
    assert app.results == [RunConfig(dataset="moons", session=PRESETS["moons"])]


async def test_a_csv_run_keeps_its_file(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n0,1,1\n1,0,-1\n0.5,0.5,1\n")
    config = RunConfig(data_path=str(path), session=replace(PRESETS["xor"], seed=2))
    app = SettingsApp(config)
    async with app.run_test(size=SIZE) as pilot:
        assert field(app, "samples").disabled and field(app, "noise").disabled
        await type_into(pilot, "hidden", "3")
        await apply(pilot)
    assert app.results == [replace(config, session=replace(config.session, hidden=(3,)))]


# -- cancelling ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["escape", "button"])
async def test_cancel_returns_none(how):
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "lr", "0.7")
        if how == "escape":
            await pilot.press("escape")
        else:
            await pilot.click("#cancel")
        await pilot.pause()
        assert not isinstance(app.screen, RunSettingsScreen)
    assert app.results == [None]


# -- refusing bad values -----------------------------------------------------------------------

BAD_VALUES = {
    # field id: (label shown, the CLI flag with the same rule or None, bad texts, a good text)
    "samples": ("Samples", "--samples", ["0", "many", "-5", "10000000"], "100"),
    "noise": ("Noise", "--noise", ["-0.1", "nan", "x"], "0.1"),
    "test-fraction": ("Test fraction", "--test-fraction", ["1", "", "-0.2"], "0.2"),
    "hidden": ("Hidden layers", "--hidden", ["4,,4", "0", "16,x"], "8,8"),
    "lr": ("Learning rate", "--lr", ["0", "inf", "-1"], "1.0"),
    "lr-end": ("Decay to", None, ["-1", "0"], "0.1"),
    "decay-steps": ("Decay over", None, ["0", "2.5"], "100"),
    "seed": ("Seed", "--seed", ["-1", "1.5"], "3"),
    "batch-size": ("Batch size", "--batch-size", ["0", "x", "-4", "2000000"], "16"),
}


def cli_reason(flag: str, text: str) -> str:
    """What ``micrograd-tui`` says about this flag value, without the 'flag: ' prefix."""
    parser = _app_parser()
    action = next(a for a in parser._actions if flag in a.option_strings)
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        action.type(text)
    message = str(refused.value)
    assert message.startswith(f"{flag}: ")
    return message.removeprefix(f"{flag}: ")


@pytest.mark.parametrize("field_id", list(BAD_VALUES))
async def test_bad_values_are_refused_naming_the_field_and_nothing_is_lost(field_id):
    label, flag, bad_texts, good = BAD_VALUES[field_id]
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        kept = "12,6" if field_id != "hidden" else "8,8"
        await fill(pilot, "hidden", kept)  # an edit elsewhere, to be kept
        for text in bad_texts:
            await fill(pilot, field_id, text)
            await apply(pilot)
            assert isinstance(app.screen, RunSettingsScreen), "the dialog must stay open"
            assert app.results == []
            error = shown_error(app)
            assert error.startswith(f"{label}: "), (text, error)
            if flag is not None:
                assert error == f"{label}: {cli_reason(flag, text)}"  # the CLI's rule and words
            assert field(app, f"{field_id}-label").has_class("-invalid")
            assert app.screen.focused is field(app, field_id)
            assert field(app, field_id).value == text
            assert field(app, "hidden").value == (kept if field_id != "hidden" else text)

        # Put it right and apply: the error goes, the dialog returns.
        await fill(pilot, field_id, good)
        await fill(pilot, "hidden", kept)
        await apply(pilot)
    assert len(app.results) == 1 and app.results[0] is not None
    assert app.results[0].session.hidden == tuple(int(h) for h in kept.split(","))


async def test_a_split_that_leaves_nothing_to_train_on_is_refused():
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "samples", "2")
        await fill(pilot, "test-fraction", "0.9")
        await apply(pilot)
        assert isinstance(app.screen, RunSettingsScreen)
        assert shown_error(app).startswith("Test fraction: ")
        assert "none to train on" in shown_error(app)
    assert app.results == []


async def test_a_run_too_large_to_train_is_refused_with_its_estimate(monkeypatch):
    made = []
    monkeypatch.setattr(datasets, "make", lambda *args, **kw: made.append(args))
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "hidden", "5000,5000")
        await apply(pilot)
        assert isinstance(app.screen, RunSettingsScreen)
        error = shown_error(app)
        assert error.startswith("Hidden layers: 5000,5000: the run would need an estimated "), error
        assert error.endswith("GB of memory (limit 1.5 GB); use fewer or smaller layers")
        assert field(app, "hidden-label").has_class("-invalid")

        await fill(pilot, "hidden", "16,16")
        await fill(pilot, "samples", "1000000")
        await apply(pilot)
        error = shown_error(app)
        assert error.startswith("Samples: 1,000,000 samples with hidden layers 16,16: "), error
        assert "(limit 1.5 GB)" in error
        assert field(app, "samples-label").has_class("-invalid")
    assert app.results == []
    assert made == []  # refused before any point was generated


async def test_the_first_bad_field_is_named_and_fixing_it_names_the_next():
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, "hidden", "x")
        await fill(pilot, "seed", "x")
        await apply(pilot)
        assert shown_error(app).startswith("Hidden layers: ")
        await fill(pilot, "hidden", "4")
        await apply(pilot)
        assert shown_error(app).startswith("Seed: ")
        labels = app.screen.query("#settings-form Label.-invalid")
        assert [label.id for label in labels] == ["seed-label"]
        assert isinstance(labels.first(), Label)


def test_snapshot_settings_with_an_error(snap_compare):
    async def run_before(pilot) -> None:
        await type_into(pilot, "hidden", "16,,16")
        await apply(pilot)

    assert snap_compare(SettingsApp(MOONS), terminal_size=SIZE, run_before=run_before)


async def test_after_a_second_error_typing_replaces_the_bad_text():
    """The issue's '16,x' became '16,x16,16': the field kept focus, so nothing was selected."""
    app = SettingsApp(MOONS)
    async with app.run_test(size=SIZE) as pilot:
        box = field(app, "hidden")
        box.focus()
        box.value = "16,x"
        await pilot.press("enter")  # first error: focus moves to the field, all selected
        assert shown_error(app).startswith("Hidden layers: ")
        await pilot.press(*"16,y")
        assert box.value == "16,y"
        await pilot.press("enter")  # second error, the field already focused
        assert shown_error(app).startswith("Hidden layers: ")
        await pilot.press(*"16,16")
        assert box.value == "16,16"  # replaced, not '16,y16,16'


# -- served: data files come from the teacher's folder, chosen by name -----------------------


async def test_served_data_files_are_chosen_from_the_shared_folder(tmp_path, monkeypatch):
    from tui.cli import classroom
    from tui.cli.config import CSV_PRESET

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "points.csv").write_text("x1,x2,label\n0,1,1\n1,0,-1\n0.5,0.5,1\n")
    monkeypatch.setenv(classroom.SERVED, "1")
    monkeypatch.setenv(classroom.DATA_DIR, str(shared))
    app = SettingsApp(RunConfig())
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert "1 shared by the teacher" in str(screen.query_one("#settings-shared").render())
        screen.query_one("#dataset", Select).value = "shared:points.csv"
        await pilot.pause()
        assert field(app, "samples").disabled and field(app, "noise").disabled
        await apply(pilot)
    (config,) = app.results
    assert config.data_path == os.path.realpath(shared / "points.csv")
    assert config.session.hidden == CSV_PRESET.hidden


async def test_served_without_a_shared_folder_says_loading_is_off(monkeypatch):
    from tui.cli import classroom

    monkeypatch.setenv(classroom.SERVED, "1")
    monkeypatch.delenv(classroom.DATA_DIR, raising=False)
    app = SettingsApp(RunConfig())
    async with app.run_test(size=SIZE):
        note = str(app.screen.query_one("#settings-shared").render())
        assert "loading files is off" in note and "serve --data-dir DIR" in note
        options = [value for _, value in app.screen.query_one("#dataset", Select)._options]
        assert not any(str(v).startswith("shared:") for v in options)
