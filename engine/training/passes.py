"""A run's forward and backward passes: compiled (``engine/fast``) or the lecture's ``Value``
graph, on the run's current model and data.

``TrainingSession`` holds one ``Passes`` and asks it for every forward pass; the
compiled nets are built at their first use and again when the model or the data is
replaced (the session then makes a new ``Passes``). Both engines give the same numbers;
while a bug the fast path does not mirror is on, the reference engine runs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from engine import bugs
from engine.fast import CompiledLoss, CompiledNet, mirrors
from engine.inspect.gradcheck import GradCheckResult, gradcheck, parameters_to_check
from engine.inspect.inference import PlainMLP
from engine.losses import LOSSES, l2_penalty
from engine.training.budget import multiply_adds, parameter_count
from engine.training.health import GROWTH_STEPS, Health, layer_gradient_norms, measure
from engine.training.history import HistoryRecorder
from engine.value import Value


class Loss(Protocol):
    """A loss either engine computed: its value, and backward() to fill the .grad fields."""

    data: float

    def backward(self) -> None: ...


class Passes:
    """The passes of ``run`` (a ``TrainingSession``), read from its model, config and data."""

    def __init__(self, run) -> None:
        self.run = run
        self.compiled: CompiledNet | None = None
        self.compiled_test: CompiledNet | None = None
        # A fast forward pass over every training sample made by ``neuron_outputs()``
        # at the weights after a step: the next step's forward pass, if it runs on
        # those very weights, every sample and the same variant, is this one.
        self._ahead: CompiledLoss | None = None

    def forward(
        self, held_out: bool = False, rows: Sequence[int] | None = None
    ) -> tuple[Loss, tuple[float, ...]]:
        """The loss at the current weights, and each sample's score.

        ``held_out``: the same objective on the test points instead.
        """
        run = self.run
        ahead = self._take_ahead()  # dropped unless it is this very pass
        if self.runs_fast():
            loss = None if held_out or rows is not None else ahead
            if loss is None:
                loss = self.compiled_net(held_out).forward(rows)
            return loss, tuple(loss.predictions)
        xs, ys = (run.test_xs, run.test_ys) if held_out else (run.xs, run.ys)
        if rows is not None:
            xs, ys = [xs[i] for i in rows], [ys[i] for i in rows]
        loss, scores = self.value_forward(xs, ys)
        return loss, tuple(score.data for score in scores)

    def _take_ahead(self) -> CompiledLoss | None:
        """The pass ``neuron_outputs()`` made, if it is the one a forward pass would make now."""
        loss, self._ahead = self._ahead, None
        if (
            loss is not None
            and loss._net is self.compiled
            and loss._net.model is self.run.model
            and loss.tanh_bug == bugs.is_on(bugs.TANH_DERIVATIVE)
            and loss.reads_current_weights()
        ):
            return loss
        return None

    def neuron_outputs(self) -> list[list[Sequence[float]]]:
        """Each neuron's output on every training sample at the current weights:
        [layer][neuron][sample], the output layer last.

        On the fast path this is a forward pass over every sample, kept for the next
        step (whose forward pass it is, unless the weights, data or variant changed
        first or the step trains on a mini-batch): a full-batch run pays for it once.
        Otherwise (the reference engine, or before the fast path is compiled: a UI
        compiles it off its own thread) the plain-float forward pass
        (``engine/inspect/inference.py``), whose numbers are the same.
        """
        run = self.run
        if self.runs_fast() and self.compiled is not None:
            loss = self._take_ahead() or self.compiled_net().forward()
            self._ahead = loss
            return loss.neuron_outputs()
        model = run.model
        net = PlainMLP(
            tuple(
                tuple(tuple(w.data for w in n.w) for n in layer.neurons) for layer in model.layers
            ),
            tuple(tuple(n.b.data for n in layer.neurons) for layer in model.layers),
            tuple(layer.neurons[0].activation for layer in model.layers),
        )
        return net.layer_outputs(run.xs)

    def health(self, history: HistoryRecorder) -> Health:
        """The run's health at its current weights and last step (``TrainingSession.health``).

        On the fast path its forward pass is the next step's (``neuron_outputs``), so a
        full-batch run that asks after every step pays little more than a tape read.
        """
        run = self.run
        layers = run.model.layers
        sizes = (run.nin,) + tuple(len(layer.neurons) for layer in layers)
        norms = ()
        if run.step_count:
            norms = layer_gradient_norms(sizes, [p.grad for p in run.optimizer.parameters])
        now, before = history.grad_norms(run.step_count, GROWTH_STEPS)
        return measure(
            run.step_count,
            [layer.neurons[0].activation for layer in layers],
            self.neuron_outputs(),
            norms,
            now,
            before,
        )

    def compiled_net(self, held_out: bool = False) -> CompiledNet:
        run = self.run
        xs, ys = (run.test_xs, run.test_ys) if held_out else (run.xs, run.ys)
        cache = "compiled_test" if held_out else "compiled"
        compiled = getattr(self, cache)
        # Built on first use (a run of 0 steps never pays for it), and again
        # if the model object was replaced: it reads that model's Values.
        if compiled is None or compiled.model is not run.model:
            compiled = CompiledNet(run.model, run.config.loss, run.config.l2, xs, ys)
            setattr(self, cache, compiled)
        return compiled

    def compile(self) -> None:
        """Compile the fast path's passes now, not at the first step (a UI does it off
        its own thread); nothing to do on the reference backend."""
        run = self.run
        with run._lock:
            if run.backend != "fast":
                return
            for held_out in (False, True) if run.test_xs else (False,):
                net = self.compiled_net(held_out)
                net.forward_function(tanh_bug=False)
                net.backward_function(overwrite=False, forward_order=False, skip_zeros=False)

    def runs_fast(self) -> bool:
        """The fast backend, unless a bug it does not mirror is on: then the reference's.

        (Both give the same numbers; ``engine.fast.MIRRORED_BUGS`` lists the bugs.)
        """
        run = self.run
        return run.backend == "fast" and mirrors(bugs.active())

    def clean_gradients(self, rows: Sequence[int] | None = None) -> tuple[float, ...]:
        """What clean code computes at the current weights (on the step's batch);
        leaves .grad as it was."""
        run = self.run
        params = run.optimizer.parameters
        buggy = [p.grad for p in params]
        with bugs.injected(()):
            run.model.zero_grad()
            loss, _ = self.forward(rows=rows)
            loss.backward()
            clean = tuple(p.grad for p in params)
        for p, g in zip(params, buggy):
            p.grad = g
        return clean

    def value_forward(self, xs=None, ys=None) -> tuple[Value, list[Value]]:
        """The lecture's forward pass: the whole batch as one ``Value`` graph."""
        run = self.run
        xs, ys = (run.xs, run.ys) if xs is None else (xs, ys)
        scores = [run.model(x) for x in xs]
        loss = LOSSES[run.config.loss](scores, ys)
        if run.config.l2:
            loss = loss + l2_penalty(run.model.parameters(), run.config.l2)
        return loss, scores

    def gradcheck(self, max_parameters: int | None = None, seed: int = 0) -> GradCheckResult:
        """Backprop (with the active bugs) vs finite differences at the current weights.

        Backprop always on the reference ``Value`` engine. Checks as many parameters
        as the one rule allows (``engine.inspect.gradcheck.parameters_to_check``), or
        ``max_parameters`` when given; a subset is chosen at random, reproducibly from
        ``seed``. Weights and gradients are left as they were.
        """
        run = self.run
        if max_parameters is None:
            work = len(run.xs) * multiply_adds(run.nin, run.config.hidden)
            count = parameter_count(run.nin, run.config.hidden)
            max_parameters = parameters_to_check(count, work)
        with run._lock, bugs.injected(run.bugs):
            params = run.model.parameters()
            saved = [p.grad for p in params]
            indices = None
            if max_parameters is not None and max_parameters < len(params):
                indices = sorted(random.Random(seed).sample(range(len(params)), max_parameters))
            try:
                # Backprop on the lecture's engine; the finite differences may use
                # the fast forward pass, which gives the same loss.
                result = gradcheck(
                    lambda: self.value_forward()[0],
                    params,
                    indices,
                    loss_value=lambda: self.forward()[0].data,
                )
                return replace(result, step=run.step_count)
            finally:
                for p, g in zip(params, saved):
                    p.grad = g
