"""ctrl+s saves the run, ctrl+e exports the loss history, --load opens a saved run."""

from __future__ import annotations

import csv
import dataclasses
import os
import stat

import engine.persist.session_file
from engine.persist.session_file import load_session
from tests.support.pilot import SIZE, make_app, wait_for
from tests.support.scripts import literals
from tui.cli.saved_run import load_run
from tui.dashboard.app import MicrogradApp
from tui.dashboard.screens.dialogs import ErrorDialog
from tui.dashboard.screens.path_dialog import PathDialog


def exact(snapshot) -> str:
    """Every float by its repr; the bugs sorted (a set's order is not its content)."""
    return repr(dataclasses.replace(snapshot, bugs=tuple(sorted(snapshot.bugs))))


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def answer(pilot, text: str | None) -> None:
    """Type over the dialog's path and press enter (or escape, for None)."""
    dialog = pilot.app.screen
    assert isinstance(dialog, PathDialog)
    if text is None:
        await pilot.press("escape")
        return
    dialog.query_one("#path").value = text
    await pilot.press("enter")


async def test_ctrl_s_saves_to_the_default_path_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(bugs=("skip-zero-grad",))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "space")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PathDialog)
        assert app.screen.query_one("#path").value == "micrograd-run.json"
        await pilot.press("enter")
        assert not isinstance(app.screen, PathDialog)
        saved = tmp_path / "micrograd-run.json"
        assert any(f"Step 3 saved to {saved}" in m for m in messages(app))
        loaded = load_session(saved).session
        assert exact(loaded.snapshot()) == exact(app.session.snapshot())


async def test_the_dialog_checks_the_path_takes_spaces_remembers_it_and_cancels(tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        error = app.screen.query_one(".path-error")
        await answer(pilot, str(tmp_path / "no-such-folder" / "run.json"))
        assert isinstance(app.screen, PathDialog)  # stays open to fix the path
        assert "no such directory" in str(error.render())
        await answer(pilot, str(tmp_path))
        assert "is a directory" in str(error.render())
        await answer(pilot, "-")  # standard output is the dashboard's own screen
        assert isinstance(app.screen, PathDialog)
        assert "standard output is not available here" in str(error.render())

        box = app.screen.query_one("#path")
        box.value = f"{tmp_path}/"
        await pilot.press("end", *"my run.json")  # space is a training step outside the dialog
        assert box.value == f"{tmp_path}/my run.json" and app.session.step_count == 0
        await pilot.press("enter")
        assert not isinstance(app.screen, PathDialog) and (tmp_path / "my run.json").exists()

        await pilot.press("space", "ctrl+s")
        assert app.screen.query_one("#path").value == f"{tmp_path}/my run.json"
        await answer(pilot, None)
        assert not isinstance(app.screen, PathDialog)
        assert load_session(tmp_path / "my run.json").session.step_count == 0  # not saved again


async def test_saving_onto_a_link_or_a_device_leaves_it_in_place(tmp_path):
    (tmp_path / "target.json").write_text("old\n")
    (tmp_path / "link.json").symlink_to("target.json")
    os.mkfifo(tmp_path / "fifo")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        assert app.saving.save_session_to(str(tmp_path / "link.json"))
        assert os.path.islink(tmp_path / "link.json")
        assert load_session(tmp_path / "target.json").session.step_count == 1
        assert app.saving.save_session_to("/dev/null") and stat.S_ISCHR(
            os.stat("/dev/null").st_mode
        )
        await pilot.pause()
        assert "Step 1 saved to /dev/null." in messages(app)  # nothing there to open again
        assert not app.saving.save_session_to("/dev/stdout")  # the terminal the dashboard draws on
        # A pipe nobody reads: refused at once (the dashboard must not hang), the pipe kept.
        assert not app.saving.save_session_to(str(tmp_path / "fifo"))
        await pilot.pause()
        assert any("a named pipe no program is reading from" in m for m in messages(app))
        assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)


async def test_a_failed_save_is_a_notification_and_the_run_goes_on(tmp_path, monkeypatch):
    app = make_app()
    path = tmp_path / "run.json"
    path.write_text("the old file")

    def broken(*args):
        raise OSError(28, "No space left on device")

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        monkeypatch.setattr(engine.persist.session_file.os, "replace", broken)
        assert not app.saving.save_session_to(str(path))
        await pilot.pause()
        assert any("No space left on device" in m and str(path) in m for m in messages(app))
        assert path.read_text() == "the old file"
        assert not isinstance(app.screen, ErrorDialog)
        await pilot.press("space")
        assert app.session.step_count == 2
        assert sorted(os.listdir(tmp_path)) == ["run.json"]  # no temporary file left


async def test_saving_while_training_runs_gives_consistent_files(tmp_path):
    app = make_app(bugs=("overwrite-grad",))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(lambda: app.session.step_count >= 20, pilot)
        steps = []
        for i in range(3):
            assert app.saving.save_session_to(str(tmp_path / f"{i}.json"))
            steps.append(load_session(tmp_path / f"{i}.json").session.step_count)
            assert app.saving.export_history_to(str(tmp_path / f"{i}.csv"))
            await wait_for(lambda: app.session.step_count > steps[-1], pilot)  # it trains on
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert steps == sorted(steps) and steps[0] >= 20
        assert not [w for w in app.workers if w.error is not None]


