"""Write straight-line Python for one sample's forward and backward pass.

Every line emitted here mirrors one node (or one chain of nodes) of the graph
``engine.value.Value`` would build for the same model, and does the same
floating-point operations in the same order. Variable names say where a value
sits in the network (``h1_0``: layer 1, neuron 0; ``q``: a local derivative);
a comment is emitted only where a line's arithmetic differs in form from the
lecture's expression (``s * ny + 1.0  # 1 + -y * s``). ``CompiledNet.source()``
returns the generated code to read. See ``engine/fast/__init__.py`` for why the
order matters and how each bug is mirrored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# How many terms one generated expression may chain before it is split into
# statements: a very long ``a + b + c ...`` nests deeply in the compiler.
_CHAIN = 64


@dataclass(frozen=True)
class LayerShape:
    nin: int
    nout: int
    activation: str  # one of engine.nn.ACTIVATIONS: _activation_lines writes each


@dataclass(frozen=True)
class NetShape:
    """What the generated code depends on: the layers, the loss, whether L2 is on."""

    layers: tuple[LayerShape, ...]
    loss: str  # one of engine.losses.LOSSES: _loss_forward_lines writes each
    l2: bool

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    def parameter_count(self) -> int:
        return sum(layer.nout * (layer.nin + 1) for layer in self.layers)


@dataclass(frozen=True)
class BackwardMode:
    """Which of ``Value.backward()``'s bugs the generated backward reproduces."""

    overwrite: bool = False  # overwrite-grad: child.grad = ..., not +=
    forward_order: bool = False  # forward-order-backward: walk the topological order forwards
    # Skip work whose every contribution is a zero: a sample whose loss term
    # passes back 0 (hinge, margin met), a relu neuron that is off. Exact
    # only while every forward value is finite (then 0 * x is a zero); the
    # caller checks that. Never with the bugs: '=' must still overwrite.
    skip_zeros: bool = False


class _Names:
    """Variable names of the generated code, by position in the network."""

    def __init__(self, shape: NetShape):
        self.shape = shape
        self.offsets = []
        offset = 0
        for layer in shape.layers:
            self.offsets.append(offset)
            offset += layer.nout * (layer.nin + 1)

    def weight(self, layer: int, neuron: int, j: int) -> int:
        """Index of the weight in ``MLP.parameters()`` order."""
        nin = self.shape.layers[layer].nin
        return self.offsets[layer] + neuron * (nin + 1) + j

    def bias(self, layer: int, neuron: int) -> int:
        nin = self.shape.layers[layer].nin
        return self.offsets[layer] + neuron * (nin + 1) + nin

    def inputs(self, layer: int) -> list[str]:
        """The names of the values feeding ``layer``: the sample or the layer before."""
        if layer == 0:
            return [f"x{j}" for j in range(self.shape.nin)]
        return [f"h{layer - 1}_{j}" for j in range(self.shape.layers[layer - 1].nout)]

    def score(self) -> str:
        return f"h{len(self.shape.layers) - 1}_0"

    def tape(self) -> list[str]:
        """What the forward pass keeps per sample for the backward pass."""
        names = []
        for li, layer in enumerate(self.shape.layers):
            if li < len(self.shape.layers) - 1:
                names += [f"h{li}_{i}" for i in range(layer.nout)]
            if layer.activation != "linear":
                names += [f"q{li}_{i}" for i in range(layer.nout)]
        names += _LOSS_TAPE[self.shape.loss]
        return names


# Per sample, the loss term's values its backward needs.
_LOSS_TAPE = {
    "sse": ["qe"],
    "mse": ["qe"],
    "hinge": ["qr"],
    "bce": ["positive", "e", "u"],
}


def _chain(target: str, first: str, terms: Sequence[str], indent: str) -> list[str]:
    """``target = first + t0 + t1 ...``, left to right, split into bounded statements."""
    lines = []
    head = first
    for start in range(0, max(len(terms), 1), _CHAIN):
        part = terms[start : start + _CHAIN]
        lines.append(indent + f"{target} = " + " + ".join([head, *part]))
        head = target
    return lines


