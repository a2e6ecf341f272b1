"""The expression language: the lecture's numbers, every refused construct, and fuzzing.

Fuzzing checks three things: random text is refused with one line or built,
never anything else; nothing it does runs code (an audit hook watches, and
the one ``compile`` allowed is ``ast.parse``'s, to a tree); random valid
expressions give exactly what the same expression built with ``Value`` by
hand gives.
"""

from __future__ import annotations

import ast
import builtins
import math
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Value, bugs
from engine.inspect.expr import EXAMPLES, MAX_CHARS, MAX_NODES, SOURCE_NAME, ExprError, parse
from tests.support.expressions import EXPRESSIONS, LEAF_VALUES


def graph_of(source: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build and back-propagate; every labelled node by its label."""
    out, labels = parse(source).build(values)
    out.backward()
    by_label = {labels[id(v)]: v for v in out.topological_order() if id(v) in labels}
    return out, by_label


# -- the lecture's numbers -------------------------------------------------------------


def test_first_example_gives_the_lecture_numbers():
    example = EXAMPLES["first"]
    out, v = graph_of(example.source, example.values)
    assert out is v["L"]
    assert {k: n.data for k, n in v.items()} == {
        "a": 2.0,
        "b": -3.0,
        "c": 10.0,
        "e": -6.0,
        "d": 4.0,
        "f": -2.0,
        "L": -8.0,
    }
    # dL/dd = f, dL/df = d, and the chain rule down through + and *
    assert {k: n.grad for k, n in v.items()} == {
        "L": 1.0,
        "d": -2.0,
        "f": 4.0,
        "e": -2.0,
        "c": -2.0,
        "a": 6.0,
        "b": -4.0,
    }


@pytest.mark.parametrize("name", ["neuron", "neuron-exp"])
def test_neuron_examples_give_the_lecture_numbers(name):
    example = EXAMPLES[name]
    assert example.values["b"] == 6.8813735870195432
    out, v = graph_of(example.source, example.values)
    assert out is v["o"]
    assert v["n"].data == pytest.approx(0.8814, abs=1e-4)
    assert out.data == pytest.approx(0.7071, abs=1e-4)
    expected = {
        "o": 1.0,
        "n": 0.5,
        "b": 0.5,
        "x1w1x2w2": 0.5,
        "x1w1": 0.5,
        "x2w2": 0.5,
        "x1": -1.5,
        "w1": 1.0,
        "x2": 0.5,
        "w2": 0.0,
    }
    for label, grad in expected.items():
        assert v[label].grad == pytest.approx(grad, abs=1e-12), label


def test_neuron_exp_builds_tanh_from_exp_and_division():
    out, v = graph_of(EXAMPLES["neuron-exp"].source, EXAMPLES["neuron-exp"].values)
    ops = {n._op for n in out.topological_order()}
    assert "tanh" not in ops and {"exp", "**-1"} <= ops
    assert v["e"].data == pytest.approx(math.exp(2 * v["n"].data))


def test_reuse_adds_both_paths_and_overwrite_grad_keeps_one():
    out, v = graph_of(EXAMPLES["reuse"].source, EXAMPLES["reuse"].values)
    assert (out.data, v["a"].grad) == (6.0, 2.0)
    with bugs.injected([bugs.OVERWRITE_GRAD]):
        out, v = graph_of(EXAMPLES["reuse"].source, EXAMPLES["reuse"].values)
    assert v["a"].grad == 1.0  # the lecture's bug: the second path overwrote the first


def test_two_paths_example_gives_the_lecture_numbers():
    out, v = graph_of(EXAMPLES["two-paths"].source, EXAMPLES["two-paths"].values)
    assert (v["d"].data, v["e"].data, out.data) == (-6.0, 1.0, -6.0)
    assert (v["a"].grad, v["b"].grad) == (-3.0, -8.0)


def test_every_example_names_all_its_leaves():
    for example in EXAMPLES.values():
        assert set(parse(example.source).leaves) == set(example.values), example.name


# -- the language ------------------------------------------------------------------------


def test_leaves_are_names_used_before_assignment_in_first_use_order():
    program = parse("e = b*a\nd = e + c; a2 = d.tanh(); out = a2 * b")
    assert program.leaves == ("b", "a", "c")
    assert program.output_name == "out"


def test_functions_and_methods_build_the_same_ops():
    for name in ("tanh", "exp", "log", "relu", "sigmoid"):
        f_out, _ = parse(f"{name}(a)").build({"a": 0.7})
        m_out, _ = parse(f"a.{name}()").build({"a": 0.7})
        by_hand = getattr(Value(0.7), name)()
        assert f_out.data == m_out.data == by_hand.data
        assert f_out._op == m_out._op == by_hand._op


def test_numbers_fold_as_python_floats_until_they_meet_a_value():
    out, _ = parse("2*3*a").build({"a": 1.5})
    assert out.data == 9.0
    assert [n.data for n in out.topological_order()] == [1.5, 6.0, 9.0]  # a, 6, 6*a... as 6*a


def test_named_numbers_are_values_and_bare_output_is_unlabelled():
    out, labels = parse("c = 10; c * a").build({"a": 2.0})
    names = sorted(labels[id(n)] for n in out.topological_order() if id(n) in labels)
    assert names == ["a", "c"] and out.data == 20.0 and id(out) not in labels


def test_integer_exponents_read_as_in_python():
    out, _ = parse("a ** 2 + a ** -1 + a ** 0.5").build({"a": 4.0})
    assert {"**2", "**-1", "**0.5"} <= {n._op for n in out.topological_order()}


def test_missing_leaf_value_names_the_leaf_and_where_it_is_used():
    program = parse("e = a*b\nL = e * zeta")
    with pytest.raises(ExprError) as err:
        program.build({"a": 1.0, "b": 2.0})
    assert str(err.value) == "line 2, column 9: leaf 'zeta' has no value"


def test_log_of_a_non_positive_number_names_its_column():
    with pytest.raises(ExprError) as err:
        parse("b = a + 1; c = b.log()").build({"a": -3.0})
    assert str(err.value) == "line 1, column 16: log(-2): log needs a positive number"


def test_huge_exponents_follow_ieee_and_never_hang():
    out, _ = parse("2 ** 10 ** 10 * a").build({"a": 1.0})  # floats: no 10**10-digit integer
    assert out.data == math.inf
    out, _ = parse("a ** 1e308").build({"a": 2.0})
    assert out.data == math.inf


def test_unicode_names_work_and_columns_count_characters():
    out, labels = parse("αβ = é * 2").build({"é": 1.5})
    assert out.data == 3.0 and labels[id(out)] == "αβ"
    with pytest.raises(ExprError) as err:
        parse("αβγ = é.__class__")
    assert str(err.value).startswith("line 1, column 7: attribute access '.__class__'")


# -- every construct outside the language: refused, named, placed ------------------------

REFUSED = [
    ("a.__class__", 1, "attribute access '.__class__' is not allowed"),
    ("a.tanh().__class__", 1, "attribute access '.__class__'"),
    ("x = a.data", 5, "attribute access '.data'"),
    ("a.backward()", 1, "attribute access '.backward'"),
    ("import os", 1, "import is not allowed"),
    ("from os import system", 1, "import is not allowed"),
    ("__import__('os')", 1, "dunder name '__import__' is not allowed"),
    ("x = __builtins__", 5, "dunder name '__builtins__'"),
    ("print(a)", 1, "call to 'print' is not allowed"),
    ("eval('1')", 1, "call to 'eval' is not allowed"),
    ("exec('x')", 1, "call to 'exec' is not allowed"),
    ("open('f')", 1, "call to 'open' is not allowed"),
    ("getattr(a, 'b')", 1, "call to 'getattr' is not allowed"),
    ("lambda: 0", 1, "lambda is not allowed"),
    ("(lambda: 0)()", 2, "lambda is not allowed"),
    ("x = a[0]", 5, "subscript '[...]' is not allowed"),
    ("[a for a in b]", 1, "list comprehension is not allowed"),
    ("{a for a in b}", 1, "set comprehension is not allowed"),
    ("{a: a for a in b}", 1, "dict comprehension is not allowed"),
    ("tanh(x for x in a)", 5, "generator expression is not allowed"),
    ("'text'", 1, "string 'text' is not allowed"),
    ("a * 'x'", 5, "string 'x' is not allowed"),
    ("b'x' * a", 1, "bytes literal is not allowed"),
    ("f'{a}'", 1, "f-string is not allowed"),
    ("True * a", 1, "constant True is not allowed"),
    ("None", 1, "constant None is not allowed"),
    ("2j * a", 1, "complex number 2j is not allowed"),
    ("a if b else c", 1, "conditional expression"),
    ("a < b", 1, "comparison is not allowed"),
    ("a and b", 1, "'and'/'or' is not allowed"),
    ("not a", 1, "'not' is not allowed"),
    ("~a", 1, "operator '~' is not allowed"),
    ("a % b", 1, "operator '%' is not allowed"),
    ("a // b", 1, "operator '//' is not allowed"),
    ("a @ b", 1, "operator '@' is not allowed"),
    ("a ^ b", 1, "operator '^' is not allowed"),
    ("(x := a)", 2, "assignment expression ':=' is not allowed"),
    ("[a, b]", 1, "list is not allowed"),
    ("(a, b)", 1, "tuple is not allowed"),
    ("{'k': a}", 1, "dict is not allowed"),
    ("a, b = c, d", 1, "tuple is not allowed"),
    ("a.x = 1", 1, "attribute access '.x' is not allowed"),
    ("a[0] = 1", 1, "subscript '[...]' is not allowed"),
    ("a = b = 1", 5, "chained assignment is not allowed"),
    ("a += 1", 1, "augmented assignment is not allowed"),
    ("a: float = 1", 1, "annotated assignment is not allowed"),
    ("del a", 1, "del is not allowed"),
    ("def f(): pass", 1, "function definition 'def' is not allowed"),
    ("class C: pass", 1, "class definition is not allowed"),
    ("if a: b", 1, "if statement is not allowed"),
    ("for i in a: b", 1, "for loop is not allowed"),
    ("while a: b", 1, "while loop is not allowed"),
    ("with a: b", 1, "with statement is not allowed"),
    ("try: a\nexcept: b", 1, "try statement is not allowed"),
    ("assert a", 1, "assert is not allowed"),
    ("global a", 1, "global is not allowed"),
    ("raise a", 1, "raise is not allowed"),
    ("pass", 1, "pass is not allowed"),
    ("tanh(*a)", 6, "starred expression '*x' is not allowed"),
    ("tanh(x=a)", 6, "keyword argument 'x' is not allowed"),
    ("tanh(a, b)", 1, "tanh() takes one argument, got 2"),
    ("tanh()", 1, "tanh() takes one argument, got 0"),
    ("a.tanh(1)", 8, ".tanh() takes no arguments"),
    ("a.tanh", 1, "attribute access '.tanh' is not allowed"),
    ("y = tanh", 5, "'tanh' is a function"),
    ("tanh = 3", 1, "'tanh' is a function"),
    ("a ** b", 6, "the exponent of ** must be a number, not the value 'b'"),
    ("a = 1; a = 2", 8, "'a' is already assigned on line 1"),
    ("b = a; a = 2", 8, "'a' is used before this assignment"),
    ("a * 2\nb = a", 1, "only the last statement may be a bare expression"),
    ("x = 1" + "0" * 400, 5, "number too large for a float"),
    ("x = 1e999", 5, "number too large for a float"),
]


@pytest.mark.parametrize(("source", "col", "message"), REFUSED)
def test_every_construct_outside_the_language_is_refused_with_its_column(source, col, message):
    with pytest.raises(ExprError) as err:
        parse(source)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"line 1, column {col}: ")
    assert message in text, text
    assert err.value.col == col


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a +", "line 1, column 4: syntax error: invalid syntax"),
        ("  a = 1", "line 1, column 2: syntax error: unexpected indent"),
        ("(" * 201 + "a" + ")" * 201, "syntax error: too many nested parentheses"),
        ("a\u202e", "column 2: syntax error: invalid non-printable character U+202E"),
        ("a\x00b", "line 1, column 2: a NUL character is not allowed"),
        ("", "empty expression"),
        ("# a comment", "empty expression"),
        ("x = 1" + "0" * 5000, f"the limit is {MAX_CHARS}"),
        ("a" + "+a" * (MAX_CHARS // 2 - 1), f"the limit is {MAX_NODES}"),
    ],
)
def test_syntax_errors_and_caps_are_one_line_with_a_place(source, message):
    with pytest.raises(ExprError) as err:
        parse(source)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("line ")


def test_a_megabyte_is_refused_by_its_length_before_parsing(monkeypatch):
    def no_parse(*args, **kwargs):
        raise AssertionError("parsed a megabyte")

    monkeypatch.setattr(ast, "parse", no_parse)
    with pytest.raises(ExprError) as err:
        parse("a+" * 500_000 + "a")
    assert str(err.value) == (
        f"line 1, column 1: the expression is 1000001 characters long; the limit is {MAX_CHARS}"
    )


def test_long_chains_within_the_caps_build_without_recursion_limits():
    source = "a" + "+a" * (MAX_NODES // 2 - 1)
    out, _ = parse(source).build({"a": 1.0})
    assert out.data == MAX_NODES // 2
    out, _ = parse("-" * (MAX_NODES - 1) + "a").build({"a": 1.0})
    assert out.data == (-1.0) ** (MAX_NODES - 1)
    deep = "tanh(" * 150 + "a" + ")" * 150
    out, _ = parse(deep).build({"a": 0.5})
    out.backward()
    assert len(out.topological_order()) == 151


def test_parser_stack_exhaustion_is_one_line(monkeypatch):
    def exhausted(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded during ast construction")

    monkeypatch.setattr(ast, "parse", exhausted)
    with pytest.raises(ExprError) as err:
        parse("a")
    assert str(err.value) == "line 1, column 1: the expression is nested too deeply"


# -- fuzzing -----------------------------------------------------------------------------

# Audit events seen while a call under test runs; None when not watching.
_seen: list[str] | None = None


def _audit(event: str, args) -> None:
    if _seen is None:
        return
    if event == "object.__getattr__" and type(args[0]).__name__ in ("frame", "code"):
        return  # hypothesis's own tracer reading frames, not the code under test
    if event == "open" and args[:2] == (SOURCE_NAME, "rb"):
        return  # CPython's parser looking for the "file" to quote a syntax error's line
    _seen.append(event)


sys.addaudithook(_audit)

# What parsing and building may do: ast.parse's compile (checked to stop at a tree),
# and id(). No exec, import, open, os.* or subprocess event.
ALLOWED_EVENTS = {"compile", "builtins.id"}


def watched(monkeypatch, call):
    """Run ``call()`` under the audit hook; fail on any code-running event."""
    global _seen
    real_compile = builtins.compile

    def only_to_a_tree(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile() asked for code, not a tree"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "compile", only_to_a_tree)
    _seen = []
    try:
        return call()
    finally:
        events, _seen = set(_seen), None
        monkeypatch.setattr(builtins, "compile", real_compile)
        assert events <= ALLOWED_EVENTS, events - ALLOWED_EVENTS


def parse_and_build(source: str):
    """Refused with one ExprError line, or built and back-propagated."""
    try:
        program = parse(source)
        out, _ = program.build({leaf: 0.5 for leaf in program.leaves})
    except ExprError as err:
        assert "\n" not in str(err) and str(err).startswith("line ")
        return None
    out.backward()
    return out


TOKENS = [
    "a", "b", "x1", "w", "_", "__class__", "__import__", "tanh", "exp", "log", "relu",
    "sigmoid", "print", "os", "lambda", "import", "for", "in", "if", "(", ")", "[", "]",
    "{", "}", ".", ",", ":", ";", "\n", "=", "==", "+", "-", "*", "/", "**", "%", "@",
    "1", "2.5", "0", "1e308", "-1", "'s'", '"', "#", "\\", " ", "\t", "é", "λ", "\u202e",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_text_is_refused_in_one_line_or_built_and_never_runs_code(text):
    with pytest.MonkeyPatch.context() as monkeypatch:
        watched(monkeypatch, lambda: parse_and_build(text))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_random_token_soup_is_refused_in_one_line_or_built_and_never_runs_code(text):
    with pytest.MonkeyPatch.context() as monkeypatch:
        watched(monkeypatch, lambda: parse_and_build(text))


def same(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))


def by_hand(build, values):
    env = {name: Value(x) for name, x in values.items()}
    try:
        out = build(env)
    except ValueError:  # log of a non-positive number
        return None, env
    out.backward()
    return out, env


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, LEAF_VALUES, st.sets(st.sampled_from(sorted(bugs.BUGS))))
def test_random_expressions_equal_the_same_graph_built_by_hand(expr, values, bug_ids):
    text, build, _ = expr
    engine_bugs = bug_ids & {bugs.OVERWRITE_GRAD, bugs.FORWARD_ORDER_BACKWARD, bugs.TANH_DERIVATIVE}
    with bugs.injected(engine_bugs):
        hand, env = by_hand(build, values)
        program = parse(f"out = {text}")
        if hand is None:
            with pytest.raises(ExprError, match="log needs a positive number"):
                program.build(values)
            return
        out, labels = program.build(values)
        out.backward()
    ours = out.topological_order()
    theirs = hand.topological_order()
    assert [n._op for n in ours] == [n._op for n in theirs]
    assert all(same(p.data, q.data) for p, q in zip(ours, theirs))
    assert all(same(p.grad, q.grad) for p, q in zip(ours, theirs))
    leaves = {labels[id(n)]: n for n in ours if id(n) in labels and not n._op}
    for name, leaf in leaves.items():
        assert same(leaf.grad, env[name.removesuffix(", out")].grad), name
    assert labels[id(out)].endswith("out")
