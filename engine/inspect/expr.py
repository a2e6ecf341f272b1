"""A small expression language that builds labelled ``Value`` graphs, safely.

A program is statements ``name = expression``, separated by ``;`` or new
lines; the last statement (or a bare last expression) is the output::

    e = a*b; d = e + c; L = d * f

Expressions have numbers, names, ``+ - * /``, ``**`` with a number exponent,
unary minus, parentheses, and ``tanh exp log relu sigmoid`` as functions
(``tanh(n)``) or methods (``n.tanh()``). A name used before it is assigned is
a *leaf*: it needs a value. Every name is a ``Value``, as in the lecture;
a bare number is a plain float until it meets a ``Value``, so ``2*3*a``
builds what Python builds for it (``6 * a``).

Safety: the text is parsed with :func:`ast.parse` and the graph is built by
walking that tree here. The text is never given to ``eval``, ``exec`` or
``compile``, and names are never looked up in any Python namespace, so no
user text can reach Python objects. Every construct outside the language is
refused with an :class:`ExprError` naming it and its column, before anything
is built. The input is capped in length and in size, and ``ast.parse``'s own
limits (nesting, huge literals) come back as the same one-line error.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.value import Value

MAX_CHARS = 2000  # characters of source
MAX_NODES = 1000  # expression nodes (names, numbers, operations)

# ast.parse's file name. On a syntax error CPython tries to open it to quote the
# line (it only reads; the message shown here never quotes it).
SOURCE_NAME = "<expression>"
FUNCTIONS = ("tanh", "exp", "log", "relu", "sigmoid")
_METHOD_LIST = " ".join(f".{name}()" for name in FUNCTIONS)
_FUNCTION_LIST = " ".join(f"{name}()" for name in FUNCTIONS)

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

# What each refused node is called in a message (the rest: its class name, lowered).
_CONSTRUCTS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript '[...]'",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.Compare: "comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expression 'x if c else y'",
    ast.NamedExpr: "assignment expression ':='",
    ast.Starred: "starred expression '*x'",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.FunctionDef: "function definition 'def'",
    ast.AsyncFunctionDef: "function definition 'async def'",
    ast.ClassDef: "class definition",
    ast.Return: "return",
    ast.Delete: "del",
    ast.AugAssign: "augmented assignment",
    ast.AnnAssign: "annotated assignment",
    ast.For: "for loop",
    ast.AsyncFor: "for loop",
    ast.While: "while loop",
    ast.If: "if statement",
    ast.With: "with statement",
    ast.AsyncWith: "with statement",
    ast.Raise: "raise",
    ast.Try: "try statement",
    ast.Assert: "assert",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Pass: "pass",
    ast.Break: "break",
    ast.Continue: "continue",
    ast.Match: "match statement",
    ast.MatMult: "operator '@'",
    ast.Mod: "operator '%'",
    ast.FloorDiv: "operator '//'",
    ast.LShift: "operator '<<'",
    ast.RShift: "operator '>>'",
    ast.BitOr: "operator '|'",
    ast.BitXor: "operator '^'",
    ast.BitAnd: "operator '&'",
    ast.Invert: "operator '~'",
    ast.Not: "'not'",
}
if hasattr(ast, "TryStar"):  # Python 3.11+
    _CONSTRUCTS[ast.TryStar] = "try statement"


class ExprError(ValueError):
    """A program outside the language, or one that cannot be built: one line, with its place."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        self.message = message
        self.line = line
        self.col = col
        super().__init__(f"line {line}, column {col}: {message}")


@dataclass(frozen=True)
class Example:
    """One of the lecture's worked examples."""

    name: str
    title: str
    source: str
    values: dict[str, float]


EXAMPLES: dict[str, Example] = {
    example.name: example
    for example in (
        Example(
            "first",
            "the lecture's first graph: L = (a*b + c) * f",
            "e = a*b; d = e + c; L = d * f",
            {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0},
        ),
        Example(
            "neuron",
            "a neuron with two inputs: o = tanh(x1*w1 + x2*w2 + b)",
            "x1w1 = x1*w1; x2w2 = x2*w2; x1w1x2w2 = x1w1 + x2w2; n = x1w1x2w2 + b; o = n.tanh()",
            {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432},
        ),
        Example(
            "neuron-exp",
            "the same neuron with tanh written out: o = (e**2n - 1) / (e**2n + 1)",
            "x1w1 = x1*w1; x2w2 = x2*w2; x1w1x2w2 = x1w1 + x2w2; n = x1w1x2w2 + b; "
            "e = (2*n).exp(); o = (e - 1) / (e + 1)",
            {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432},
        ),
        Example(
            "reuse",
            "a value used twice: b = a + a, so a.grad must add up both paths (2)",
            "b = a + a",
            {"a": 3.0},
        ),
        Example(
            "two-paths",
            "a and b each feed two nodes: f = (a*b) * (a+b)",
            "d = a*b; e = a + b; f = d * e",
            {"a": -2.0, "b": 3.0},
        ),
    )
}