def _activation_lines(act: str, a: str, h: str, q: str, tanh_bug: bool, ind: str) -> list[str]:
    """The activation node: its value and its local derivative (as in Value)."""
    if act == "tanh":
        local = f"1 - {h}" if tanh_bug else f"1 - {h}**2"
        note = "  # tanh-derivative: forgot to square" if tanh_bug else ""
        return [ind + f"{h} = tanh({a})", ind + f"{q} = {local}{note}"]
    if act == "relu":
        return [
            ind + f"if {a} > 0:",
            ind + f"    {h} = {a}",
            ind + f"    {q} = 1.0",
            ind + "else:",
            ind + f"    {h} = 0.0",
            ind + f"    {q} = 0.0",
        ]
    if act == "sigmoid":
        return [ind + f"{h} = 1.0 / (1.0 + _exp(-{a}))", ind + f"{q} = {h} * (1 - {h})"]
    if act == "linear":
        return [ind + f"{h} = {a}"]
    raise ValueError(f"unknown activation {act!r}")


def _loss_forward_lines(loss: str, s: str, ind: str) -> list[str]:
    """One sample's loss term ``term`` from its score ``s`` and ``ny`` = -target."""
    if loss in ("sse", "mse"):
        return [
            ind + f"err = {s} + ny  # s - y",
            ind + "term = _pow(err, 2)",
            ind + "qe = 2 * err  # 2 * _pow(err, 1): pow(x, 1) is x exactly",
        ]
    if loss == "hinge":
        return [
            ind + f"margin = {s} * ny + 1.0  # 1 + -y * s",
            ind + "if margin > 0:",
            ind + "    term = margin",
            ind + "    qr = 1.0",
            ind + "else:",
            ind + "    term = 0.0",
            ind + "    qr = 0.0",
        ]
    if loss == "bce":
        # losses._softplus: two graphs, chosen by the sign of z = -y * s.
        return [
            ind + f"z = {s} * ny",
            ind + "positive = z > 0",
            ind + "if positive:  # z + log(1 + exp(-z))",
            ind + "    e = _exp(z * -1.0)",
            ind + "    u = e + 1.0",
            ind + "    term = z + _log(u)",
            ind + "else:  # log(1 + exp(z))",
            ind + "    e = _exp(z)",
            ind + "    u = e + 1.0",
            ind + "    term = _log(u)",
        ]
    raise ValueError(f"unknown loss {loss!r}")


def forward_source(shape: NetShape, tanh_bug: bool) -> str:
    """``forward(V, DATA, INV_N, ALPHA) -> (loss, scores, tape, P)`` for the whole batch.

    ``V`` are the parameter Values, ``DATA`` the samples as ``(x0, .., ny)``
    tuples in order, ``INV_N`` is ``1.0 / len(DATA)``, ``ALPHA`` the L2
    weight. Globals expected: ``tanh _exp _pow _log``.
    """
    names = _Names(shape)
    nparams = shape.parameter_count()
    ws = [f"w{k}" for k in range(nparams)]
    vs = [f"v{k}" for k in range(nparams)]
    lines = ["def forward(V, DATA, INV_N, ALPHA):"]
    ind = "    "
    lines.append(ind + f"{', '.join(vs)}, = V")
    lines.append(ind + f"P = ({', '.join(v + '.data' for v in vs)},)")
    lines.append(ind + f"{', '.join(ws)}, = P")
    lines.append(ind + "scores = []")
    lines.append(ind + "tape = []")
    lines.append(ind + "keep = tape.append")
    lines.append(ind + "score = scores.append")
    lines.append(ind + "total = 0.0  # sum(terms, Value(0.0))")
    xs = names.inputs(0)
    lines.append(ind + f"for {', '.join(xs)}, ny in DATA:")
    body = ind * 2
    for li, layer in enumerate(shape.layers):
        inputs = names.inputs(li)
        for i in range(layer.nout):
            products = [f"w{names.weight(li, i, j)}*{x}" for j, x in enumerate(inputs)]
            # Neuron: sum((wi * xi for ...), self.b), then the activation.
            lines += _chain("a", f"w{names.bias(li, i)}", products, body)
            lines += _activation_lines(
                layer.activation, "a", f"h{li}_{i}", f"q{li}_{i}", tanh_bug, body
            )
    s = names.score()
    lines.append(body + f"score({s})")
    lines += _loss_forward_lines(shape.loss, s, body)
    lines.append(body + "total = total + term")
    tape = names.tape()
    lines.append(body + f"keep(({', '.join(tape)},))")
    if shape.loss == "sse":
        lines.append(ind + "loss = total")
    else:
        lines.append(ind + "loss = total * INV_N  # the mean")
    if shape.l2:
        # l2_penalty: alpha * sum((p * p for p in parameters), Value(0.0))
        lines += _chain("squares", "0.0", [f"{w}*{w}" for w in ws], ind)
        lines.append(ind + "loss = loss + squares * ALPHA")
    lines.append(ind + "return loss, scores, tape, P")
    return "\n".join(lines) + "\n"


