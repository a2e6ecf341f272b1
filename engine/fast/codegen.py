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
    # One line per layer (loops over weights and neurons) instead of one per
    # multiply: see ``forward_source_loops``. Same numbers, code of a fixed size.
    loops: bool = False

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
    weight. Globals expected: ``tanh _exp _pow _log mul``.
    """
    if shape.loops:
        return forward_source_loops(shape, tanh_bug)
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
    if shape.loops:
        return backward_source_loops(shape, mode)
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


# -- loops: one line per layer, not per multiply ---------------------------------------------
#
# For wide layers the unrolled source above grows with the parameter count
# (and so do compile time and memory). These variants hold each layer's weights
# as tuples and let ``sum(map(mul, ws, xs), b)`` form a neuron's weighted sum:
# the same products added left to right from the bias, as ``Neuron.__call__``
# does. That holds only while the built-in ``sum`` of floats adds in order
# (CPython up to 3.11; 3.12 compensates), which ``SUM_ADDS_IN_ORDER`` checks.


def _sum_adds_in_order() -> bool:
    """True if ``sum(floats, start)`` is ``((start + a) + b) + ...`` in doubles."""
    return sum([1e100, 1.0, -1e100], 0.0) == 0.0 and sum([0.1] * 10, 0.0) == 0.9999999999999999


SUM_ADDS_IN_ORDER = _sum_adds_in_order()


def _rows_lines(shape: NetShape, ind: str) -> list[str]:
    """``L{li}``: each neuron of layer li as (weights, bias), read from ``P``."""
    names = _Names(shape)
    lines = []
    for li, layer in enumerate(shape.layers):
        start, width = names.offsets[li], layer.nin + 1
        end = start + layer.nout * width
        lines.append(
            ind + f"L{li} = [(P[k:k + {layer.nin}], P[k + {layer.nin}]) "
            f"for k in range({start}, {end}, {width})]"
        )
    return lines


# A layer with at most this many inputs writes its weighted sum out (``b + w0*x0
# + w1*x1``) inside the loop over its neurons: for two or three inputs that is
# faster than calling ``sum(map(...))`` once per neuron.
NARROW = 8


def _narrow_rows_lines(shape: NetShape, ind: str) -> list[str]:
    """``R{li}``: each neuron of a narrow layer li as (w0, w1, ..., bias), from ``P``."""
    names = _Names(shape)
    lines = []
    for li, layer in enumerate(shape.layers):
        if layer.nin <= NARROW:
            start, width = names.offsets[li], layer.nin + 1
            end = start + layer.nout * width
            lines.append(
                ind + f"R{li} = [P[k:k + {width}] for k in range({start}, {end}, {width})]"
            )
    return lines


def _layer_forward_lines(li: int, nin: int, act: str, tanh_bug: bool, ind: str) -> list[str]:
    """Layer li's outputs ``H{li}`` and local derivatives ``Q{li}`` from its inputs."""
    x = "X" if li == 0 else f"H{li - 1}"
    lines = []
    if nin <= NARROW:
        inputs = [f"x{j}" for j in range(nin)] if li == 0 else [f"u{j}" for j in range(nin)]
        if li:
            lines.append(ind + f"{', '.join(inputs)}, = {x}")
        ws = [f"w{j}" for j in range(nin)]
        dot = " + ".join(["b", *(f"{w}*{u}" for w, u in zip(ws, inputs))])
        loop = f"for {', '.join(ws)}, b in R{li}"
    else:
        dot = f"sum(map(mul, w, {x}), b)"  # b + w0*x0 + w1*x1 ..., left to right
        loop = f"for w, b in L{li}"
    h, q = f"H{li}", f"Q{li}"
    if act == "tanh":
        local = "1 - h" if tanh_bug else "1 - h**2"
        note = "  # tanh-derivative: forgot to square" if tanh_bug else ""
        return lines + [
            ind + f"{h} = [tanh({dot}) {loop}]",
            ind + f"{q} = [{local} for h in {h}]{note}",
        ]
    if act == "relu":
        return lines + [
            ind + f"A = [{dot} {loop}]",
            ind + f"{h} = [a if a > 0 else 0.0 for a in A]",
            ind + f"{q} = [1.0 if a > 0 else 0.0 for a in A]",
        ]
    if act == "sigmoid":
        return lines + [
            ind + f"{h} = [1.0 / (1.0 + _exp(-({dot}))) {loop}]",
            ind + f"{q} = [h * (1 - h) for h in {h}]",
        ]
    if act == "linear":
        return lines + [ind + f"{h} = [{dot} {loop}]"]
    raise ValueError(f"unknown activation {act!r}")


def _loop_tape(shape: NetShape) -> list[str]:
    names = []
    for li, layer in enumerate(shape.layers):
        names.append(f"H{li}")
        if layer.activation != "linear":
            names.append(f"Q{li}")
    return names + _LOSS_TAPE[shape.loss]


