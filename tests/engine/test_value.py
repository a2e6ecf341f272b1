"""Value: every op's gradient against finite differences, micrograd's and the
lecture's worked examples, deep graphs, a reproducible backward order, IEEE edges."""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import os
import runpy
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value, bugs

EPS = 1e-6


def central_difference(f, x: float, eps: float = EPS) -> float:
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def close(backprop: float, numerical: float, tol: float = 1e-5) -> bool:
    return abs(backprop - numerical) <= tol * max(1.0, abs(backprop), abs(numerical))


# -- each op on its own, against plain-float maths --------------------------------

# name: (the op on a Value, the same op on a float, where it is smooth and defined)
SMOOTH = (-3.0, 3.0)
AWAY_FROM_ZERO = ((-3.0, -0.2), (0.2, 3.0))
POSITIVE = (0.2, 5.0)

UNARY_OPS = {
    "neg": (lambda v: -v, lambda x: -x, SMOOTH),
    "add const": (lambda v: v + 1.5, lambda x: x + 1.5, SMOOTH),
    "radd": (lambda v: 1.5 + v, lambda x: 1.5 + x, SMOOTH),
    "sub const": (lambda v: v - 1.5, lambda x: x - 1.5, SMOOTH),
    "rsub": (lambda v: 1.5 - v, lambda x: 1.5 - x, SMOOTH),
    "mul const": (lambda v: v * -2.5, lambda x: x * -2.5, SMOOTH),
    "rmul": (lambda v: -2.5 * v, lambda x: -2.5 * x, SMOOTH),
    "div const": (lambda v: v / 4.0, lambda x: x / 4.0, SMOOTH),
    "rtruediv": (lambda v: 2.0 / v, lambda x: 2.0 / x, AWAY_FROM_ZERO),
    "pow 2": (lambda v: v**2, lambda x: x**2, SMOOTH),
    "pow 3": (lambda v: v**3, lambda x: x**3, SMOOTH),
    "pow -1": (lambda v: v**-1, lambda x: x**-1, AWAY_FROM_ZERO),
    "pow -2": (lambda v: v**-2, lambda x: x**-2, AWAY_FROM_ZERO),
    "pow 0.5": (lambda v: v**0.5, math.sqrt, POSITIVE),
    "pow 1.5": (lambda v: v**1.5, lambda x: x**1.5, POSITIVE),
    "exp": (lambda v: v.exp(), math.exp, SMOOTH),
    "log": (lambda v: v.log(), math.log, POSITIVE),
    "tanh": (lambda v: v.tanh(), math.tanh, SMOOTH),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0), AWAY_FROM_ZERO),  # off the kink
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), SMOOTH),
}

BINARY_OPS = {
    "add": (lambda a, b: a + b, lambda x, y: x + y),
    "sub": (lambda a, b: a - b, lambda x, y: x - y),
    "mul": (lambda a, b: a * b, lambda x, y: x * y),
    "truediv": (lambda a, b: a / b, lambda x, y: x / y),
}


def _in_domain(domain):
    """Floats inside ``(low, high)`` or inside either of two such intervals."""
    if isinstance(domain[0], tuple):
        return st.one_of(*(_in_domain(part) for part in domain))
    low, high = domain
    return st.floats(low, high)


@pytest.mark.parametrize("name", UNARY_OPS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_unary_op_value_and_gradient(name, data):
    op, reference, domain = UNARY_OPS[name]
    x = data.draw(_in_domain(domain), label="x")
    v = Value(x)
    out = op(v)
    out.backward()
    assert out.data == pytest.approx(reference(x), rel=1e-12, abs=1e-12)
    assert close(v.grad, central_difference(reference, x)), (v.grad, name, x)


@pytest.mark.parametrize("name", BINARY_OPS)
@settings(max_examples=40, deadline=None)
@given(x=st.floats(-3, 3), y=_in_domain(AWAY_FROM_ZERO))
def test_binary_op_value_and_gradients(name, x, y):
    op, reference = BINARY_OPS[name]
    a, b = Value(x), Value(y)
    out = op(a, b)
    out.backward()
    assert out.data == pytest.approx(reference(x, y), rel=1e-12, abs=1e-12)
    assert close(a.grad, central_difference(lambda t: reference(t, y), x))
    assert close(b.grad, central_difference(lambda t: reference(x, t), y))


def test_sum_of_values_uses_the_reversed_add():
    vs = [Value(float(i)) for i in range(1, 5)]
    total = sum(vs)
    total.backward()
    assert total.data == 10.0
    assert [v.grad for v in vs] == [1.0] * 4


def test_a_node_used_twice_gets_both_gradients():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0


# -- random expression graphs --------------------------------------------------------

# Each step applies one op to nodes already built (leaves or earlier results), so
# nodes are reused and gradients must accumulate along every path. Every op takes
# (a, b, c): two nodes and a constant, and works on Values and on plain floats alike.
FLOAT_FUNCTIONS = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "relu": lambda x: max(x, 0.0),
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
}


