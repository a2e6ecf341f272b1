"""The Graph screen: every key, driven through Pilot at a fixed size."""

from __future__ import annotations

import pytest

from tests.support.pilot import make_app, palette_ready, wait_for
from tui.dashboard.screens.graph import GraphCanvas, GraphScreen
from tui.dashboard.widgets.boundary import DecisionBoundary
from tui.dashboard.widgets.predictions import PredictionsPane
from tui.graphview.source import parse_values


def canvas_text(app) -> str:
    canvas = app.screen.query_one(GraphCanvas)
    return "\n".join(canvas.render_line(y).text for y in range(canvas.size.height))


def panel(app) -> str:
    return str(app.screen.query_one("#graph-panel").render())


def title(app) -> str:
    return str(app.screen.query_one("#graph-title").render())


async def open_graph(pilot) -> GraphScreen:
    await pilot.press("v")
    await wait_for(lambda: isinstance(pilot.app.screen, GraphScreen), pilot)
    await pilot.pause()
    return pilot.app.screen


async def test_v_opens_the_lecture_neuron_at_the_start() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        assert screen.state.example == "neuron" and screen.stepper.position == 0
        text = canvas_text(app)
        for name in ("x1", "w1", "x2", "w2", "b", "x1w1", "x1w1x2w2", "n", "o"):
            assert f" {name} │" in text
        assert "(tanh)" in text and "(*)" in text
        assert "o │      · │" in text  # not computed yet
        assert "Forward pass" in panel(app)
        assert "start" in title(app)


async def test_stepping_to_the_end_shows_the_lecture_numbers() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("end")
        assert screen.stepper.position == screen.stepper.forward_end
        assert "o │ 0.7071 │" in canvas_text(app)
        await pilot.press("end")
        assert screen.stepper.position == screen.stepper.last
        text = canvas_text(app)
        assert "o │ 0.7071 │ 1.0" in text
        assert "x1 │ 2.0 │ -1.5" in text
        assert "w1 │ -3.0 │ 1.0" in text
        assert "n │ 0.8814 │ 0.5" in text
        assert "backward() is done" in panel(app)


async def test_right_and_left_step_one_node_and_home_goes_back() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("right")
        assert screen.stepper.position == 1
        assert "x1w1.data = 2.0 × -3.0 = -6.0" in panel(app)
        assert "x1w1 │ -6.0 │" in canvas_text(app)
        await pilot.press("right", "right", "left")
        assert screen.stepper.position == 2
        await pilot.press("left", "left")
        assert screen.stepper.position == 0
        await pilot.press("left")  # at the start: a note, no move
        assert screen.stepper.position == 0
        await pilot.press("end", "end", "home")
        assert screen.stepper.position == screen.stepper.seed
        assert "o.grad = 1.0" in panel(app)
        await pilot.press("home")
        assert screen.stepper.position == 0


async def test_up_and_down_move_the_focused_node() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        canvas = screen.query_one(GraphCanvas)
        first = canvas.focus_key
        await pilot.press("down")
        assert canvas.focus_key != first
        await pilot.press("up")
        assert canvas.focus_key == first
        assert "▸" in panel(app)


async def test_x_cycles_the_examples_and_the_stepper_starts_over() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("right", "x")
        assert screen.state.example == "neuron-exp" and screen.stepper.position == 0
        await pilot.press("x")
        assert screen.state.example == "reuse"
        assert " a │ 3.0 │" in canvas_text(app)


async def test_typed_expression_draws_and_bad_text_keeps_the_last_good_graph() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("e")
        expression = screen.query_one("#graph-expression")
        assert expression.has_focus
        assert screen.try_expression("y = p*q + p", "p=2, q=5")
        assert screen.state.source == "yours"
        assert "y │ 12.0 │" not in canvas_text(app)  # data comes with the forward pass
        await pilot.press("escape")  # leaves the editor, not the screen
        await pilot.press("end", "end")
        text = canvas_text(app)
        assert "y │ 12.0 │ 1.0" in text and "p │ 2.0 │ 6.0" in text
        assert not screen.try_expression("y = p.__class__", "p=2")
        error = str(screen.query_one("#graph-error").render())
        assert "column" in error and "__class__" in error and "last good one" in error
        assert "y │ 12.0 │ 1.0" in canvas_text(app)  # still the good graph
        assert not screen.try_expression("y = p*z", "p=2")
        assert "give z a value" in str(screen.query_one("#graph-error").render())
        assert not screen.try_expression("y = p", "p=two")
        assert "'two' (for p) is not a number" in str(screen.query_one("#graph-error").render())


async def test_typing_in_the_editor_updates_the_graph_live() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("e")
        screen.query_one("#graph-expression").value = ""
        screen.query_one("#graph-values").value = "k=4"
        await pilot.press(*"k*k")
        await wait_for(lambda: screen.state.expression == "k*k", pilot)
        await pilot.press("enter")
        assert not screen.query_one("#graph-editor").display
        await pilot.press("end", "end")
        assert "k │ 4.0 │ 8.0" in canvas_text(app)