def _loss_backward_lines(loss: str, overwrite: bool, ind: str) -> list[str]:
    """d(loss)/d(score) for one sample, ``up`` being the gradient its term receives."""
    if loss in ("sse", "mse"):
        return [ind + "ds = qe * up"]
    if loss == "hinge":
        return [ind + "ds = ny * (qr * up)"]
    if loss == "bce":
        # z feeds two nodes on the positive branch: the sum (visited first) and -z.
        if overwrite:
            positive = "gz = -1.0 * (e * ((1.0 / u) * up))  # overwrite-grad: the last path wins"
        else:
            positive = "gz = up + -1.0 * (e * ((1.0 / u) * up))"
        return [
            ind + "if positive:",
            ind + "    " + positive,
            ind + "else:",
            ind + "    gz = e * ((1.0 / u) * up)",
            ind + "ds = ny * gz",
        ]
    raise ValueError(f"unknown loss {loss!r}")


def _unpack_lines(ws: list[str], gs: list[str], read_grads: bool, ind: str) -> list[str]:
    vs = [f"v{k}" for k in range(len(ws))]
    lines = [ind + f"{', '.join(vs)}, = V", ind + f"{', '.join(ws)}, = P"]
    if read_grads:
        lines.append(ind + f"{', '.join(gs)}, = {', '.join(v + '.grad' for v in vs)}")
    return lines