def _function(name: str):
    def apply(a, b, c):
        return getattr(a, name)() if isinstance(a, Value) else FLOAT_FUNCTIONS[name](a)

    return apply


GRAPH_OPS = {
    "add": lambda a, b, c: a + b,
    "sub": lambda a, b, c: a - b,
    "mul": lambda a, b, c: a * b,
    "truediv": lambda a, b, c: a / b,
    "radd": lambda a, b, c: c + a,
    "rsub": lambda a, b, c: c - a,
    "rmul": lambda a, b, c: c * a,
    "rtruediv": lambda a, b, c: c / a,
    "neg": lambda a, b, c: -a,
    "pow": lambda a, b, c: a**c,
    **{name: _function(name) for name in FLOAT_FUNCTIONS},
}
EXPONENTS = (2, 3, -1, -2, 0.5, 1.5, -0.5)
CONSTANTS = (-1.5, 0.5, 2.0)
LIMIT = 20.0  # results larger than this are squashed with tanh to keep the graph tame
MARGIN = 0.2  # distance kept from poles, log's edge and relu's kink


def _safe(op: str, x: float, y: float, c: float) -> bool:
    """True when the op is smooth and defined well beyond a finite-difference step."""
    if op == "truediv":
        return abs(y) > MARGIN
    if op == "rtruediv":
        return abs(x) > MARGIN
    if op == "pow":
        if not float(c).is_integer():
            return x > MARGIN
        return c > 0 or abs(x) > MARGIN
    if op == "log":
        return x > MARGIN
    if op == "relu":
        return abs(x) > MARGIN / 2
    if op == "exp":
        return x < 2.0
    return True


@st.composite
def expression_graphs(draw, max_ops=25):
    """A recipe: leaf values, then steps (op, i, j, constant) over earlier nodes."""
    leaves = draw(
        st.lists(
            st.floats(0.3, 2.0).flatmap(lambda m: st.sampled_from([m, -m])),
            min_size=1,
            max_size=4,
        )
    )
    values = list(leaves)
    steps = []
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(sorted(GRAPH_OPS)))
        i = draw(st.integers(0, len(values) - 1))
        j = draw(st.integers(0, len(values) - 1))
        c = draw(st.sampled_from(EXPONENTS if op == "pow" else CONSTANTS))
        x, y = values[i], values[j]
        if not _safe(op, x, y, c):
            op = "tanh"  # the same nodes, through an op defined everywhere
        result = GRAPH_OPS[op](x, y, c)
        if abs(result) > LIMIT:
            steps.append((op, i, j, c))
            values.append(result)
            op, i = "tanh", len(values) - 1
            result = math.tanh(result)
        steps.append((op, i, j, c))
        values.append(result)
    return leaves, steps


def _replay(leaves, steps, make_leaf):
    nodes = [make_leaf(x) for x in leaves]
    for op, i, j, c in steps:
        nodes.append(GRAPH_OPS[op](nodes[i], nodes[j], c))
    out = nodes[len(leaves)]
    for node in nodes[len(leaves) + 1 :]:  # every op contributes to the output
        out = out + node
    return nodes, out


@settings(max_examples=150, deadline=None)
@given(graph=expression_graphs())
def test_random_graph_gradients_match_finite_differences(graph):
    leaves, steps = graph
    nodes, out = _replay(leaves, steps, Value)
    out.backward()

    def f(xs):
        return _replay(xs, steps, float)[1]

    assert out.data == pytest.approx(f(leaves), rel=1e-12, abs=1e-12)
    for k, x in enumerate(leaves):

        def f_k(t, k=k):
            return f(leaves[:k] + [t] + leaves[k + 1 :])

        numerical = central_difference(f_k, x)
        assert close(nodes[k].grad, numerical, tol=1e-4), (k, nodes[k].grad, numerical, steps)