async def test_ctrl_e_exports_the_loss_history_as_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "space", "space")
        await pilot.press("ctrl+e")
        assert app.screen.query_one("#path").value == "micrograd-history.csv"
        await pilot.press("enter")
        written = tmp_path / "micrograd-history.csv"
        assert any(f"Loss history written to {written}" in m for m in messages(app))
        with written.open(newline="") as f:
            rows = list(csv.DictReader(f))
        history = app.session.snapshot().history
        assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
        assert [float(r["loss"]) for r in rows] == list(history.loss)


async def test_a_saved_run_opens_where_it_was_and_continues_exactly(tmp_path):
    original = make_app(dataset="moons", bugs=("skip-zero-grad",))
    path = tmp_path / "run.json"
    async with original.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "right_square_bracket", "space")
        assert original.saving.save_session_to(str(path))
        await pilot.press("space", "space")
        expected = original.session.snapshot()

    app = MicrogradApp(*load_run(path))  # as `micrograd-tui --load FILE` builds it
    async with app.run_test(size=SIZE) as pilot:
        assert app.session.step_count == 3 and app.run_config.dataset == "moons"
        assert "step 3" in str(app.query_one("#status").render())
        await pilot.press("space", "space")
        assert exact(app.session.snapshot()) == exact(expected)


async def test_p_exports_the_run_to_pytorch_and_names_a_bug_it_leaves_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(bugs=("tanh-derivative",))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        await pilot.press("p")
        assert isinstance(app.screen, PathDialog)
        assert app.screen.query_one("#path").value == "micrograd_model.py"
        await pilot.press("enter")
        script = tmp_path / "micrograd_model.py"
        notes = [m for m in messages(app) if f"Step 2 written to {script}" in m]
        assert notes and "tanh-derivative" in notes[0] and "trains these weights clean" in notes[0]
        found = literals(script.read_text())
        snap = app.session.snapshot()
        assert found["STEPS_DONE"] == 2
        assert found["WEIGHTS"][-1][1] == list(snap.biases[-1])


async def test_a_diverged_run_is_not_exported_and_says_why(tmp_path):
    app = make_app(dataset="moons", loss="mse", lr=100.0)
    async with app.run_test(size=SIZE) as pilot:
        while app.session.diverged_at is None:
            app.session.step()
        await pilot.pause()
        assert app.saving.export_torch_to(str(tmp_path / "model.py")) is False
        await pilot.pause()
        assert any("diverged at step" in m for m in messages(app)), messages(app)
        assert not (tmp_path / "model.py").exists()


# -- never replace a file silently (terminal); never ask for a path (served) -------------


async def test_saving_onto_an_existing_file_asks_and_esc_keeps_it(tmp_path):
    from tui.dashboard.screens.path_dialog import ReplaceDialog

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "ctrl+s")
        await answer(pilot, str(notes))
        assert isinstance(app.screen, ReplaceDialog)
        question = str(app.screen.query_one(".dialog-message").render())
        assert f"{notes} exists and is not a run micrograd-tui saved" in question
        await pilot.press("escape")  # back to the path, the file kept
        assert isinstance(app.screen, PathDialog)
        assert "Kept the file" in str(app.screen.query_one(".path-error").render())
        assert notes.read_text() == "my notes"
        await answer(pilot, str(notes))
        await pilot.press("enter")  # Enter replaces it
        await wait_for(lambda: not isinstance(app.screen, (PathDialog, ReplaceDialog)), pilot)
        assert load_session(str(notes)).session.step_count == 1


async def test_saving_over_a_run_it_saved_asks_plainly_and_a_new_name_asks_nothing(tmp_path):
    from tui.dashboard.screens.path_dialog import ReplaceDialog

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        assert app.saving.save_session_to(str(tmp_path / "run.json"))
        await pilot.press("space", "ctrl+s")
        await answer(pilot, str(tmp_path / "run.json"))
        assert isinstance(app.screen, ReplaceDialog)
        question = str(app.screen.query_one(".dialog-message").render())
        assert (
            question == f"{tmp_path / 'run.json'} exists (a run micrograd-tui saved). Replace it?"
        )
        await pilot.press("enter")
        await wait_for(
            lambda: load_session(str(tmp_path / "run.json")).session.step_count == 2, pilot
        )
        await pilot.press("ctrl+s")
        await answer(pilot, str(tmp_path / "new.json"))  # nothing there: no question
        await wait_for(lambda: (tmp_path / "new.json").exists(), pilot)
        assert not isinstance(app.screen, (PathDialog, ReplaceDialog))


async def test_served_saving_asks_no_path_and_names_no_server_folder(tmp_path, monkeypatch):
    from tui.cli import classroom

    monkeypatch.setenv(classroom.SERVED, "1")
    monkeypatch.setenv(classroom.TABS_ROOT, str(tmp_path))
    monkeypatch.setattr(classroom, "_tab_folder", None)
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "ctrl+s")
        assert not isinstance(app.screen, PathDialog)
        (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
        assert load_session(str(folder / "micrograd-run.json")).session.step_count == 1
        for key in ("ctrl+e", "ctrl+d", "p"):
            await pilot.press(key)
            assert not isinstance(app.screen, PathDialog)
        assert sorted(p.name for p in folder.iterdir()) == [
            "micrograd-data.csv",
            "micrograd-history.csv",
            "micrograd-run.json",
            "micrograd_model.py",
        ]
        said = " ".join(messages(app))
        assert str(tmp_path) not in said
        assert "micrograd-run.json, sent to your browser as a download" in said
