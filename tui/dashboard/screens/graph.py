"""The Graph screen: a value graph drawn like ``draw_dot``, and a chain-rule stepper over it.

Two sources: the scratchpad (the lecture's examples, or an expression the
learner types) and the model's graph for one training sample, built from a
snapshot of the current weights (stepping it never changes the run). → and ←
walk the forward pass, then ``backward()``'s own updates (see
:mod:`tui.graphview.stepper`); the panel shows the line being applied.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from engine import bugs as bug_catalogue
from engine.inspect.expr import EXAMPLES, ExprError, parse
from engine.inspect.graph import Difference, Graph, expression_graph
from engine.training.health import MARKS
from engine.training.records import Snapshot
from tui.dashboard.format import HEALTH
from tui.graphview.panel import panel_text, title_text
from tui.graphview.picture import Picture, health_by_group
from tui.graphview.source import (
    EXAMPLE_NAMES,
    GraphState,
    Source,
    build_graph,
    describe,
    format_values,
    no_difference,
    parse_values,
    typed_difference,
    where_it_differs,
)
from tui.graphview.stepper import Stepper, fmt


class GraphCanvas(Widget, can_focus=True):
    """Draws a :class:`Picture` with the stepper's data and grads; only the visible rows.

    It scrolls itself (a window onto the picture that keeps the focused box in
    view) rather than through ScrollView: the keys belong to the stepper.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "graph-canvas--edge",
        "graph-canvas--edge-lit",
        "graph-canvas--op",
        "graph-canvas--box",
        "graph-canvas--label",
        "graph-canvas--data",
        "graph-canvas--grad",
        "graph-canvas--pending",
        "graph-canvas--focus",
        "graph-canvas--fresh",
        "graph-canvas--neuron",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.picture: Picture | None = None
        self.stepper: Stepper | None = None
        self.focus_key: int | None = None
        self._lit: dict[int, set[int]] = {}
        self.view_x = 0
        self.view_y = 0
        self._styles: dict[str, Style] = {}

    def style_of(self, name: str) -> Style:
        """A component style on the widget's own (cached: looked up per cell otherwise)."""
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base if name == "" else base + self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def show(
        self,
        picture: Picture,
        stepper: Stepper,
        focus_key: int | None,
        also: set[int] = frozenset(),
    ) -> None:
        """Draw ``picture``; the focused box in view, and the boxes in ``also`` where they fit."""
        self.picture = picture
        self.stepper = stepper
        self.set_focus_key(focus_key, also)

    def set_focus_key(self, key: int | None, also: set[int] = frozenset()) -> None:
        picture = self.picture
        if picture is None:
            return
        if key not in picture.boxes:
            key = picture.order[-1] if picture.order else None
        self.focus_key = key
        self._lit = picture.lit_cells([key]) if key is not None else {}
        if key is not None:
            layout = picture.layout
            # The values a step wrote sit beside it: bring in as many of them as fit.
            for other in sorted(also - {key}, key=lambda k: abs(layout.x[k] - layout.x[key])):
                if other in picture.boxes:
                    self.keep_in_view(layout.x[other], layout.y[other], picture.boxes[other].width)
            box = picture.boxes[key]
            self.keep_in_view(layout.x[key], layout.y[key], box.width)
        self.refresh()

    def keep_in_view(self, x: int, y: int, width: int) -> None:
        """Move the window (as little as possible) so that a box of ``width`` at x, y shows."""
        picture = self.picture
        view_w, view_h = self.size.width or 80, self.size.height or 10
        margin_y = min(2, max(0, (view_h - 1) // 2))
        if y < self.view_y + margin_y:
            self.view_y = max(0, y - margin_y)
        elif y >= self.view_y + view_h - margin_y:
            self.view_y = y - view_h + margin_y + 1
        if x + width > self.view_x + view_w:
            self.view_x = x + width - view_w + 2
        if x < self.view_x:
            self.view_x = max(0, x - 2)
        if picture is not None:
            self.view_x = max(0, min(self.view_x, picture.layout.width - view_w + 1))
            self.view_y = max(0, min(self.view_y, picture.layout.height - view_h))

    def scroll_by_cells(self, dx: int, dy: int) -> None:
        picture = self.picture
        if picture is None:
            return
        view_w, view_h = self.size.width, self.size.height
        self.view_x = max(0, min(self.view_x + dx, picture.layout.width - view_w + 1))
        self.view_y = max(0, min(self.view_y + dy, picture.layout.height - view_h))
        self.refresh()

    def on_mouse_scroll_down(self, event) -> None:
        self.scroll_by_cells(0, 3)

    def on_mouse_scroll_up(self, event) -> None:
        self.scroll_by_cells(0, -3)

    def on_mouse_scroll_right(self, event) -> None:
        self.scroll_by_cells(6, 0)

    def on_mouse_scroll_left(self, event) -> None:
        self.scroll_by_cells(-6, 0)

    def on_resize(self) -> None:
        if self.focus_key is not None:
            self.set_focus_key(self.focus_key)

    def render_line(self, y: int) -> Strip:
        picture, stepper = self.picture, self.stepper
        scroll_x, scroll_y = self.view_x, self.view_y
        width = self.size.width
        row = y + scroll_y
        base = self.style_of("")
        if picture is None or stepper is None or row >= picture.layout.height:
            return Strip.blank(width, base)
        edge = self.style_of("graph-canvas--edge")
        lit = self.style_of("graph-canvas--edge-lit")
        touched = stepper.touched()
        chars = picture.edge_rows.get(row, "")
        lit_cells = self._lit.get(row, set())
        segments: list[Segment] = []
        cursor = 0
        for key in picture.layout.rows.get(row, []):
            x = picture.layout.x[key]
            segments.extend(_edge_segments(chars, cursor, x, lit_cells, edge, lit))
            segments.extend(self._box_segments(key, touched))
            cursor = x + picture.boxes[key].width
        end = max(len(chars), cursor)
        segments.extend(_edge_segments(chars, cursor, end, lit_cells, edge, lit))
        strip = Strip(segments)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _box_segments(self, key: int, touched: set[int]) -> list[Segment]:
        picture, stepper = self.picture, self.stepper
        assert picture is not None and stepper is not None
        style = self.style_of
        box = picture.boxes[key]
        node = picture.graph.nodes[key]
        if box.neuron:
            fresh = not touched.isdisjoint(picture.groups[box.neuron])
        else:
            fresh = key in touched
        kind = "fresh" if fresh else "focus" if key == self.focus_key else "box"
        frame = style("graph-canvas--" + kind)
        segments: list[Segment] = []
        if box.op:
            segments.append(Segment(f"({box.op})", style("graph-canvas--op")))
        data = fmt(node.data) if stepper.has_data(key) else "·"
        grad = fmt(stepper.grads[key]) if stepper.has_grad(key) else "·"
        pending = self._styled(frame, "pending")
        segments.append(Segment(" ", frame))
        segments.append(Segment(box.label, self._styled(frame, "label")))
        if box.health:  # the weights pane's mark for a dead or saturated neuron
            segments.append(
                Segment(" " + MARKS[box.health], frame + Style.parse(HEALTH[box.health]))
            )
        if box.formula:
            segments.append(Segment("  " + box.formula, self._styled(frame, "neuron")))
        segments.append(Segment(" │ ", frame))
        data_style = self._styled(frame, "data") if data != "·" else pending
        segments.append(Segment(data.rjust(box.data_width), data_style))
        segments.append(Segment(" │ ", frame))
        grad_style = self._styled(frame, "grad") if grad != "·" else pending
        segments.append(Segment(grad.rjust(box.grad_width), grad_style))
        segments.append(Segment(" ", frame))
        return segments

    def _styled(self, frame: Style, part: str) -> Style:
        key = f"{id(frame)}:{part}"
        style = self._styles.get(key)
        if style is None:
            style = frame + self.get_component_rich_style("graph-canvas--" + part)
            self._styles[key] = style
        return style

    def on_click(self, event) -> None:
        picture = self.picture
        if picture is None:
            return
        offset = event.get_content_offset(self)
        if offset is None:
            return
        x = offset.x + self.view_x
        y = offset.y + self.view_y
        for key in picture.layout.rows.get(y, []):
            left = picture.layout.x[key]
            if left <= x < left + picture.boxes[key].width:
                self.set_focus_key(key)
                self.screen.show_panel()
                return


def _edge_segments(
    chars: str, start: int, end: int, lit: set[int], edge: Style, bright: Style
) -> list[Segment]:
    if end <= start:
        return []
    text = chars[start:end].ljust(end - start)
    if not lit:
        return [Segment(text, edge)]
    segments = []
    run_start = 0
    run_lit = start in lit
    for i in range(1, len(text) + 1):
        now = i < len(text) and (start + i) in lit
        if i == len(text) or now != run_lit:
            segments.append(Segment(text[run_start:i], bright if run_lit else edge))
            run_start, run_lit = i, now
    return segments


class GraphScreen(ModalScreen[None]):
    """The value graph and the chain-rule stepper."""

    CSS_PATH = "graph.tcss"
    HELP_TITLE = "Graph (v)"
    HELP = (
        "The value graph of the lecture's draw_dot, left to right: each value a box "
        "label │ data │ grad, its op on its left. → and ← step the forward pass, then "
        "backward() one visited node at a time, with the chain-rule line and its numbers "
        "below; Home and End jump to a pass's start and end. x: the next example, e: type "
        "your own expression (or a sample number), m: the model's graph for one training "
        "sample, Enter opens or closes a neuron, 1-6 switch a bug in the graph only, and n "
        "jumps to the first backward() step where the bugs make it differ from a correct one. "
        "↑ and ↓ move between boxes; PageUp, PageDown, shift+← and shift+→ (or the "
        "mouse wheel) scroll a large graph."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "step(1)", "Step", id="graph-step", tooltip="One node on"),
        Binding("left", "step(-1)", "Back", id="graph-back", tooltip="One node back"),
        Binding(
            "home",
            "home",
            "Start",
            id="graph-home",
            tooltip="To the start of this pass (again: the very start)",
        ),
        Binding(
            "end",
            "end",
            "End",
            id="graph-end",
            tooltip="To the end of the forward pass (again: the end of backward)",
        ),
        Binding("down", "move_focus(1)", "Next node", id="graph-next", show=False),
        Binding("up", "move_focus(-1)", "Previous node", id="graph-previous", show=False),
        Binding(
            "enter", "expand", "Expand", id="graph-expand", tooltip="Open or close a model neuron"
        ),
        Binding("x", "next_example", "Example", id="graph-example", tooltip="The next example"),
        Binding(
            "n",
            "first_difference",
            "Differs",
            id="graph-first-difference",
            show=False,  # the panel names it while a bug makes the graph differ
            tooltip="With a bug on: the first backward() step that differs from a correct one",
        ),
        Binding(
            "e",
            "edit",
            "Edit",
            id="graph-edit",
            tooltip="Type an expression and its leaf values (or a sample number)",
        ),
        Binding(
            "m",
            "model",
            "Model",
            id="graph-model",
            tooltip="The model's graph for one training sample, at the current weights",
        ),
        Binding("shift+left", "pan(-1)", "Pan left", id="graph-pan-left", show=False),
        Binding("shift+right", "pan(1)", "Pan right", id="graph-pan-right", show=False),
        Binding("pageup", "scroll_view(-1)", "Page up", id="graph-page-up", show=False),
        Binding("pagedown", "scroll_view(1)", "Page down", id="graph-page-down", show=False),
        Binding("comma", "sample(-1)", "Sample ‹", id="graph-sample-down", show=False),
        Binding("full_stop", "sample(1)", "Sample ›", id="graph-sample-up", show=False),
        *(
            Binding(
                str(i),
                f"toggle_bug({i})",
                f"bug {i}",
                id=f"graph-bug-{i}",
                show=False,
                tooltip=f"Switch {bug.id} on or off in this graph (not in the run)",
            )
            for i, bug in enumerate(bug_catalogue.CATALOGUE, start=1)
        ),
        Binding("escape,q", "close", "Back to training", id="graph-close"),
    ]

    def __init__(
        self, snapshot: Snapshot, state: GraphState | None = None, name_bugs: bool = True
    ) -> None:
        """The graphs of ``state``; the model's at ``snapshot``'s weights, however far the
        run trains meanwhile (its title names that step). ``name_bugs=False`` (a quiz
        round): the graph runs ``state``'s bugs but no word on the screen names them, and
        1-6 cannot change them."""
        super().__init__()
        self.name_bugs = name_bugs
        self.snapshot = snapshot
        self.state = state or GraphState()
        self.graph: Graph | None = None
        self.picture: Picture | None = None
        self.stepper: Stepper | None = None
        self.error: str = ""
        self.difference: Difference | None = None  # where a bug first shows in backward()

    # -- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="graph-screen"):
            yield Static(id="graph-title")
            with Horizontal(id="graph-editor"):
                yield Input(placeholder="expression, e.g. d = a*b + c", id="graph-expression")
                yield Input(placeholder="leaf values, e.g. a=2, b=-3, c=10", id="graph-values")
                yield Input(placeholder="sample number", id="graph-sample", type="integer")
            yield Static(id="graph-error")
            yield GraphCanvas(id="graph-canvas")
            yield Static(id="graph-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#graph-editor").display = False
        self.query_one("#graph-error").display = False
        position = self.state.position
        self._rebuild()
        assert self.stepper is not None
        self.stepper.go(position)
        self._show(follow=True)
        self.query_one(GraphCanvas).focus()

    # -- building ----------------------------------------------------------------

    def _build_graph(self) -> Graph:
        graph = build_graph(self.state, self.snapshot)
        self.difference = where_it_differs(self.state, self.snapshot, graph)
        return graph

    def _rebuild(self, keep_position: bool = True) -> None:
        """Build the graph again (new source, bug or weights); stay at the same step."""
        position = self.stepper.position if (self.stepper and keep_position) else 0
        self.graph = self._build_graph()
        self._redraw_picture()
        assert self.stepper is not None
        self.stepper.go(position)

    def _redraw_picture(self) -> None:
        assert self.graph is not None
        model = self.state.source is Source.MODEL
        marks = health_by_group(self.snapshot.health) if model else {}
        self.picture = Picture(self.graph, self.state.expanded, marks)
        lr = self.snapshot.lr if self.state.source is Source.MODEL else None
        names, loop_bugs = self.picture.names, self.state.loop_bugs()
        self.stepper = Stepper(self.graph, names, loop_bugs, lr, self.difference, self.name_bugs)

    # -- drawing -----------------------------------------------------------------

    def _show(self, follow: bool) -> None:
        canvas = self.query_one(GraphCanvas)
        assert self.picture is not None and self.stepper is not None
        focus = canvas.focus_key
        if follow and self.stepper.step.node is not None:
            focus = self.picture.box_of[self.stepper.step.node]
        wrote = {self.picture.box_of[node] for node in self.stepper.touched()}
        canvas.show(self.picture, self.stepper, focus, wrote if follow else set())
        self.show_panel()

    def show_panel(self) -> None:
        stepper, picture, state = self.stepper, self.picture, self.state
        assert stepper is not None and picture is not None and self.graph is not None
        what = describe(state, self.snapshot)
        title = title_text(what, state.bugs, stepper.progress(), self.name_bugs)
        self.query_one("#graph-title", Static).update(title)
        heading = None
        if stepper.position == 0 and state.source is Source.EXAMPLE:
            heading = EXAMPLES[state.example].title.capitalize()
        focus = self.query_one(GraphCanvas).focus_key
        text = panel_text(self.graph, picture, stepper, focus, heading)
        self.query_one("#graph-panel", Static).update(text)
        state.position = stepper.position

    # -- actions -----------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        assert self.stepper is not None
        if delta > 0 and self.stepper.position == self.stepper.last:
            self.notify("backward() is done: ← steps back, Home goes to the start.", timeout=2)
            return
        if delta < 0 and self.stepper.position == 0:
            self.notify("Already at the start: → steps the forward pass.", timeout=2)
            return
        self.stepper.go(self.stepper.position + delta)
        self._show(follow=True)

    def action_first_difference(self) -> None:
        """To the backward() step where this graph's bugs first write a wrong .grad."""
        stepper = self.stepper
        if stepper is not None and stepper.difference_step is not None:
            stepper.go(stepper.difference_step)
            self._show(follow=True)
        else:
            self.notify(no_difference(self.state, self.name_bugs), timeout=5)

    def action_home(self) -> None:
        assert self.stepper is not None
        self.stepper.home()
        self._show(follow=True)

    def action_end(self) -> None:
        assert self.stepper is not None
        self.stepper.end()
        self._show(follow=True)

    def action_move_focus(self, delta: int) -> None:
        canvas = self.query_one(GraphCanvas)
        picture = self.picture
        assert picture is not None
        order = picture.order
        index = order.index(canvas.focus_key) if canvas.focus_key in order else 0
        canvas.set_focus_key(order[(index + delta) % len(order)])
        self.show_panel()

    def action_scroll_view(self, pages: int) -> None:
        canvas = self.query_one(GraphCanvas)
        canvas.scroll_by_cells(0, pages * max(1, canvas.size.height - 2))

    def action_pan(self, direction: int) -> None:
        canvas = self.query_one(GraphCanvas)
        canvas.scroll_by_cells(direction * max(1, canvas.size.width // 2), 0)

    def action_expand(self) -> None:
        canvas = self.query_one(GraphCanvas)
        picture = self.picture
        assert picture is not None
        key = canvas.focus_key
        group = picture.group_of.get(key) if key is not None else None
        if group is None:
            self.notify(
                "Enter opens a model neuron; this value is not part of one "
                "(m shows the model's graph).",
                severity="warning",
                timeout=3,
            )
            return
        self.state.expanded ^= {group}  # open it, or close it
        self._redraw_picture_keep()
        canvas.set_focus_key(picture.groups[group][-1])
        self.show_panel()

    def _redraw_picture_keep(self) -> None:
        assert self.stepper is not None
        position = self.stepper.position
        self._redraw_picture()
        assert self.stepper is not None
        self.stepper.go(position)
        self._show(follow=False)

    def action_next_example(self) -> None:
        state = self.state
        if state.source is Source.EXAMPLE:
            index = EXAMPLE_NAMES.index(state.example)
            state.example = EXAMPLE_NAMES[(index + 1) % len(EXAMPLE_NAMES)]
        state.source = Source.EXAMPLE
        self._load(keep_position=False)

    def action_model(self) -> None:
        if self.state.source is Source.MODEL:
            self.notify(
                "This is the model's graph: , and . change the sample, e types its number.",
                timeout=3,
            )
            return
        self.state.source = Source.MODEL
        self._load(keep_position=False)

    def action_sample(self, delta: int) -> None:
        if self.state.source is not Source.MODEL:
            self.notify("Samples belong to the model's graph: press m first.", severity="warning")
            return
        count = len(self.snapshot.inputs)
        self.state.sample = (self.state.sample + delta) % count
        self._load(keep_position=False)

    def _load(self, keep_position: bool) -> None:
        self.state.expanded.clear()
        self.stepper = None
        self._rebuild(keep_position=keep_position)
        self.query_one(GraphCanvas).focus_key = None
        self._show(follow=True)
        if self.query_one("#graph-editor").display:
            self._fill_editor()

    def action_toggle_bug(self, number: int) -> None:
        if not 1 <= number <= len(bug_catalogue.CATALOGUE):
            return
        if not self.name_bugs:
            self.notify("In a round the graph runs the round's hidden engine, as it is.")
            return
        bug = bug_catalogue.CATALOGUE[number - 1]
        if bug.acts == bug_catalogue.IN_LOOP and self.state.source is not Source.MODEL:
            self.notify(
                f"{bug.id} lives in the training loop, not in backward(): press m for the "
                "model's graph to see it.",
                severity="warning",
                timeout=4,
            )
            return
        self.state.bugs ^= {bug.id}  # this graph's bugs: the run keeps its own
        self._rebuild()
        self._show(follow=False)

    def action_edit(self) -> None:
        editor = self.query_one("#graph-editor")
        editor.display = True
        self._fill_editor()
        model = self.state.source is Source.MODEL
        self.query_one("#graph-expression").display = not model
        self.query_one("#graph-values").display = not model
        self.query_one("#graph-sample").display = model
        self.query_one("#graph-sample" if model else "#graph-expression", Input).focus()

    def _fill_editor(self) -> None:
        state = self.state
        if state.source is Source.EXAMPLE:
            example = EXAMPLES[state.example]
            expression = "; ".join(line.strip() for line in example.source.splitlines())
            values = format_values(example.values)
        else:
            expression, values = state.expression, state.values
        with self.prevent(Input.Changed):
            self.query_one("#graph-expression", Input).value = expression
            self.query_one("#graph-values", Input).value = values
            self.query_one("#graph-sample", Input).value = str(state.sample + 1)

    @on(Input.Changed, "#graph-expression, #graph-values")
    def _on_typed(self) -> None:
        expression = self.query_one("#graph-expression", Input).value
        values_text = self.query_one("#graph-values", Input).value
        self.try_expression(expression, values_text)

    def try_expression(self, expression: str, values_text: str) -> bool:
        """Draw the typed expression; on bad text say why inline and keep the last good graph."""
        try:
            values = parse_values(values_text)
            program = parse(expression)
            missing = [name for name in program.leaves if name not in values]
            if missing:
                raise ValueError(
                    f"values: give {', '.join(missing)} a value (e.g. {missing[0]}=1.0)"
                )
            graph = expression_graph(expression, values, self.state.engine_bugs())
            self.difference = typed_difference(graph, expression, values)
        except (ExprError, ValueError) as err:
            self._set_error(f"{err} · the graph shown is the last good one")
            return False
        self._set_error("")
        state = self.state
        state.source, state.expression, state.values = Source.YOURS, expression, values_text
        state.expanded.clear()
        self.graph = graph
        self._redraw_picture()
        self.query_one(GraphCanvas).focus_key = None
        self._show(follow=True)
        return True

    def _set_error(self, message: str) -> None:
        self.error = message
        widget = self.query_one("#graph-error", Static)
        widget.display = bool(message)
        widget.update(Text("✗ " + message, style="bold red") if message else "")

    @on(Input.Submitted, "#graph-expression, #graph-values")
    def _on_expression_done(self) -> None:
        if not self.error:
            self.query_one("#graph-editor").display = False
            self.query_one(GraphCanvas).focus()

    @on(Input.Submitted, "#graph-sample")
    def _on_sample(self, event: Input.Submitted) -> None:
        count = len(self.snapshot.inputs)
        try:
            number = int(event.value)
        except ValueError:
            number = 0
        if not 1 <= number <= count:
            self._set_error(f"sample: {event.value!r} is not a sample number from 1 to {count}")
            return
        self._set_error("")
        self.state.sample = number - 1
        self.query_one("#graph-editor").display = False
        self._load(keep_position=False)
        self.query_one(GraphCanvas).focus()

    def action_close(self) -> None:
        focused = self.focused
        if isinstance(focused, Input):
            self.query_one("#graph-editor").display = False
            self._set_error("")
            self.query_one(GraphCanvas).focus()
            return
        self.dismiss(None)

    def show_sample(self, sample: int) -> None:
        """Switch to the model's graph of ``sample`` (0-based)."""
        self.state.source = Source.MODEL
        self.state.sample = sample
        self._load(keep_position=False)


__all__ = ["GraphCanvas", "GraphScreen", "GraphState"]
