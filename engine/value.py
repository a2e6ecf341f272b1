"""A scalar that remembers how it was computed, so it can back-propagate.

This is micrograd's ``Value`` as built in the lecture, with four changes a
learner can see:

* Each op records its *local* derivatives (``d out / d child``) when it runs.
  ``backward()`` then applies the chain rule in one place,
  ``child.grad += local_grad * node.grad``: the line where the classic
  "overwrite instead of accumulate" mistake lives. (In the lecture each op's
  ``_backward`` closure repeats that line; the maths is identical.)
* ``backward(observer)`` tells an optional observer about each of those
  updates, in order (``engine/inspect/graph.py`` records them for the stepper). The
  loop that does so is a copy of the plain one, line for line, so that a
  ``backward()`` nobody watches pays nothing for it.
* Children are an ordered tuple, so the backward order, and every bug demo,
  is the same on every run.
* The topological sort is iterative, so a graph 100,000 ops deep works.

Arithmetic follows IEEE like PyTorch: an overflowing ``exp`` or ``**`` gives
``inf`` rather than raising, and ``x / 0`` gives ``inf`` (or ``nan`` for 0/0).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from engine import bugs

# The float arithmetic under exp and **, shared by every engine that must give the same
# numbers as Value (the compiled fast path, graph records): IEEE results, never exceptions.


def ieee_exp(x: float) -> float:
    """``e ** x``, ``inf`` where Python's math.exp raises OverflowError."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def ieee_pow(x: float, n: float) -> float:
    """``x ** n`` with IEEE results instead of Python's exceptions."""
    try:
        result = math.pow(x, n)
    except OverflowError:
        odd_integer = float(n).is_integer() and int(n) % 2 == 1
        return -math.inf if (x < 0 and odd_integer) else math.inf
    except ValueError:
        if x == 0.0:  # 0 ** negative: a pole, +inf as in IEEE pow()
            odd_integer = float(n).is_integer() and int(n) % 2 == 1
            return math.copysign(math.inf, x) if odd_integer else math.inf
        return math.nan  # negative ** fractional
    return result


# observer(node, child, local_grad, child.grad before, child.grad after)
Observer = Callable[["Value", "Value", float, float, float], None]


class Value:
    """A scalar node in a computation graph."""

    __slots__ = ("_local_grads", "_op", "_prev", "data", "grad", "label")

    def __init__(
        self,
        data: float,
        _children: tuple[Value, ...] = (),
        _op: str = "",
        _local_grads: tuple[float, ...] = (),
        label: str = "",
    ) -> None:
        self.data = float(data)
        self.grad = 0.0  # d(output)/d(self), filled in by backward()
        self._prev = _children  # ordered: the backward order never varies
        self._local_grads = _local_grads  # d(self)/d(child), one per child
        self._op = _op
        self.label = label

    # -- primitive operations: compute out, record the local derivatives ------

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "+", (1.0, 1.0))

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __pow__(self, other: float) -> Value:
        assert isinstance(other, (int, float)), "only int/float powers are supported"
        out = ieee_pow(self.data, other)
        # d/dx x**0 is 0 everywhere; 0 * 0**-1 would make it nan at x = 0
        local_grad = other * ieee_pow(self.data, other - 1) if other != 0 else 0.0
        return Value(out, (self,), f"**{other}", (local_grad,))

    def exp(self) -> Value:
        out = ieee_exp(self.data)
        return Value(out, (self,), "exp", (out,))

    def log(self) -> Value:
        if not self.data > 0 and not math.isnan(self.data):
            raise ValueError(f"log of a non-positive number: Value(data={self.data!r})")
        return Value(math.log(self.data), (self,), "log", (1.0 / self.data,))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        if bugs.is_on(bugs.TANH_DERIVATIVE):
            local_grad = 1 - t  # the bug: forgot to square
        else:
            local_grad = 1 - t**2
        return Value(t, (self,), "tanh", (local_grad,))

    def relu(self) -> Value:
        out = self.data if self.data > 0 else 0.0
        return Value(out, (self,), "ReLU", (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self) -> Value:
        s = 1.0 / (1.0 + ieee_exp(-self.data))
        return Value(s, (self,), "sigmoid", (s * (1 - s),))

    # -- derived operations: one line each, built from the primitives ---------

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: float) -> Value:
        return self + other

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __rsub__(self, other: float) -> Value:
        return other + (-self)

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return self * other**-1

    def __rtruediv__(self, other: float) -> Value:
        return other * self**-1

    # -- backpropagation ------------------------------------------------------

    def topological_order(self) -> list[Value]:
        """Every node this one depends on, each after all of its children."""
        topo: list[Value] = []
        visited: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # an explicit stack instead of recursion: no depth limit
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for child in reversed(node._prev):  # reversed: children pop in order
                if id(child) not in visited:
                    stack.append((child, False))
        return topo

    def backward(self, observer: Observer | None = None) -> None:
        """Fill in ``.grad`` of every node: d(self)/d(node), by the chain rule.

        ``observer``, if given, is called right after each ``child.grad``
        update, in the order they happen: ``observer(node, child, local_grad,
        before, after)`` with ``child.grad`` before and after the update.
        """
        topo = self.topological_order()
        if bugs.is_on(bugs.FORWARD_ORDER_BACKWARD):
            order = topo  # the bug: starts at the leaves
        else:
            order = reversed(topo)
        overwrite = bugs.is_on(bugs.OVERWRITE_GRAD)

        self.grad = 1.0
        if observer is None:
            for node in order:
                for child, local_grad in zip(node._prev, node._local_grads):
                    if overwrite:
                        child.grad = local_grad * node.grad  # the bug: = instead of +=
                    else:
                        child.grad += local_grad * node.grad
            return
        # The same loop, reporting each update. It is a copy rather than a test
        # inside the loop above so that a backward() nobody watches pays nothing.
        for node in order:
            for child, local_grad in zip(node._prev, node._local_grads):
                before = child.grad
                if overwrite:
                    child.grad = local_grad * node.grad  # the bug: = instead of +=
                else:
                    child.grad += local_grad * node.grad
                observer(node, child, local_grad, before, child.grad)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"
