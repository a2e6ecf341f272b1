"""The chain-rule stepper: the forward pass, then backward()'s own updates, one node at a time.

It never re-derives a gradient. The backward steps are the :class:`GradEvent`
records ``backward()`` reported while it ran (with whatever bugs were on), grouped
by the node being visited, so stepping to the end leaves every ``.grad`` exactly
where ``backward()`` left it. Moving back undoes an update with its ``before``.

Pure Python: the Graph screen styles the :class:`PanelLine` texts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from engine.bugs import (
    CATALOGUE,
    FORWARD_ORDER_BACKWARD,
    GRADIENT_ASCENT,
    OVERWRITE_GRAD,
    SKIP_ZERO_GRAD,
    TANH_DERIVATIVE,
    ZERO_GRAD_AFTER_BACKWARD,
)
from engine.inspect.graph import Difference, GradEvent, Graph, GraphNode, differs

START, FORWARD, SEED, BACKWARD = "start", "forward", "seed", "backward"


def fmt(x: float) -> str:
    """A number as the lecture prints it: 2.0, -1.5, 0.7071, 6.8814."""
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-4):
        return f"{x:.3e}"
    text = f"{x:.4f}".rstrip("0")
    text = text + "0" if text.endswith(".") else text
    return "0.0" if text in ("-0.0", "0.0") else text


BUG_IDS = tuple(bug.id for bug in CATALOGUE)


@dataclass(frozen=True, slots=True)
class Step:
    phase: str  # START, FORWARD, SEED or BACKWARD
    node: int | None  # the value computed (forward) or visited (backward)
    events: tuple[GradEvent, ...] = ()  # backward: the updates of this visit, in order


@dataclass(frozen=True, slots=True)
class PanelLine:
    text: str
    tone: str = ""  # "", "head", "bad", "note", "good"


class Stepper:
    """Where the walk through one graph is, and what each value shows there."""

    def __init__(
        self,
        graph: Graph,
        names: Sequence[str] | None = None,
        loop_bugs: frozenset[str] = frozenset(),
        learning_rate: float | None = None,
        difference: Difference | None = None,
        name_bugs: bool = True,
    ) -> None:
        """``difference``: where this (buggy) backward() first parts from a correct one
        (``engine.inspect.graph.first_difference``); its step is marked."""
        self.graph = graph
        self.difference = difference
        self.name_bugs = name_bugs  # False in a quiz round: the bug is the question
        self.names = list(names) if names is not None else [name_of(n) for n in graph.nodes]
        self.loop_bugs = loop_bugs
        self.learning_rate = learning_rate
        steps = [Step(START, None)]
        self.computed_at = [0] * len(graph.nodes)  # the step from which a value's data shows
        for node in graph.nodes:
            if node.op:
                self.computed_at[node.id] = len(steps)
                steps.append(Step(FORWARD, node.id))
        self.forward_end = len(steps) - 1
        self.seed = len(steps)
        steps.append(Step(SEED, graph.output))
        visit: list[GradEvent] = []
        for event in graph.events:
            if visit and visit[-1].node != event.node:
                steps.append(Step(BACKWARD, visit[0].node, tuple(visit)))
                visit = []
            visit.append(event)
        if visit:
            steps.append(Step(BACKWARD, visit[0].node, tuple(visit)))
        self.steps = steps
        self.difference_step: int | None = None  # the backward step that holds it
        if difference is not None:
            done = 0
            for index, step in enumerate(steps):
                if step.phase == BACKWARD and done <= difference.event < done + len(step.events):
                    self.difference_step = index
                done += len(step.events)
        self.position = 0
        self.grads = [0.0] * len(graph.nodes)  # .grad of every node at this position
        # Each value's contributions: (step index, event), in backward()'s order.
        self.received: dict[int, list[tuple[int, GradEvent]]] = {}
        for index, step in enumerate(steps):
            for event in step.events:
                self.received.setdefault(event.child, []).append((index, event))

    # -- moving -----------------------------------------------------------------

    @property
    def last(self) -> int:
        return len(self.steps) - 1

    @property
    def step(self) -> Step:
        return self.steps[self.position]

    def go(self, position: int) -> None:
        """Move to ``position``, applying or undoing backward()'s updates on the way."""
        position = max(0, min(position, self.last))
        while self.position < position:
            self.position += 1
            self._apply(self.steps[self.position], forwards=True)
        while self.position > position:
            self._apply(self.steps[self.position], forwards=False)
            self.position -= 1

    def _apply(self, step: Step, forwards: bool) -> None:
        if step.phase == SEED:
            self.grads[self.graph.output] = 1.0 if forwards else 0.0
        events = step.events if forwards else reversed(step.events)
        for event in events:
            self.grads[event.child] = event.after if forwards else event.before

    def home(self) -> None:
        """To the start of this pass; from there, to the very start."""
        self.go(self.seed if self.position > self.seed else 0)

    def end(self) -> None:
        """To the end of the forward pass; from there, to the end of backward."""
        self.go(self.forward_end if self.position < self.forward_end else self.last)

    # -- what shows ---------------------------------------------------------------

    @property
    def phase(self) -> str:
        return self.step.phase

    def has_data(self, node: int) -> bool:
        return self.computed_at[node] <= self.position

    def has_grad(self, node: int) -> bool:
        """Whether the backward pass has started (every grad shows, 0 until it arrives)."""
        return self.position >= self.seed

    def touched(self) -> set[int]:
        """The values this step wrote (data forward, grads backward)."""
        step = self.step
        if step.phase == FORWARD or step.phase == SEED:
            return {step.node}
        return {event.child for event in step.events}

    def progress(self) -> str:
        if self.position == 0:
            return f"start · {self.forward_end} forward, {self.last - self.seed} backward steps"
        if self.position <= self.forward_end:
            return f"forward {self.position}/{self.forward_end}"
        return f"backward {self.position - self.seed}/{self.last - self.seed}"

    def panel(self) -> list[PanelLine]:
        """The line being applied, with its numbers (a hidden bug's name left out)."""
        lines = self._panel()
        if self.name_bugs:
            return lines
        hidden = []
        for line in lines:
            text = line.text
            for bug_id in BUG_IDS:
                text = text.replace(bug_id, "the hidden bug")
            hidden.append(PanelLine(text, line.tone))
        return hidden

    def _panel(self) -> list[PanelLine]:
        step = self.step
        names = self.names
        if step.phase == START:
            leaves = [n for n in self.graph.nodes if not n.op]
            shown = ", ".join(f"{names[n.id]} = {fmt(n.data)}" for n in leaves[:8])
            more = f" and {len(leaves) - 8} more" if len(leaves) > 8 else ""
            return [
                PanelLine("Forward pass: → computes each value from its inputs.", "head"),
                PanelLine(f"The leaves hold their values: {shown}{more}."),
            ]
        node = self.graph.nodes[step.node]
        if step.phase == FORWARD:
            symbols, numbers = self._forward_formula(node)
            return [
                PanelLine(f"Forward: {names[node.id]} = {symbols}", "head"),
                PanelLine(
                    f"{names[node.id]}.data = {numbers} = {fmt(node.data)}"
                    if numbers
                    else f"{names[node.id]}.data = {fmt(node.data)}"
                ),
            ]
        if step.phase == SEED:
            out = names[node.id]
            why = f"d{out}/d{out} = 1" if " " not in out else "the output's own derivative"
            lines = [PanelLine(f"Backward: {out}.grad = 1.0  ({why}: it starts here)", "head")]
            if FORWARD_ORDER_BACKWARD in self.graph.bugs:
                lines.append(
                    PanelLine(
                        "forward-order-backward: the walk then starts at the leaves "
                        "(for node in topo), not at the output.",
                        "bad",
                    )
                )
            lines.extend(self._loop_before())
            return lines
        lines = [PanelLine(self._visit_head(node), "head")]
        for event in step.events:
            lines.extend(self._event_lines(node, event))
        if self.difference_step is not None and self.position != self.difference_step:
            lines.append(
                PanelLine("n: to where this backward() first differs from a correct one.", "note")
            )
        if self.position == self.difference_step:
            diff = self.difference
            lines.append(
                PanelLine(
                    f"First difference: {names[diff.node]}.grad = {fmt(diff.buggy)}, correct "
                    f"{fmt(diff.correct)}. From here on the gradients differ from a correct "
                    "backward().",
                    "bad",
                )
            )
        lines.extend(self._sums(step))
        if self.position == self.last:
            lines.extend(self._finish())
        return lines

    def _forward_formula(self, node: GraphNode) -> tuple[str, str]:
        kids = [self.graph.nodes[c] for c in node.children]
        sym = [self.names[k.id] for k in kids]
        num = [fmt(k.data) for k in kids]
        op = node.op
        if op in ("+", "*") and len(kids) == 2:
            sign = " + " if op == "+" else " × "
            return sign.join(sym), sign.join(num)
        if op.startswith("**") and kids:
            return f"{sym[0]}{op}", f"{num[0]}{op}"
        if op == "ReLU" and kids:
            return f"max(0, {sym[0]})", f"max(0, {num[0]})"
        if kids:
            return f"{op}({', '.join(sym)})", f"{op}({', '.join(num)})"
        return op, ""

    def _visit_head(self, node: GraphNode) -> str:
        symbols, _ = self._forward_formula(node)
        name = self.names[node.id]
        return f"Backward at {name} = {symbols}   ({name}.grad = {fmt(self.grads[node.id])})"

    def _local(self, node: GraphNode, index: int) -> str:
        """d node / d child, as the lecture writes it."""
        name = self.names[node.id]
        kids = node.children
        op = node.op
        if op == "+":
            return "1"
        if op == "*" and len(kids) == 2:
            return f"{self.names[kids[1 - index]]}.data"
        if op.startswith("**"):
            k = op[2:]
            return f"{k}·{self.names[kids[0]]}.data**({k}-1)"
        if op == "tanh":
            return (
                f"(1 − {name}.data)"
                if TANH_DERIVATIVE in self.graph.bugs
                else f"(1 − {name}.data²)"
            )
        if op == "exp":
            return f"{name}.data"
        if op == "log":
            return f"1/{self.names[kids[0]]}.data"
        if op == "ReLU":
            return f"({self.names[kids[0]]}.data > 0)"
        if op == "sigmoid":
            return f"{name}.data·(1 − {name}.data)"
        return f"d{name}/d{self.names[kids[index]]}"

    def _event_lines(self, node: GraphNode, event: GradEvent) -> list[PanelLine]:
        index = list(node.children).index(event.child)
        # The same child twice (b = a + a): the second event is the second slot.
        seen = [e for e in self.step.events if e.child == event.child]
        if len(seen) > 1 and seen.index(event) > 0:
            index = [i for i, c in enumerate(node.children) if c == event.child][seen.index(event)]
        child = self.names[event.child]
        name = self.names[node.id]
        local = self._local(node, index)
        term = f"{fmt(event.local_grad)} × {fmt(event.node_grad)}"
        overwrite = OVERWRITE_GRAD in self.graph.bugs
        if overwrite:
            line = f"{child}.grad = {local} × {name}.grad  →  {term} = {fmt(event.after)}"
        else:
            line = (
                f"{child}.grad += {local} × {name}.grad  →  "
                f"{fmt(event.before)} + {term} = {fmt(event.after)}"
            )
        lines = [PanelLine(line)]
        if overwrite and event.before != 0:
            summed = event.before + event.local_grad * event.node_grad
            lines.append(
                PanelLine(
                    f"  overwrite-grad: '=' discards the {fmt(event.before)} already in "
                    f"{child}.grad (+= would give {fmt(summed)})",
                    "bad",
                )
            )
        if node.op == "tanh" and TANH_DERIVATIVE in self.graph.bugs:
            t = node.data
            lines.append(
                PanelLine(
                    f"  tanh-derivative: 1 − t = {fmt(1 - t)}, but d tanh/dx is 1 − t² = "
                    f"{fmt(1 - t * t)}",
                    "bad",
                )
            )
        if FORWARD_ORDER_BACKWARD in self.graph.bugs and event.node_grad == 0:
            lines.append(
                PanelLine(
                    f"  forward-order-backward: {name}.grad is still 0 (nothing has flowed back "
                    f"to it yet), so {child} receives {fmt(event.local_grad)} × 0",
                    "bad",
                )
            )
        return lines

    def _sums(self, step: Step) -> list[PanelLine]:
        """For a value used more than once: every contribution so far and the running sum."""
        lines = []
        for child in dict.fromkeys(e.child for e in step.events):
            got = [(i, e) for i, e in self.received.get(child, []) if i <= self.position]
            if len(self.received.get(child, [])) < 2:
                continue
            name = self.names[child]
            steps = [fmt(got[0][1].before)] + [fmt(e.after) for _, e in got]
            if len(steps) > 8:  # a value used by many: the start and the latest few
                steps = [*steps[:2], "…", *steps[-5:]]
            chain = " → ".join(steps)
            left = len(self.received[child]) - len(got)
            rest = f"; {left} more to come" if left else ""
            lines.append(
                PanelLine(
                    f"{name} is used {len(self.received[child])} times: {name}.grad {chain}{rest}",
                    "note",
                )
            )
        return lines

    def _loop_before(self) -> list[PanelLine]:
        if not self.loop_bugs and self.learning_rate is None:
            return []
        if SKIP_ZERO_GRAD in self.loop_bugs:
            return [
                PanelLine(
                    "skip-zero-grad: zero_grad() never ran, so in the run every parameter's "
                    ".grad enters this pass holding all earlier steps' gradients; this pass "
                    "adds to them (shown here from 0).",
                    "bad",
                )
            ]
        return [PanelLine("zero_grad() ran before this pass: every .grad starts at 0.", "note")]

    def _finish(self) -> list[PanelLine]:
        lines = [PanelLine("backward() is done: these grads are the ones it left.", "good")]
        numerical = self.graph.numerical
        if numerical:
            parts = []
            for leaf, value in list(numerical.items())[:6]:
                got = self.grads[leaf]
                mark = "✗" if differs(got, value) else "✓"
                parts.append(f"{self.names[leaf]} {fmt(got)} vs {fmt(value)} {mark}")
            lines.append(PanelLine("numerical (nudge by h): " + ", ".join(parts), "note"))
        if ZERO_GRAD_AFTER_BACKWARD in self.loop_bugs:
            lines.append(
                PanelLine(
                    "zero-grad-after-backward: zero_grad() runs now, so every .grad above "
                    "becomes 0 before the update: SGD moves nothing.",
                    "bad",
                )
            )
        if GRADIENT_ASCENT in self.loop_bugs:
            lines.append(
                PanelLine(
                    "gradient-ascent: the update adds lr × .grad (p.data += lr × p.grad), "
                    "climbing the loss.",
                    "bad",
                )
            )
        return lines


def name_of(node: GraphNode) -> str:
    """A name for the panel: the label, a constant's value, or the value's number."""
    if node.label:
        return node.label
    if not node.op:
        return fmt(node.data)
    return f"v{node.id}"