async def test_digits_flip_bugs_in_the_graph_only() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("x", "x")  # reuse: b = a + a
        await pilot.press("1", "end", "end")
        assert screen.state.bugs == {"overwrite-grad"}
        assert not app.session.bugs  # the run is unchanged
        assert "a │ 3.0 │ 1.0" in canvas_text(app)
        assert "'=' discards" in panel(app)
        await pilot.press("1")
        assert "a │ 3.0 │ 2.0" in canvas_text(app)
        await pilot.press("2")  # skip-zero-grad lives in the loop: refused on an expression
        assert screen.state.bugs == set()
        await pilot.press("6", "x", "x")  # the lecture's first graph, walked from the leaves
        assert screen.state.bugs == {"forward-order-backward"}
        await pilot.press("end", "end")
        assert "a │ 2.0 │ 0.0" in canvas_text(app)
        assert "L │ -8.0 │ 1.0" in canvas_text(app)


async def test_model_graph_opens_collapsed_and_enter_expands_a_neuron() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("m")
        assert screen.state.source == "model"
        assert "sample 1 of 4" in title(app)
        assert "Σ wx + b → tanh" in canvas_text(app)
        boxes = len(screen.picture.boxes)
        canvas = screen.query_one(GraphCanvas)
        neuron = next(k for k, b in screen.picture.boxes.items() if b.neuron == (1, 1))
        canvas.set_focus_key(neuron)
        await pilot.press("enter")
        assert (1, 1) in screen.state.expanded
        assert len(screen.picture.boxes) > boxes
        assert "w1.1.1" in "\n".join(screen.picture.names)
        await pilot.press("enter")  # focus stays on the neuron's output: closes it again
        assert screen.state.expanded == set()
        await pilot.press("full_stop")
        assert "sample 2 of 4" in title(app)
        await pilot.press("comma", "comma")
        assert "sample 4 of 4" in title(app)


async def test_model_graph_end_to_end_equals_the_graph_and_leaves_the_run_alone() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.session.snapshot().parameters
        screen = await open_graph(pilot)
        await pilot.press("m", "end", "end")
        assert screen.stepper.grads == [n.grad for n in screen.graph.nodes]
        assert app.session.snapshot().parameters == before
        assert app.session.step_count == 0
        await pilot.press("3")  # zero-grad-after-backward: said at the end of the pass
        assert "zero_grad() runs now" in panel(app)


async def test_typing_a_sample_number() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("m", "e")
        field = screen.query_one("#graph-sample")
        assert field.has_focus
        field.value = ""
        await pilot.press("9", "enter")
        assert "from 1 to 4" in str(screen.query_one("#graph-error").render())
        field.value = ""
        await pilot.press("3", "enter")
        assert screen.state.sample == 2 and "sample 3 of 4" in title(app)


async def test_enter_on_an_expression_value_says_what_enter_is_for() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("enter")
        assert screen.state.expanded == set()


async def test_escape_returns_and_v_reopens_where_it_was() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("x", "right", "right")
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, GraphScreen), pilot)
        await pilot.press("space")  # the dashboard's keys work again
        assert app.session.step_count == 1
        screen = await open_graph(pilot)
        assert screen.state.example == "neuron-exp" and screen.stepper.position == 2


async def test_page_keys_scroll_a_large_graph() -> None:
    app = make_app("moons")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("m")
        canvas = screen.query_one(GraphCanvas)
        assert len(screen.graph.nodes) > 900  # 986 values for sample 1
        assert screen.picture.layout.height > canvas.size.height
        top, left = canvas.view_y, canvas.view_x
        await pilot.press("pagedown")
        assert canvas.view_y > top
        await pilot.press("pageup")
        assert canvas.view_y == top
        await pilot.press("shift+left")
        assert canvas.view_x < left  # it opens on the output, at the right
        await pilot.press("shift+right")
        assert canvas.view_x == left


async def test_the_focused_node_stays_visible_while_stepping_a_moons_sample() -> None:
    app = make_app("moons")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("m")
        canvas = screen.query_one(GraphCanvas)
        for key in ("right",) * 5 + ("end", "end") + ("left",) * 5:
            await pilot.press(key)
            box = screen.picture.boxes[canvas.focus_key]
            x, y = screen.picture.layout.x[box.key], screen.picture.layout.y[box.key]
            assert canvas.view_y <= y < canvas.view_y + canvas.size.height
            assert x + min(box.width, canvas.size.width) > canvas.view_x
            assert x < canvas.view_x + canvas.size.width


async def test_palette_finds_graph() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"graph")
        await wait_for(lambda: palette_ready(app), pilot)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, GraphScreen), pilot)


