"""The four fixed workloads and, for each, a training step per contender.

Every contender runs the same loop body: forward pass over the full batch,
zero the gradients, backward pass, SGD update. ``make_*`` returns a
zero-argument ``step()`` that does one such update, its state held inside.

Each contender trains in episodes of ``EPISODE`` steps (the moons demo's run
length), each from the same fresh initial weights: the fast path skips work
a met hinge margin makes zero, so its speed depends on how far training has
gone, and it is measured over the steps a learner runs, not on a converged net.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import datasets
from engine.fast import CompiledNet
from engine.losses import LOSSES, l2_penalty
from engine.nn import MLP
from engine.optim import SGD, Schedule
from engine.training.records import SessionConfig
from engine.training.session import TrainingSession

Step = Callable[[], None]
EPISODE = 100


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    dataset: str
    samples: int | None
    hidden: tuple[int, ...]
    activation: str
    loss: str
    l2: float
    schedule: Schedule
    # The contenders that run it (None: all). A Value graph of W4 would need
    # tens of GB per step: the reference engine and micrograd sit it out.
    only: tuple[str, ...] | None = None

    def data(self) -> datasets.Dataset:
        return datasets.make(self.dataset, self.samples, seed=0)

    @property
    def sizes(self) -> list[int]:
        return [*self.hidden, 1]

    def multiply_adds(self) -> int:
        """Multiply-adds of one step's forward pass: samples x the weights."""
        data = self.data()
        dims = [len(data.xs[0]), *self.sizes]
        return len(data.xs) * sum(a * b for a, b in pairwise(dims))

    def runs(self, contender: str) -> bool:
        return self.only is None or contender in self.only

    def session_config(self) -> SessionConfig:
        s = self.schedule
        return SessionConfig(
            hidden=self.hidden,
            activation=self.activation,
            loss=self.loss,
            lr=s.start,
            lr_end=s.end,
            decay_steps=s.steps,
            l2=self.l2,
            seed=1,
        )


WORKLOADS = (
    Workload(
        "W1",
        "tutorial: MLP(3, [4, 4, 1]) tanh, sse, 4 points",
        "tutorial",
        None,
        (4, 4),
        "tanh",
        "sse",
        0.0,
        Schedule(0.05),
    ),
    Workload(
        "W2",
        "moons: MLP(2, [16, 16, 1]) relu, hinge + 1e-4 L2, 100 points",
        "moons",
        100,
        (16, 16),
        "relu",
        "hinge",
        1e-4,
        Schedule(1.0, 0.1, 100),
    ),
    Workload(
        "W3",
        "spiral: MLP(2, [32, 32, 1]) relu, hinge, 300 points",
        "spiral",
        300,
        (32, 32),
        "relu",
        "hinge",
        0.0,
        Schedule(0.1),
    ),
    Workload(
        "W4",
        "wide: MLP(2, [256, 256, 1]) relu, hinge + 1e-4 L2, 1,000 moons points",
        "moons",
        1000,
        (256, 256),
        "relu",
        "hinge",
        1e-4,
        Schedule(1.0, 0.1, 100),
        only=("fast", "session", "health", "torch"),
    ),
)


# -- ours ----------------------------------------------------------------------------


def make_reference(w: Workload) -> Step:
    """engine/value.py: the whole batch as one Value graph, every step."""
    data = w.data()
    loss_fn = LOSSES[w.loss]
    k = 0

    def step() -> None:
        nonlocal k, model, optimizer
        if k % EPISODE == 0:
            model = MLP(len(data.xs[0]), w.sizes, w.activation, seed=1)
            optimizer = SGD(model.parameters(), w.schedule)
        scores = [model(x) for x in data.xs]
        loss = loss_fn(scores, data.ys)
        if w.l2:
            loss = loss + l2_penalty(model.parameters(), w.l2)
        model.zero_grad()
        loss.backward()
        optimizer.step(k % EPISODE)
        k += 1

    model = optimizer = None
    return step


def make_fast(w: Workload) -> Step:
    """engine/fast: the same model, loss and data compiled to straight-line Python."""
    data = w.data()
    k = 0

    def step() -> None:
        nonlocal k, model, optimizer, net
        if k % EPISODE == 0:
            model = MLP(len(data.xs[0]), w.sizes, w.activation, seed=1)
            optimizer = SGD(model.parameters(), w.schedule)
            net = CompiledNet(model, w.loss, w.l2, data.xs, data.ys)
        loss = net.forward()
        model.zero_grad()
        loss.backward()
        optimizer.step(k % EPISODE)
        k += 1

    model = optimizer = net = None
    return step


def _session_step(w: Workload, health: bool) -> Step:
    data = w.data()
    session = TrainingSession(w.session_config(), data.xs, data.ys)

    def step() -> None:
        if session.step_count == EPISODE:
            session.reset()
        session.step()
        if health:
            session.health()

    return step


def make_session(w: Workload) -> Step:
    """TrainingSession.step() on the fast backend: what the dashboard and the CLI run,
    with its lock, bug switches, norms, accuracy and history."""
    return _session_step(w, health=False)