# -- worked examples ------------------------------------------------------------------

MICROGRAD_README = """\
from {module} import Value

a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f'{{g.data:.4f}}') # prints 24.7041, the outcome of this forward pass
g.backward()
print(f'{{a.grad:.4f}}') # prints 138.8338, i.e. the numerical value of dg/da
print(f'{{b.grad:.4f}}') # prints 645.5773, i.e. the numerical value of dg/db
"""


def _run_readme(module: str, tmp_path) -> tuple[list[str], dict]:
    script = tmp_path / f"readme_{module.replace('.', '_')}.py"
    script.write_text(MICROGRAD_README.format(module=module))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        namespace = runpy.run_path(str(script))
    return out.getvalue().split(), namespace


def test_micrograd_readme_example_runs_unchanged_and_matches_micrograd(tmp_path):
    printed, ours = _run_readme("engine", tmp_path)
    assert printed == ["24.7041", "138.8338", "645.5773"]  # the README's comments

    _, theirs = _run_readme("micrograd.engine", tmp_path)
    assert ours["g"].data == pytest.approx(theirs["g"].data, abs=1e-6)
    assert ours["a"].grad == pytest.approx(theirs["a"].grad, abs=1e-6)
    assert ours["b"].grad == pytest.approx(theirs["b"].grad, abs=1e-6)
    assert abs(ours["g"].data - 24.7041) < 5e-5
    assert abs(ours["a"].grad - 138.8338) < 5e-5
    assert abs(ours["b"].grad - 645.5773) < 5e-5


def _lecture_neuron(tanh_from_exp: bool):
    x1, x2 = Value(2.0), Value(0.0)
    w1, w2 = Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    if tanh_from_exp:  # the lecture's second version, built from exp
        e = (2 * n).exp()
        o = (e - 1) / (e + 1)
    else:
        o = n.tanh()
    o.backward()
    return o, x1, x2, w1, w2


@pytest.mark.parametrize("tanh_from_exp", [False, True], ids=["tanh", "exp"])
def test_lecture_neuron(tanh_from_exp):
    o, x1, x2, w1, w2 = _lecture_neuron(tanh_from_exp)
    assert round(o.data, 4) == 0.7071
    # do/dn = 1 - o**2 = 0.5, then each input's grad is its partner's value times that
    assert x1.grad == pytest.approx(-1.5, abs=1e-9)
    assert w1.grad == pytest.approx(1.0, abs=1e-9)
    assert x2.grad == pytest.approx(0.5, abs=1e-9)
    assert w2.grad == pytest.approx(0.0, abs=1e-9)


# -- deep graphs and a reproducible order ------------------------------------------


def test_chain_of_100_000_ops_backpropagates():
    depth = 100_000
    assert depth > sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(depth):
        y = y * 1.00001
    y.backward()
    assert x.grad == pytest.approx(1.00001**depth, rel=1e-9)


def test_children_are_ordered_tuples():
    a, b = Value(1.0), Value(2.0)
    for out in (a * b, a + b):
        assert type(out._prev) is tuple
        assert out._prev[0] is a and out._prev[1] is b
    prod = b * a
    assert prod._prev[0] is b and prod._prev[1] is a


def test_topological_order_is_children_first_in_operand_order():
    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    ab = a * b
    ab.label = "ab"
    e = ab + c
    e.label = "e"
    assert [n.label for n in e.topological_order()] == ["a", "b", "ab", "c", "e"]


def _labelled_graph() -> Value:
    """A small net-like graph with shared nodes, each node labelled in creation order."""
    counter = iter(range(10_000))

    def lab(v):
        v.label = f"n{next(counter)}"
        return v

    xs = [lab(Value(i / 3)) for i in range(4)]
    ws = [lab(Value(0.1 * i - 0.2)) for i in range(4)]
    out = lab(Value(0.0))
    for w in ws:
        act = out
        for x in xs:
            act = lab(act + lab(w * x))
        out = lab(act.tanh())
    return out


def test_topological_order_is_identical_across_builds():
    orders = []
    keep = []
    for junk in (0, 1000, 37):
        keep.append([object() for _ in range(junk)])  # shift the addresses new nodes get
        orders.append([n.label for n in _labelled_graph().topological_order()])
    assert orders[0] == orders[1] == orders[2]