def short_name(name: str, limit: int = 30) -> str:
    """A name as a message shows it: long ones cut, so the message stays readable."""
    return name if len(name) <= limit else name[: limit - 3] + "..."


def _column(source_lines: list[str], line: int, byte_offset: int) -> int:
    """ast columns count UTF-8 bytes; people count characters (1-based)."""
    if 1 <= line <= len(source_lines):
        prefix = source_lines[line - 1].encode("utf-8")[:byte_offset]
        return len(prefix.decode("utf-8", errors="ignore")) + 1
    return byte_offset + 1


def _describe(node: ast.AST) -> str:
    """What a refused node is, in words, with its text where that helps."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            shown = value if len(value) <= 20 else value[:17] + "..."
            return f"string {shown!r}"
        if isinstance(value, bytes):
            return "bytes literal"
        if isinstance(value, bool) or value is None:
            return f"constant {value!r}"
        if isinstance(value, complex):
            return f"complex number {value!r}"
        return "constant '...'"
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import"
    return _CONSTRUCTS.get(type(node), type(node).__name__.lower())


@dataclass(frozen=True)
class _Statement:
    target: str | None  # None: the bare last expression
    expr: ast.expr


@dataclass(frozen=True)
class Program:
    """A parsed, checked program: ``build(values)`` makes its ``Value`` graph."""

    source: str
    statements: tuple[_Statement, ...]
    leaves: tuple[str, ...]  # names used before assignment, in first-use order
    _lines: list[str] = field(repr=False, compare=False)
    _leaf_places: dict[str, tuple[int, int]] = field(repr=False, compare=False)

    @property
    def output_name(self) -> str | None:
        """The name the output is assigned to (None for a bare last expression)."""
        return self.statements[-1].target

    def build(self, values: Mapping[str, float]) -> tuple[Value, dict[int, str]]:
        """The output ``Value`` and the labels by ``id(Value)``; extra values are ignored."""
        for leaf in self.leaves:
            if leaf not in values:
                line, col = self._leaf_places[leaf]
                raise ExprError(f"leaf '{short_name(leaf)}' has no value", line, col)
        env: dict[str, Value] = {}
        labels: dict[int, str] = {}

        def name(value: Value, label: str) -> None:
            old = labels.get(id(value))
            labels[id(value)] = f"{old}, {label}" if old else label
            value.label = labels[id(value)]

        for leaf in self.leaves:
            env[leaf] = Value(float(values[leaf]))
            name(env[leaf], leaf)
        result: Value | float = 0.0
        for statement in self.statements:
            result = self._evaluate(statement.expr, env)
            if not isinstance(result, Value):
                result = Value(result)
            if statement.target is not None:
                env[statement.target] = result
                name(result, statement.target)
        assert isinstance(result, Value)
        return result, labels

    def _place(self, node: ast.AST) -> tuple[int, int]:
        line = getattr(node, "lineno", 1)
        return line, _column(self._lines, line, getattr(node, "col_offset", 0))

    def _evaluate(self, root: ast.expr, env: Mapping[str, Value]) -> Value | float:
        """Walk a checked expression bottom-up, with an explicit stack (no depth limit)."""
        results: list[Value | float] = []
        stack: list[tuple[ast.expr, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            operands = _operands(node)
            if not children_done:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(operands))
                continue
            args = results[len(results) - len(operands) :] if operands else []
            del results[len(results) - len(operands) :]
            try:
                results.append(_apply(node, args, env))
            except (ValueError, OverflowError, ZeroDivisionError) as err:
                raise ExprError(str(err), *self._place(node)) from None
        (result,) = results
        return result


def _number(node: ast.expr) -> float | None:
    """A literal number (``3``, ``-2.5``) as a float; None for anything else."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1.0, node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            return sign * float(node.value)
        except OverflowError:  # an integer literal past 1.8e308
            return math.inf
    return None