def make_health(w: Workload) -> Step:
    """``make_session``'s step, then ``TrainingSession.health()``, as ``train --json`` and
    ``--health`` ask after every step: its forward pass is the next step's."""
    return _session_step(w, health=True)


# -- karpathy's micrograd 0.1.0 --------------------------------------------------------


def micrograd_available() -> bool:
    try:
        import micrograd  # noqa: F401
    except ImportError:
        return False
    return True


def make_micrograd(w: Workload) -> Step:
    """micrograd 0.1.0 as published: its Value, its MLP (relu, linear output), its demo loss.

    micrograd's MLP has no tanh; W1 adds the lecture's ``tanh`` to its Value
    and builds the lecture's tanh neurons from micrograd's Neuron.
    """
    from micrograd.engine import Value as MgValue
    from micrograd.nn import MLP as MgMLP

    data = w.data()
    k = 0

    def step() -> None:
        nonlocal k, model, params
        if k % EPISODE == 0:
            random.seed(1)
            if w.activation == "tanh":
                model = _micrograd_tanh_mlp(len(data.xs[0]), w.sizes)
            else:
                model = MgMLP(len(data.xs[0]), w.sizes)
            params = model.parameters()
        inputs = [list(map(MgValue, x)) for x in data.xs]
        scores = list(map(model, inputs))
        if w.loss == "sse":  # the lecture
            loss = sum((s - y) ** 2 for y, s in zip(data.ys, scores))
        else:  # micrograd's demo.ipynb
            losses = [(1 + -y * s).relu() for y, s in zip(data.ys, scores)]
            loss = sum(losses) * (1.0 / len(losses))
            if w.l2:
                loss = loss + w.l2 * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        lr = w.schedule.at(k % EPISODE)
        for p in params:
            p.data -= lr * p.grad
        k += 1

    model = params = None
    return step


def _micrograd_tanh_mlp(nin: int, sizes: list[int]):
    """The lecture's MLP of tanh neurons, on micrograd's Value."""
    from micrograd.engine import Value as MgValue
    from micrograd.nn import Module, Neuron

    def tanh(v: MgValue) -> MgValue:
        t = math.tanh(v.data)
        out = MgValue(t, (v,), "tanh")

        def _backward() -> None:
            v.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    class TanhNeuron(Neuron):
        def __call__(self, x):
            return tanh(sum((wi * xi for wi, xi in zip(self.w, x)), self.b))

    class TanhMLP(Module):
        def __init__(self) -> None:
            dims = [nin, *sizes]
            self.layers = [
                [TanhNeuron(dims[i]) for _ in range(dims[i + 1])] for i in range(len(sizes))
            ]
            for layer in self.layers:  # micrograd starts biases at 0; the lecture draws them
                for n in layer:
                    n.b.data = random.uniform(-1, 1)

        def __call__(self, x):
            for layer in self.layers:
                out = [n(x) for n in layer]
                x = out[0] if len(out) == 1 else out
            return x

        def parameters(self):
            return [p for layer in self.layers for n in layer for p in n.parameters()]

    return TanhMLP()


# -- PyTorch --------------------------------------------------------------------------


def torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def make_torch(w: Workload) -> Step:
    """PyTorch on the CPU, float64, vectorised over the batch: the same loop in tensors."""
    import torch

    torch.set_num_threads(1)  # like every other contender; 2 threads only contend here
    data = w.data()
    x = torch.tensor(data.xs, dtype=torch.float64)
    y = torch.tensor(data.ys, dtype=torch.float64)
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[w.activation]
    dims = [len(data.xs[0]), *w.sizes]
    k = 0

    def step() -> None:
        nonlocal k, model, params
        if k % EPISODE == 0:
            torch.manual_seed(1)
            layers: list[torch.nn.Module] = []
            for i in range(len(w.sizes)):
                layers.append(torch.nn.Linear(dims[i], dims[i + 1], dtype=torch.float64))
                if i < len(w.sizes) - 1 or w.activation == "tanh":  # tanh nets end in tanh
                    layers.append(act())
            model = torch.nn.Sequential(*layers)
            params = list(model.parameters())
        scores = model(x).squeeze(1)
        if w.loss == "sse":
            loss = ((scores - y) ** 2).sum()
        else:
            loss = torch.relu(1 - y * scores).mean()
            if w.l2:
                loss = loss + w.l2 * sum((p * p).sum() for p in params)
        model.zero_grad()
        loss.backward()
        lr = w.schedule.at(k % EPISODE)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        k += 1

    model = params = None
    return step


@dataclass(frozen=True)
class Contender:
    key: str
    title: str
    make: Callable[[Workload], Step]


def contenders() -> list[Contender]:
    found = [
        Contender("fast", "ours: engine/fast (compiled)", make_fast),
        Contender("session", "ours: TrainingSession.step() (fast)", make_session),
        Contender("health", "ours: step() + health() (fast)", make_health),
        Contender("reference", "ours: engine/value.py (Value graph)", make_reference),
    ]
    if micrograd_available():
        found.append(Contender("micrograd", "micrograd 0.1.0", make_micrograd))
    version = torch_version()
    if version is not None:
        found.append(
            Contender("torch", f"PyTorch {version} CPU (float64, batched, 1 thread)", make_torch)
        )
    return found