def backward_source(shape: NetShape, mode: BackwardMode) -> str:
    """``backward(V, P, tape, RDATA, UP, ALPHA)``: add the gradients into each ``V[k].grad``.

    ``P`` and ``tape`` come from ``forward``; ``RDATA`` is the data reversed;
    ``UP`` is the gradient each sample's loss term receives (1.0, or 1/n for
    a mean); ``ALPHA`` the L2 weight.
    """
    if mode.forward_order:
        return _forward_order_backward_source(shape, mode.overwrite)
    names = _Names(shape)
    nparams = shape.parameter_count()
    ws = [f"w{k}" for k in range(nparams)]
    gs = [f"g{k}" for k in range(nparams)]
    acc = "=" if mode.overwrite else "+="
    ind = "    "
    lines = ["def backward(V, P, tape, RDATA, UP, ALPHA):"]
    lines += _unpack_lines(ws, gs, read_grads=not mode.overwrite, ind=ind)
    lines.append(ind + "up = UP")
    if mode.overwrite:
        # Every parameter's last incoming path is sample 0's: .grad, and the
        # L2 term's share, are overwritten.
        lines.append(ind + f"{', '.join(gs)}, = [0.0] * {nparams}")
    else:
        if shape.l2:
            # The L2 sum is visited first: p.grad += p * alpha, once per factor of p * p.
            for w, g in zip(ws, gs):
                lines.append(ind + f"{g} = {g} + {w} * ALPHA + {w} * ALPHA")
    xs = names.inputs(0)
    lines.append(
        ind
        + f"for ({', '.join(xs)}, ny), ({', '.join(names.tape())},) in zip(RDATA, reversed(tape)):"
    )
    body = ind * 2
    lines += _loss_backward_lines(shape.loss, mode.overwrite, body)
    skip = mode.skip_zeros and not mode.overwrite
    if skip:
        lines.append(body + "if not ds:  # adds only zeros: nothing to do")
        lines.append(body + "    continue")
    last = len(shape.layers) - 1
    # d{li}_{i}: the gradient of neuron i's weighted sum in layer li.
    if shape.layers[last].activation == "linear":
        lines.append(body + f"d{last}_0 = ds")
    else:
        lines.append(body + f"d{last}_0 = q{last}_0 * ds")
    for li in range(last, -1, -1):
        layer = shape.layers[li]
        inputs = names.inputs(li)
        guard = skip and layer.activation == "relu"
        for i in range(layer.nout):
            d = f"d{li}_{i}"
            ind2 = body
            if guard:
                lines.append(body + f"if {d}:  # else the neuron is off: it adds only zeros")
                ind2 = body + "    "
            lines.append(ind2 + f"g{names.bias(li, i)} {acc} {d}")
            for j, x in enumerate(inputs):
                lines.append(ind2 + f"g{names.weight(li, i, j)} {acc} {x} * {d}")
        if li == 0:
            break
        below = shape.layers[li - 1]
        for j in range(below.nout):
            # h_j feeds every neuron of layer li; backward visits them last to first.
            consumers = range(layer.nout - 1, -1, -1)
            terms = [f"w{names.weight(li, k, j)} * d{li}_{k}" for k in consumers]
            if mode.overwrite:
                terms = terms[-1:]  # overwrite-grad: only neuron 0's share survives
            d = f"d{li - 1}_{j}"
            if len(terms) > _CHAIN:
                lines += _chain("gh", terms[0], terms[1:], body)
                terms = ["gh"]
            gh = " + ".join(terms)
            if below.activation == "linear":
                lines.append(body + f"{d} = {gh}")
            elif skip and below.activation == "relu":
                # q is 1.0 or 0.0: 1.0 * gh is gh, and 0.0 * gh a zero (gh is finite here).
                q = f"q{li - 1}_{j}"
                lines += [body + f"if {q}:", body + f"    {d} = {gh}", body + "else:"]
                lines.append(body + f"    {d} = 0.0  # the relu is off: no need to sum")
            else:
                lines.append(body + f"{d} = q{li - 1}_{j} * ({gh})")
    for k in range(nparams):
        lines.append(ind + f"v{k}.grad = g{k}")
    return "\n".join(lines) + "\n"


def _forward_order_backward_source(shape: NetShape, overwrite: bool) -> str:
    """forward-order-backward: each node passes on the 0.0 it holds when visited.

    Walking the topological order from the leaves, every node is visited
    before any gradient reaches it, so each parameter receives
    ``local_grad * 0.0`` from each of its uses, in the forward order of the
    graph: the samples first to last, then the L2 sum. Only a non-finite
    local gradient (0 * inf = nan) leaves a trace, and that trace is kept.
    """
    names = _Names(shape)
    nparams = shape.parameter_count()
    ws = [f"w{k}" for k in range(nparams)]
    gs = [f"g{k}" for k in range(nparams)]
    acc = "=" if overwrite else "+="
    ind = "    "
    lines = ["def backward(V, P, tape, RDATA, UP, ALPHA):"]
    lines += _unpack_lines(ws, gs, read_grads=True, ind=ind)
    xs = names.inputs(0)
    lines.append(
        ind + f"for ({', '.join(xs)}, ny), ({', '.join(names.tape())},) "
        "in zip(reversed(RDATA), tape):"
    )
    body = ind * 2
    for li, layer in enumerate(shape.layers):
        inputs = names.inputs(li)
        for i in range(layer.nout):
            lines.append(body + f"g{names.bias(li, i)} {acc} 1.0 * 0.0")
            for j, x in enumerate(inputs):
                lines.append(body + f"g{names.weight(li, i, j)} {acc} {x} * 0.0")
    if shape.l2:
        for w, g in zip(ws, gs):
            lines.append(ind + f"{g} {acc} {w} * 0.0")
            lines.append(ind + f"{g} {acc} {w} * 0.0")
    for k in range(nparams):
        lines.append(ind + f"v{k}.grad = g{k}")
    return "\n".join(lines) + "\n"