def _operands(node: ast.expr) -> list[ast.expr]:
    """The sub-expressions a checked node computes from, in order."""
    if _number(node) is not None:
        return []
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            return [node.func.value]
        return [node.args[0]]
    return []


def _apply(node: ast.expr, args: list[Value | float], env: Mapping[str, Value]) -> Value | float:
    """One checked node, applied the way Python applies it to Values and floats."""
    number = _number(node)
    if number is not None:
        return number
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        (operand,) = args
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = args
        both_numbers = not isinstance(left, Value) and not isinstance(right, Value)
        if both_numbers:  # folded as Python folds floats, with the engine's IEEE results
            left = Value(left)
        op = type(node.op)
        if op is ast.Pow:
            if isinstance(right, Value):
                raise ValueError("the exponent of ** must be a number, not a value")
            if right.is_integer() and abs(right) <= 2**53:
                right = int(right)  # the op reads "**2", as when typed in Python
            out = left**right
        elif op is ast.Add:
            out = left + right
        elif op is ast.Sub:
            out = left - right
        elif op is ast.Mult:
            out = left * right
        else:
            out = left / right
        return out.data if both_numbers else out
    assert isinstance(node, ast.Call)
    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
    (operand,) = args
    x = operand.data if isinstance(operand, Value) else operand
    if name == "log" and x <= 0:
        raise ValueError(f"log({x:g}): log needs a positive number")
    if isinstance(operand, Value):
        return getattr(operand, name)()
    return getattr(Value(operand), name)().data


def parse(source: str) -> Program:
    """Check ``source`` against the language; raises ExprError naming the first problem."""
    if not isinstance(source, str):
        raise ExprError(f"expected text, got {type(source).__name__}")
    if len(source) > MAX_CHARS:
        raise ExprError(
            f"the expression is {len(source)} characters long; the limit is {MAX_CHARS}"
        )
    bad = next((i for i, ch in enumerate(source) if "\ud800" <= ch <= "\udfff"), None)
    if bad is not None:  # undecodable bytes in a command line arrive as lone surrogates
        raise ExprError("a byte that is not valid UTF-8 is not allowed", *_place_of(source, bad))
    if "\x00" in source:
        raise ExprError("a NUL character is not allowed", *_place_of(source, source.index("\x00")))
    if not source.strip():
        raise ExprError("empty expression: write 'name = expression', or an expression")
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal" for 1if: refused below
            warnings.simplefilter("ignore")
            tree = ast.parse(source, SOURCE_NAME, mode="exec")
    except SyntaxError as err:
        message = (err.msg or "invalid syntax").splitlines()[0]
        raise ExprError(f"syntax error: {message}", err.lineno or 1, err.offset or 1) from None
    except (RecursionError, MemoryError):
        raise ExprError("the expression is nested too deeply") from None
    except ValueError as err:  # e.g. an integer literal past Python's digit limit
        raise ExprError(str(err).splitlines()[0]) from None
    return _Checker(source).check(tree)


def _place_of(source: str, index: int) -> tuple[int, int]:
    line = source.count("\n", 0, index) + 1
    return line, index - (source.rfind("\n", 0, index) + 1) + 1