async def test_footer_and_help_name_the_key() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        active = app.screen.active_bindings["v"]
        assert active.binding.action == "graph" and active.binding.show and active.enabled
        await pilot.press("question_mark")
        await pilot.pause()
        assert ("v", active.binding.tooltip) in app.screen.key_rows


@pytest.mark.parametrize(
    ("text", "message"),
    [("a=1, b", "'b' is not name=number"), ("a=x", r"'x' \(for a\) is not a number")],
)
def test_bad_leaf_values_name_the_part(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_values(text)


# -- picking the sample from the dashboard -------------------------------------------------


async def test_clicking_a_predictions_row_opens_that_samples_graph() -> None:
    app = make_app()  # the tutorial: 4 samples, listed in the predictions pane
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await pilot.pause()
        pane = app.query_one(PredictionsPane)
        assert pane.region.height  # on screen
        # Row 3 is the third line below the header, inside the pane's border.
        await pilot.click(PredictionsPane, offset=(3, 1 + 3))
        await wait_for(lambda: isinstance(app.screen, GraphScreen), pilot)
        screen = app.screen
        assert (screen.state.source, screen.state.sample) == ("model", 2)
        assert "sample 3 of 4" in title(app)
        inputs = [n for n in screen.graph.nodes if n.kind == "input"]
        assert [n.data for n in inputs] == list(app.session.xs[2])

        # Back on the dashboard, the header row and the empty rows below pick nothing.
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, GraphScreen), pilot)
        await pilot.click(PredictionsPane, offset=(3, 1))  # the header
        await pilot.click(PredictionsPane, offset=(3, 1 + 4 + 2))  # below the last sample
        await pilot.pause()
        assert not isinstance(app.screen, GraphScreen)


async def test_clicking_a_training_point_on_the_boundary_opens_its_graph() -> None:
    app = make_app("moons")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        boundary = app.query_one(DecisionBoundary)
        await wait_for(lambda: boundary.plane is not None and not boundary.is_behind, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        plane = boundary.plane
        xs = app.session.xs
        # A point that no other point shares its cell with, so the click names it alone.
        cells = [plane.pixel_of(*x) for x in xs]
        lines = [(c, r // 2) for c, r in cells]
        sample = next(i for i, cell in enumerate(lines) if lines.count(cell) == 1)
        column, line = lines[sample]
        assert boundary.sample_at(column, line) == sample
        await pilot.click(DecisionBoundary, offset=(1 + column, 1 + line))
        await wait_for(lambda: isinstance(app.screen, GraphScreen), pilot)
        assert (app.screen.state.source, app.screen.state.sample) == ("model", sample)
        assert f"sample {sample + 1} of {len(xs)}" in title(app)

    # Far from every point, a click picks nothing.
    far = [
        (c, r)
        for c in range(plane.columns)
        for r in range(plane.rows // 2)
        if all(abs(c - pc) > 3 or abs(r - pr) > 3 for pc, pr in lines)
    ]
    assert far and all(boundary.sample_at(c, r) is None for c, r in far)


async def test_the_model_graph_keeps_the_weights_and_step_it_was_opened_with() -> None:
    """Screens read snapshots: steps taken after opening (a worker training on) change
    neither the weights drawn nor the step the title names, even when the graph is rebuilt."""
    from engine.inspect.graph import model_graph

    app = make_app("moons")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            app.action_step()
        opened = app.session.snapshot()
        screen = await open_graph(pilot)
        await pilot.press("m")
        for _ in range(5):
            app.session.step()  # as the training worker would, behind the screen
        await pilot.press("1")  # a bug in this graph: the graph is built again
        assert app.session.step_count == 8
        assert "weights of step 3" in title(app)
        expected = model_graph(
            opened.config,
            opened.parameters,
            opened.inputs,
            opened.targets,
            0,
            frozenset({"overwrite-grad"}),
            numerical=False,
        )
        assert [n.data for n in screen.graph.nodes] == [n.data for n in expected.nodes]


async def test_n_jumps_to_where_a_bug_first_differs_from_a_correct_backward() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)  # the lecture's neuron
        await pilot.press("5")  # tanh-derivative, in this graph only
        await pilot.press("n")
        step = screen.stepper.step
        assert step.phase == "backward" and screen.graph.nodes[screen.difference.node].label == "n"
        assert "First difference: n.grad = 0.2929, correct 0.5." in panel(app)
        assert "From here on the gradients differ from a correct backward()" in panel(app)
        await pilot.press("5", "m", "2", "n")  # skip-zero-grad, on the model: the training loop
        assert "acts in the training loop" in " ".join(n.message for n in app._notifications)


async def test_overwrite_grad_on_a_reused_value_first_differs_at_a() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_graph(pilot)
        assert screen.try_expression("b = a + a", "a=3")
        await pilot.press("1", "n")
        assert "First difference: a.grad = 1.0, correct 2.0." in panel(app)