def hidden_positions(shape: NetShape) -> tuple[tuple[int, ...], ...]:
    """Where each hidden neuron's output sits in a sample's tape: [layer][neuron].

    Unrolled, a neuron's output is one entry (``h1_0``); in the loops form a
    layer's outputs are one entry (``H1``), a list: every neuron of it has
    that entry's position.
    """
    if shape.loops:
        names = _loop_tape(shape)
        return tuple(
            (names.index(f"H{li}"),) * layer.nout for li, layer in enumerate(shape.layers[:-1])
        )
    names = _Names(shape).tape()
    return tuple(
        tuple(names.index(f"h{li}_{i}") for i in range(layer.nout))
        for li, layer in enumerate(shape.layers[:-1])
    )


def forward_source_loops(shape: NetShape, tanh_bug: bool) -> str:
    """``forward_source`` with one line per layer: for wide layers (see ``SUM_ADDS_IN_ORDER``)."""
    ind, body = "    ", "        "
    lines = ["def forward(V, DATA, INV_N, ALPHA):"]
    lines.append(ind + "P = tuple([v.data for v in V])")
    lines += _rows_lines(shape, ind)
    lines += _narrow_rows_lines(shape, ind)
    if shape.nin <= NARROW:
        each = f"for {', '.join(f'x{j}' for j in range(shape.nin))}, ny in DATA:"
    else:
        each = "for *X, ny in DATA:"
    lines += [
        ind + "scores = []",
        ind + "tape = []",
        ind + "keep = tape.append",
        ind + "score = scores.append",
        ind + "total = 0.0  # sum(terms, Value(0.0))",
        ind + each,
    ]
    for li, layer in enumerate(shape.layers):
        lines += _layer_forward_lines(li, layer.nin, layer.activation, tanh_bug, body)
    s = f"H{len(shape.layers) - 1}[0]"
    lines.append(body + f"s = {s}")
    lines.append(body + "score(s)")
    lines += _loss_forward_lines(shape.loss, "s", body)
    lines.append(body + "total = total + term")
    lines.append(body + f"keep(({', '.join(_loop_tape(shape))},))")
    if shape.loss == "sse":
        lines.append(ind + "loss = total")
    else:
        lines.append(ind + "loss = total * INV_N  # the mean")
    if shape.l2:
        # l2_penalty: alpha * sum((p * p for p in parameters), Value(0.0))
        lines.append(ind + "squares = sum(map(mul, P, P), 0.0)")
        lines.append(ind + "loss = loss + squares * ALPHA")
    lines.append(ind + "return loss, scores, tape, P")
    return "\n".join(lines) + "\n"