ORDER_SCRIPT = """
junk = [object() for _ in range(JUNK)]
out = _labelled_graph()
with bugs.injected(["overwrite-grad"]):
    out.backward()
print([n.label for n in out.topological_order()])
print([n.grad for n in out.topological_order()])
"""


def test_backward_order_and_buggy_gradients_are_identical_across_processes():
    outputs = []
    for junk, hash_seed in ((0, "1"), (5000, "2")):
        script = (
            "from engine import Value, bugs\n"
            + inspect.getsource(_labelled_graph)
            + ORDER_SCRIPT.replace("JUNK", str(junk))
        )
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].strip()


# -- IEEE arithmetic: inf and nan, never an exception ---------------------------------


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda: Value(1000.0).exp(), math.inf),
        (lambda: Value(10.0) ** 1000, math.inf),
        (lambda: Value(-10.0) ** 1001, -math.inf),
        (lambda: 1 / Value(0.0), math.inf),
        (lambda: Value(1.0) / 0.0, math.inf),
        (lambda: Value(1.0) / Value(0.0), math.inf),
        (lambda: Value(0.0) ** -1, math.inf),
        (lambda: Value(-0.0) ** -1, -math.inf),
        (lambda: Value(1e300) * 1e300, math.inf),
        (lambda: Value(-1000.0).sigmoid(), 0.0),
        (lambda: Value(1000.0).sigmoid(), 1.0),
        (lambda: Value(-1000.0).exp(), 0.0),
    ],
    ids=[
        "exp(1000)",
        "10**1000",
        "(-10)**1001",
        "1/0",
        "x/0.0",
        "x/Value(0)",
        "0**-1",
        "-0**-1",
        "1e300*1e300",
        "sigmoid(-1000)",
        "sigmoid(1000)",
        "exp(-1000)",
    ],
)
def test_overflow_and_poles_give_ieee_results(build, expected):
    out = build()
    out.backward()  # no OverflowError or ZeroDivisionError in backward either
    assert out.data == expected
    if math.isinf(expected):
        assert math.copysign(1, out.data) == math.copysign(1, expected)


def test_zero_over_zero_is_nan():
    out = Value(0.0) / Value(0.0)
    out.backward()
    assert math.isnan(out.data)


def test_gradient_of_x_to_the_zero_is_zero_even_at_zero():
    # d/dx x**0 = 0 everywhere (as in PyTorch); 0 * 0**-1 would give nan
    x = Value(0.0)
    out = x**0
    out.backward()
    assert out.data == 1.0
    assert x.grad == 0.0


@pytest.mark.parametrize("x", [0.0, -1.0, -0.0, -2.5])
def test_log_of_non_positive_raises_naming_the_value(x):
    with pytest.raises(ValueError) as err:
        Value(x).log()
    assert repr(x) in str(err.value)


def test_bugs_are_off_outside_an_injected_block():
    with bugs.injected([bugs.OVERWRITE_GRAD]):
        assert bugs.is_on(bugs.OVERWRITE_GRAD)
    assert not bugs.active()
    a = Value(2.0)
    (a + a).backward()
    assert a.grad == 2.0


def _reused_tanh_grads() -> list[float]:
    """Gradients of tanh((a*b) * (a+b)): a and b each reach the output along two paths."""
    a, b = Value(-0.4), Value(0.3)
    ((a * b) * (a + b)).tanh().backward()
    return [a.grad, b.grad]


@pytest.mark.parametrize("bug", bugs.CATALOGUE, ids=lambda bug: bug.id)
def test_where_a_bug_acts_says_whether_backward_shows_it(bug):
    """Bug.acts: a bug in an op or in backward() changes a graph's gradients; one in the
    training loop (zeroing, the update) leaves backward() exact."""
    clean = _reused_tanh_grads()
    with bugs.injected([bug.id]):
        buggy = _reused_tanh_grads()
    assert (buggy != clean) == (bug.acts != bugs.IN_LOOP)
    assert (bug.id in bugs.BACKWARD_BUGS) == (bug.acts != bugs.IN_LOOP)
    assert (bug.id in bugs.LOOP_BUGS) == (bug.acts == bugs.IN_LOOP)
