"""Random valid expressions, each with the function that builds it with ``Value`` by hand.

An expression is ``(text, build, is_value)``: ``build(env)`` applies the same
Python operators to the ``Value`` leaves in ``env`` that the text names.
"""

from __future__ import annotations

from hypothesis import strategies as st

NAMES = ("a", "b", "c", "w1")
FUNCTIONS = ("tanh", "exp", "relu", "sigmoid", "log")


def _leaf(name):
    return (name, lambda env: env[name], True)


def _number(x):
    return (repr(x), lambda env: x, False)


def _binary(left, op, right):
    (lt, lf, _), (rt, rf, _) = left, right
    ops = {
        "+": lambda p, q: p + q,
        "-": lambda p, q: p - q,
        "*": lambda p, q: p * q,
        "/": lambda p, q: p / q,
    }
    return (f"({lt}) {op} ({rt})", lambda env: ops[op](lf(env), rf(env)), True)


def _power(base, exponent):
    text, f, _ = base
    return (f"({text}) ** {exponent!r}", lambda env: f(env) ** exponent, True)


def _negate(inner):
    text, f, _ = inner
    return (f"-({text})", lambda env: -f(env), True)


def _call(name, inner, as_method):
    text, f, _ = inner
    written = f"({text}).{name}()" if as_method else f"{name}({text})"
    return (written, lambda env: getattr(f(env), name)(), True)


def _is_value(expr) -> bool:
    return expr[2]


def _extend(children):
    values = children.filter(_is_value)
    return st.one_of(
        # at least one side a Value: two numbers would fold, which no hand-built graph does
        st.builds(_binary, values, st.sampled_from("+-*/"), children),
        st.builds(_binary, children, st.sampled_from("+-*/"), values),
        st.builds(_power, values, st.sampled_from([2, 3, -1, 0.5, -2])),
        st.builds(_negate, values),
        st.builds(_call, st.sampled_from(FUNCTIONS), values, st.booleans()),
    )


EXPRESSIONS = st.recursive(
    st.one_of(
        st.sampled_from(NAMES).map(_leaf),
        st.sampled_from([0.5, 1.0, 2.0, 3.0, -1.5]).map(_number),
    ),
    _extend,
    max_leaves=10,
).filter(_is_value)
LEAF_VALUES = st.fixed_dictionaries(
    {name: st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 3)) for name in NAMES}
)