class _Checker:
    """Refuses everything outside the language, in reading order, before anything runs."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines() or [""]
        self.assigned: dict[str, int] = {}  # name -> line it was assigned on
        self.leaves: dict[str, tuple[int, int]] = {}  # name -> where first used

    def fail(self, node: ast.AST, message: str) -> ExprError:
        line = getattr(node, "lineno", 1)
        col = _column(self.lines, line, getattr(node, "col_offset", 0))
        return ExprError(message, line, col)

    def refuse(self, node: ast.AST, extra: str = "") -> ExprError:
        return self.fail(node, f"{_describe(node)} is not allowed{extra}")

    def check(self, tree: ast.Module) -> Program:
        if not tree.body:
            raise ExprError("empty expression: write 'name = expression', or an expression")
        parts = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
        if parts > MAX_NODES:
            raise ExprError(
                f"the expression has {parts} parts (names, numbers, operations); "
                f"the limit is {MAX_NODES}"
            )
        statements = []
        for i, statement in enumerate(tree.body):
            last = i == len(tree.body) - 1
            if isinstance(statement, ast.Assign):
                if len(statement.targets) != 1:
                    raise self.fail(statement.targets[1], "chained assignment is not allowed")
                target = statement.targets[0]
                if not isinstance(target, ast.Name):
                    raise self.refuse(target, "; assign to a single name")
                self.expression(statement.value)
                self.assign(target)
                statements.append(_Statement(target.id, statement.value))
            elif isinstance(statement, ast.Expr):
                if not last:
                    raise self.fail(
                        statement,
                        "only the last statement may be a bare expression; "
                        "give this one a name: name = ...",
                    )
                self.expression(statement.value)
                statements.append(_Statement(None, statement.value))
            else:
                raise self.refuse(statement, "; only 'name = expression' statements")
        return Program(
            self.source,
            tuple(statements),
            tuple(self.leaves),
            self.lines,
            dict(self.leaves),
        )

    def name_ok(self, node: ast.Name) -> None:
        if node.id.startswith("__"):
            raise self.fail(node, f"dunder name '{short_name(node.id)}' is not allowed")
        if node.id in FUNCTIONS:
            raise self.fail(
                node, f"'{node.id}' is a function: call it, {node.id}(x), or use x.{node.id}()"
            )

    def assign(self, target: ast.Name) -> None:
        self.name_ok(target)
        name = target.id
        if name in self.assigned:
            raise self.fail(
                target,
                f"'{short_name(name)}' is already assigned on line {self.assigned[name]}; "
                "each name has one value, pick a new name",
            )
        if name in self.leaves:
            raise self.fail(
                target,
                f"'{short_name(name)}' is used before this assignment "
                f"(line {self.leaves[name][0]}), so it is a leaf; pick a new name",
            )
        self.assigned[name] = target.lineno

    def expression(self, root: ast.expr) -> None:
        stack = [root]  # explicit stack: a long chain of a+a+... has no depth limit here
        powers: list[ast.BinOp] = []
        while stack:
            node = stack.pop()
            if _number(node) is not None:
                if not math.isfinite(_number(node)):
                    raise self.fail(node, "number too large for a float (over 1.8e308)")
                continue
            if isinstance(node, ast.Constant):
                raise self.refuse(node, "; only numbers and names")
            if isinstance(node, ast.Name):
                self.name_ok(node)
                if node.id not in self.assigned and node.id not in self.leaves:
                    self.leaves[node.id] = (
                        node.lineno,
                        _column(self.lines, node.lineno, node.col_offset),
                    )
                continue
            if isinstance(node, ast.BinOp):
                if type(node.op) not in _BINARY:
                    raise self.fail(node, f"{_describe(node.op)} is not allowed; only + - * / **")
                if isinstance(node.op, ast.Pow):
                    powers.append(node)
                stack.extend([node.right, node.left])
                continue
            if isinstance(node, ast.UnaryOp):
                if not isinstance(node.op, (ast.USub, ast.UAdd)):
                    raise self.fail(node, f"{_describe(node.op)} is not allowed; only unary minus")
                stack.append(node.operand)
                continue
            if isinstance(node, ast.Call):
                stack.append(self.call(node))
                continue
            if isinstance(node, ast.Attribute):
                raise self.refuse(node, f"; only {_METHOD_LIST}")
            raise self.refuse(node)
        # Every name is a Value, and Value ** Value is outside the engine (and the lecture).
        for power in powers:
            name = next((n for n in ast.walk(power.right) if isinstance(n, ast.Name)), None)
            if name is not None:
                raise self.fail(
                    name,
                    f"the exponent of ** must be a number, not the value '{short_name(name.id)}'",
                )

    def call(self, node: ast.Call) -> ast.expr:
        """Check a function or method call; return the expression it applies to."""
        for keyword in node.keywords:
            what = f"keyword argument '{keyword.arg}'" if keyword.arg else "'**' argument"
            raise self.fail(keyword, f"{what} is not allowed")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.refuse(arg)
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr not in FUNCTIONS:
                raise self.refuse(func, f"; only {_METHOD_LIST}")
            if node.args:
                raise self.fail(node.args[0], f".{func.attr}() takes no arguments")
            return func.value
        if isinstance(func, ast.Name):
            if func.id not in FUNCTIONS:
                what = "dunder name" if func.id.startswith("__") else "call to"
                raise self.fail(
                    func, f"{what} '{short_name(func.id)}' is not allowed; only {_FUNCTION_LIST}"
                )
            if len(node.args) != 1:
                raise self.fail(node, f"{func.id}() takes one argument, got {len(node.args)}")
            return node.args[0]
        raise self.refuse(func, "; only " + _FUNCTION_LIST + " can be called")