def backward_source_loops(shape: NetShape, mode: BackwardMode) -> str:
    """``backward_source`` with one line per layer.

    Two phases instead of one loop: first each sample (last to first) passes
    its gradients down through the layers (``D{li}``: the gradient of each
    neuron's weighted sum); then each parameter adds its contributions in
    that same sample order, ``sum(map(mul, inputs, ds), g)``. A parameter's
    additions are the same as the unrolled code's, in the same order: only
    the interleaving between parameters changes, and parameters are leaves
    that never read each other's gradient.
    """
    if mode.forward_order:
        return _forward_order_backward_source_loops(shape, mode.overwrite)
    names = _Names(shape)
    last = len(shape.layers) - 1
    ind, body = "    ", "        "
    lines = ["def backward(V, P, tape, RDATA, UP, ALPHA):"]
    if mode.overwrite:
        # Every parameter's last incoming path is sample 0's: .grad, the L2 share
        # and the other samples' shares are all overwritten by it.
        lines.append(ind + "G = [0.0] * len(P)")
        lines.append(ind + "RDATA, tape = RDATA[-1:], tape[:1]  # overwrite-grad: sample 0 wins")
    else:
        lines.append(ind + "G = [v.grad for v in V]")
        if shape.l2:
            # The L2 sum is visited first: p.grad += p * alpha, once per factor of p * p.
            lines.append(ind + "G = [g + w * ALPHA + w * ALPHA for g, w in zip(G, P)]")
    lines += _rows_lines(shape, ind)
    for li in range(1, last + 1):
        if mode.overwrite:
            # Only neuron 0's share of each input survives.
            lines.append(ind + f"W{li} = L{li}[0][0]")
        else:
            # Column j: the weights on input j, last neuron first (backward's visiting order).
            lines.append(ind + f"W{li} = [c[::-1] for c in zip(*[w for w, b in L{li}])]")
    for li in range(last + 1):
        lines.append(ind + f"XS{li}, DS{li} = [], []  # per kept sample: inputs, gradients")
    lines.append(ind + "up = UP")
    lines.append(
        ind + f"for (*X, ny), ({', '.join(_loop_tape(shape))},) in zip(RDATA, reversed(tape)):"
    )
    lines += _loss_backward_lines(shape.loss, mode.overwrite, body)
    skip = mode.skip_zeros and not mode.overwrite
    if skip:
        lines.append(body + "if not ds:  # adds only zeros: nothing to do")
        lines.append(body + "    continue")
    if shape.layers[last].activation == "linear":
        lines.append(body + f"D{last} = [ds]")
    else:
        lines.append(body + f"D{last} = [Q{last}[0] * ds]")
    for li in range(last, 0, -1):
        below = shape.layers[li - 1]
        if mode.overwrite:
            gh = f"w * D{li}[0]"
            pairs = f"zip(W{li}, Q{li - 1})" if below.activation != "linear" else f"W{li}"
        else:
            gh = f"sum(map(mul, w, D{li}[::-1]), 0.0)"  # h.grad: 0.0 + each share
            pairs = f"zip(W{li}, Q{li - 1})" if below.activation != "linear" else f"W{li}"
        if below.activation == "linear":
            lines.append(body + f"D{li - 1} = [{gh} for w in {pairs}]")
        elif skip and below.activation == "relu":
            # q is 1.0 or 0.0: 1.0 * gh is gh, and 0.0 * gh a zero (gh is finite here).
            lines.append(body + f"D{li - 1} = [{gh} if q else 0.0 for w, q in {pairs}]")
        else:
            lines.append(body + f"D{li - 1} = [q * ({gh}) for w, q in {pairs}]")
    for li in range(last + 1):
        x = "X" if li == 0 else f"H{li - 1}"
        lines.append(body + f"XS{li}.append({x})")
        lines.append(body + f"DS{li}.append(D{li})")
    acc = "=" if mode.overwrite else "+="
    for li, layer in enumerate(shape.layers):
        nin = layer.nin
        lines.append(ind + f"# layer {li}: each weight {acc} input * d, samples last to first")
        lines.append(ind + f"k = {names.offsets[li]}")
        lines.append(ind + f"XC = list(zip(*XS{li}))")
        lines.append(ind + f"for dc in zip(*DS{li}):")
        if mode.overwrite:
            lines.append(body + f"G[k:k + {nin}] = [xc[0] * dc[0] for xc in XC]")
            lines.append(body + f"G[k + {nin}] = dc[0]")
        elif skip and layer.activation == "relu":
            # Only the samples where the neuron is on: the others add zeros.
            lines.append(body + "on = [d for d in dc if d]")
            lines.append(body + "if on:")
            lines.append(
                body + f"    G[k:k + {nin}] = [sum(map(mul, compress(xc, dc), on), g) "
                f"for xc, g in zip(XC, G[k:k + {nin}])]"
            )
            lines.append(body + f"    G[k + {nin}] = sum(on, G[k + {nin}])")
        else:
            lines.append(
                body + f"G[k:k + {nin}] = "
                f"[sum(map(mul, xc, dc), g) for xc, g in zip(XC, G[k:k + {nin}])]"
            )
            lines.append(body + f"G[k + {nin}] = sum(dc, G[k + {nin}])")
        lines.append(body + f"k += {nin + 1}")
    lines.append(ind + "for v, g in zip(V, G):")
    lines.append(body + "v.grad = g")
    return "\n".join(lines) + "\n"


def _forward_order_backward_source_loops(shape: NetShape, overwrite: bool) -> str:
    """forward-order-backward with one line per layer (see the unrolled version)."""
    names = _Names(shape)
    ind, body = "    ", "        "
    lines = ["def backward(V, P, tape, RDATA, UP, ALPHA):"]
    lines.append(ind + "G = [v.grad for v in V]")
    lines.append(ind + "DATA = RDATA[::-1]")
    tape_names = _loop_tape(shape)
    for li, layer in enumerate(shape.layers):
        nin = layer.nin
        if li == 0:
            inputs = "[row[:-1] for row in DATA]"
        else:
            inputs = f"[t[{tape_names.index(f'H{li - 1}')}] for t in tape]"
        lines.append(ind + f"# layer {li}: each use adds input * 0.0, samples first to last")
        lines.append(ind + f"k = {names.offsets[li]}")
        if overwrite:
            lines.append(ind + f"Z = [x * 0.0 for x in {inputs}[-1]]  # the last sample's")
            lines.append(ind + f"for _ in range({layer.nout}):")
            lines.append(body + f"G[k:k + {nin + 1}] = [*Z, 1.0 * 0.0]")
        else:
            lines.append(ind + f"Z = [[x * 0.0 for x in c] for c in zip(*{inputs})]")
            lines.append(ind + "B = [1.0 * 0.0] * len(DATA)")
            lines.append(ind + f"for _ in range({layer.nout}):")
            lines.append(body + f"G[k:k + {nin}] = [sum(z, g) for z, g in zip(Z, G[k:k + {nin}])]")
            lines.append(body + f"G[k + {nin}] = sum(B, G[k + {nin}])")
        lines.append(body + f"k += {nin + 1}")
    if shape.l2:
        if overwrite:
            lines.append(ind + "G = [w * 0.0 for w in P]")
        else:
            lines.append(ind + "G = [g + w * 0.0 + w * 0.0 for g, w in zip(G, P)]")
    lines.append(ind + "for v, g in zip(V, G):")
    lines.append(body + "v.grad = g")
    return "\n".join(lines) + "\n"
