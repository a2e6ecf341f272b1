"""``micrograd-tui graph``: a ``Value`` graph after forward and backward, as text, JSON or DOT.

An expression (``EXPR`` with ``--let``, or ``--example``), or one training
sample of a model (``--model``, with ``train``'s run flags). Text lists every
node with its data, grad and, for leaves, the numerical gradient; ``--json``
gives every node and the events of ``backward()``; ``--dot`` gives Graphviz
text in the spirit of the lecture's ``draw_dot``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import unicodedata
from collections.abc import Sequence

from engine.inspect.expr import EXAMPLES, MAX_CHARS, ExprError, parse, short_name
from engine.inspect.graph import (
    ENGINE_BUGS,
    NUDGE_TEXT,
    Difference,
    Graph,
    GraphError,
    check_bugs,
    differs,
    expression_graph,
    first_difference,
    model_graph,
)
from engine.losses import l2_penalty
from engine.persist.session_file import json_ready
from engine.value import Value
from tui.cli import common
from tui.cli.common import Parser, configure, load
from tui.cli.config import add_run_flags, run_flags, whole_number

PROG = f"{common.PROG} graph"


class GraphInputError(ValueError):
    """A flag or an expression the graph command refuses: one line, exit 2."""


def graph_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Run forward and backward on an expression (or one training sample of a "
        "model) and print every node: label, op, data, grad, and each leaf's numerical "
        "gradient.",
        epilog="examples:\n"
        "  micrograd-tui graph --example first\n"
        "  micrograd-tui graph 'o = (x*w + b).tanh()' --let x=2 --let w=-3 --let b=6.88\n"
        "  micrograd-tui graph --example reuse --bug overwrite-grad\n"
        "  micrograd-tui graph --model --sample 2 --steps 10\n"
        "  micrograd-tui graph --example neuron --dot | dot -Tsvg > neuron.svg\n"
        "an expression that starts with '-': '(-a)*b', or last after '--':\n"
        "  micrograd-tui graph --let a=1 --let b=2 -- '-a*b'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "expr",
        nargs="?",
        metavar="EXPR",
        help="statements 'name = expression' separated by ';' or new lines ('-': read stdin)",
    )
    g = parser.add_argument_group("graph")
    g.add_argument(
        "--let",
        action="append",
        default=[],
        metavar="NAME=X",
        help="the value of a leaf (repeatable); with --example, replaces its value",
    )
    g.add_argument("--example", metavar="NAME", help=f"one of {', '.join(EXAMPLES)}")
    g.add_argument("--list-examples", action="store_true", help="list the examples and exit")
    out = g.add_mutually_exclusive_group()
    out.add_argument(
        "--json", action="store_true", help="one JSON object: every node, and the events"
    )
    out.add_argument("--dot", action="store_true", help="Graphviz DOT text (pipe to dot -Tsvg)")
    m = parser.add_argument_group("model (--model)")
    m.add_argument(
        "--model",
        action="store_true",
        help="the model's graph for one training sample, inputs to its term of the loss",
    )
    m.add_argument(
        "--sample",
        type=_sample,
        default=None,
        metavar="I",
        help="which training sample, counted from 1 as in the dashboard (default 1)",
    )
    m.add_argument(
        "--steps",
        type=whole_number("--steps", allow_zero=True),
        default=None,
        metavar="N",
        help="train N steps first (default 0: the initial weights)",
    )
    m.add_argument(
        "--expand", action="store_true", help="text: every op of every neuron, not one line each"
    )
    m.add_argument("--load", metavar="FILE.json", help="the weights of a saved run")
    add_run_flags(parser)
    for action in parser._actions:  # one --bug help for both kinds of graph
        if action.dest == "bug":
            action.help = f"an engine bug on in forward and backward: {', '.join(ENGINE_BUGS)}"
    return parser


def _sample(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sample: expected a whole number, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"--sample: samples are counted from 1, got {value}")
    return value


# What only a model's graph uses: every run flag but --bug (an expression has
# engine bugs too), and the model's own flags.
_MODEL_ONLY = {
    **{dest: flag for dest, flag in run_flags().items() if dest != "bug"},
    "sample": "--sample",
    "steps": "--steps",
    "load": "--load",
}


def check_flags(args: argparse.Namespace) -> None:
    """Which flags go together; GraphInputError naming the first that does not."""
    sources = [
        name
        for name, given in (
            ("EXPR", args.expr is not None),
            ("--example", args.example is not None),
            ("--model", args.model),
        )
        if given
    ]
    if args.list_examples:
        if sources or args.json or args.dot:
            raise GraphInputError("--list-examples takes no other flag")
        return
    if len(sources) > 1:
        raise GraphInputError(f"{' and '.join(sources)} both choose the graph; give one")
    if not sources:
        raise GraphInputError("give an expression, --example NAME, or --model")
    if args.model:
        if args.let:
            raise GraphInputError("--let gives leaves of an expression, not of --model")
        return
    for dest, flag in _MODEL_ONLY.items():
        if getattr(args, dest) not in (None, [], False):
            raise GraphInputError(f"{flag} applies to --model graphs")
    if args.expand:
        raise GraphInputError("--expand applies to --model graphs (an expression shows every op)")


_NAME = re.compile(r"[^\W\d]\w*\Z")


def parse_lets(lets: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in lets:
        name, eq, number = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python reads identifiers
        if not eq or not _NAME.match(name):
            raise GraphInputError(
                f"--let {short_name(item)!r}: expected NAME=NUMBER, like --let a=2"
            )
        if name in values:
            raise GraphInputError(f"--let {name} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise GraphInputError(f"--let {name}: {number.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise GraphInputError(f"--let {name}: {number.strip()!r} is not a finite number")
        values[name] = value
    return values


def read_source(expr: str) -> str:
    """EXPR itself, or stdin for '-' (read no further than the cap)."""
    if expr != "-":
        return expr
    text = sys.stdin.read(MAX_CHARS + 1)
    if len(text) > MAX_CHARS:
        raise GraphInputError(f"stdin: the expression is over {MAX_CHARS} characters long")
    return text


def expression_values(source: str, lets: dict[str, float], defaults: dict[str, float]) -> dict:
    """The leaves' values: --let over the example's; one line for a leaf without one."""
    leaves = parse(source).leaves
    unknown = sorted(set(lets) - set(leaves))
    if unknown:
        listed = ", ".join(short_name(leaf) for leaf in leaves[:8]) if leaves else "none"
        listed += f", ... ({len(leaves)} leaves)" if len(leaves) > 8 else ""
        raise GraphInputError(
            f"--let {short_name(unknown[0])}: '{short_name(unknown[0])}' is not a leaf "
            f"of the expression (its leaves: {listed})"
        )
    values = {**defaults, **lets}
    missing = [leaf for leaf in leaves if leaf not in values]
    if missing:
        shown = [short_name(leaf) for leaf in missing[:5]]
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        given = " ".join(f"--let {leaf}=NUMBER" for leaf in shown)
        raise GraphInputError(f"no value for leaf {', '.join(shown)}{more}: give {given}")
    return values


# -- output: text --------------------------------------------------------------------------


def _num(x: float) -> str:
    return f"{x:.6g}"


def _name(graph: Graph, i: int, short: bool = False) -> str:
    """A node's label; an unlabelled number by its value, any other by #id.

    ``short``: a model's parameter as ``w[x1]`` or ``b`` (its row names the neuron).
    """
    node = graph.nodes[i]
    if short and node.kind == "weight":
        return f"w[{node.label.rpartition(' from ')[2]}]"
    if short and node.kind == "bias":
        return "b"
    if node.label:
        return node.label
    if not node.op and node.kind in ("", "constant"):
        return _num(node.data)
    return f"#{i}"


def computed_as(graph: Graph, i: int) -> str:
    """``a * b``, ``tanh(n)``, ``#3**2``: the op applied to its children's names."""
    node = graph.nodes[i]
    names = [_name(graph, c, short=True) for c in node.children]
    if not node.op:
        return "leaf"
    if node.op in ("+", "*"):
        return f" {node.op} ".join(names)
    if node.op.startswith("**"):
        return f"{names[0]}{node.op}"
    return f"{node.op}({names[0]})"


def table(graph: Graph, rows: Sequence[tuple[int, str, str]]) -> list[str]:
    """Rows of (node id, name, computed as) with data, grad and numerical columns."""
    header = ("#", "node", "computed as", "data", "grad", "numerical")
    cells = []
    for i, name, how in rows:
        node = graph.nodes[i]
        numerical = graph.numerical.get(i) if not node.op else None
        check = ""
        if numerical is not None and differs(node.grad, numerical):
            check = "differs"
        cells.append(
            (
                str(i),
                name,
                how,
                _num(node.data),
                _num(node.grad),
                "" if numerical is None else _num(numerical),
                check,
            )
        )
    widths = [max(len(h), *(len(c[k]) for c in cells)) for k, h in enumerate(header)]
    left = {1, 2}

    def line(values) -> str:
        parts = [
            v.ljust(widths[k]) if k in left else v.rjust(widths[k]) for k, v in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    out = [line(header)]
    for c in cells:
        text = line(c[:6])
        out.append(text + (f"  <- {c[6]}" if c[6] else ""))
    return out


def _bugs_line(graph: Graph) -> list[str]:
    if not graph.bugs:
        return []
    return [f"bugs on: {', '.join(sorted(graph.bugs))}"]


def _leaf_summary(graph: Graph) -> str:
    checked = [n for n in graph.leaves if n.id in graph.numerical]
    wrong = [n for n in checked if differs(n.grad, graph.numerical[n.id])]
    if not wrong:
        verdict = "every leaf's backprop gradient agrees with its numerical one"
    else:
        names = ", ".join(_name(graph, n.id) for n in wrong[:3])
        names += " ..." if len(wrong) > 3 else ""
        verdict = (
            f"{len(wrong)} of {len(checked)} leaves have a backprop gradient that differs "
            f"from the numerical one: {names}"
        )
    return (
        f"{verdict}\n(numerical: central differences, h = {NUDGE_TEXT}; "
        f"backward(): {len(graph.events)} updates, see --json)"
    )


def difference_record(graph: Graph, diff: Difference | None) -> dict | None:
    """``--json``'s ``first_difference``: null when the buggy and correct passes agree."""
    if diff is None:
        return None
    return {
        "node": diff.node,
        "label": graph.nodes[diff.node].label,
        "event": diff.event,
        "buggy": json_ready(diff.buggy),
        "correct": json_ready(diff.correct),
    }


def difference_line(graph: Graph, diff: Difference | None) -> list[str]:
    """Where this graph's backward() first parts from a correct one (with bugs on)."""
    if not graph.bugs:
        return []
    if diff is None:
        return ["first difference: none: this backward() writes what a correct one writes"]
    name = _name(graph, diff.node)
    written = f"{name}.grad =" if name.isidentifier() else f"{name}: grad"
    where = f"update {diff.event + 1} of backward(); from there on the gradients differ"
    return [
        f"first difference: {written} {_num(diff.buggy)}, correct {_num(diff.correct)} ({where})"
    ]


def expression_text(
    graph: Graph, source: str, title: str | None, diff: Difference | None = None
) -> str:
    lines = [title] if title else []
    lines += [" ".join(source.split()) if "\n" not in source else source.strip()]
    lines += _bugs_line(graph) + [""]
    lines += table(
        graph, [(n.id, _name(graph, n.id), computed_as(graph, n.id)) for n in graph.nodes]
    )
    out = graph.nodes[graph.output]
    named = f"output {out.label}" if out.label else f"output (#{out.id})"
    lines += ["", f"{named} = {_num(out.data)}", _leaf_summary(graph)]
    lines += difference_line(graph, diff)
    return "\n".join(lines)


def _neuron_line(graph: Graph, i: int) -> tuple[int, str, str]:
    """One neuron, collapsed: its output, what it applies to Σ w·x + b, and that sum."""
    node = graph.nodes[i]
    layer, neuron = node.group
    name = f"layer {layer}, neuron {neuron}: {node.label}"
    if node.op in ("+", ""):  # a linear neuron: the sum is the output
        return i, name, "Σ w·x + b"
    pre = graph.nodes[node.children[0]]
    return i, name, f"{node.op}(Σ w·x + b = {_num(pre.data)})"


def model_rows(graph: Graph, expand: bool) -> list[tuple[int, str, str]]:
    """Every node (--expand), or leaves, one line per neuron and the loss's nodes."""
    if expand:
        rows = []
        for node in graph.nodes:
            name = _name(graph, node.id)
            if node.kind == "neuron":
                name = f"layer {node.group[0]}, neuron {node.group[1]}: {name}"
            rows.append((node.id, name, computed_as(graph, node.id)))
        return rows
    outputs = {}  # group -> the neuron's output: the last node of the group in topological order
    for node in graph.nodes:
        if node.kind == "neuron":
            outputs[node.group] = node.id
    keyed = []  # inputs; then neuron by neuron, its parameters and its output; then the loss
    for node in graph.nodes:
        if node.kind == "input":
            keyed.append(((0,), (node.id, node.label, "leaf")))
        elif node.kind in ("weight", "bias"):
            keyed.append(((1, *node.group, 0, node.id), (node.id, node.label, "leaf")))
        elif node.kind == "neuron" and outputs[node.group] == node.id:
            keyed.append(((1, *node.group, 1), _neuron_line(graph, node.id)))
        elif node.kind in ("target", "loss", "constant"):
            row = (node.id, _name(graph, node.id), computed_as(graph, node.id))
            keyed.append(((2, node.id), row))
    return [row for _, row in sorted(keyed, key=lambda item: item[0])]


def model_text(
    graph: Graph, header: list[str], footer: list[str], expand: bool, diff: Difference | None
) -> str:
    lines = header + _bugs_line(graph) + [""]
    lines += table(graph, model_rows(graph, expand))
    lines += [""] + footer + [_leaf_summary(graph), *difference_line(graph, diff)]
    return "\n".join(lines)


# -- output: JSON and DOT ----------------------------------------------------------------------


def graph_record(graph: Graph, extra: dict | None = None) -> dict:
    nodes = []
    for node in graph.nodes:
        record = {
            "id": node.id,
            "label": node.label,
            "op": node.op,
            "data": json_ready(node.data),
            "grad": json_ready(node.grad),
            "children": list(node.children),
            "local_grads": [json_ready(g) for g in node.local_grads],
        }
        if node.id in graph.numerical:
            record["numerical"] = json_ready(graph.numerical[node.id])
        if node.kind:
            record["kind"] = node.kind
        if node.group is not None:
            record["group"] = list(node.group)
        nodes.append(record)
    events = [
        {
            "node": e.node,
            "child": e.child,
            "local_grad": json_ready(e.local_grad),
            "node_grad": json_ready(e.node_grad),
            "before": json_ready(e.before),
            "after": json_ready(e.after),
        }
        for e in graph.events
    ]
    record = {"nodes": nodes, "output": graph.output, "bugs": sorted(graph.bugs)}
    return {**record, **(extra or {}), "events": events}


def _dot_text(text: str) -> str:
    """Escape for a DOT record label."""
    return re.sub(r'([{}|<>"\\])', r"\\\1", text)


def graph_dot(graph: Graph) -> str:
    """Graphviz DOT: a record per value (label | data | grad), a small node per op."""
    lines = [
        "digraph G {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica"];',
    ]
    clusters: dict[tuple[int, int], list[str]] = {}
    for node in graph.nodes:
        label = _dot_text(node.label or (_num(node.data) if not node.op else ""))
        fields = [label] if label else []
        fields += [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
        if node.id in graph.numerical:
            fields.append(f"numerical {graph.numerical[node.id]:.4f}")
        body = [f'  n{node.id} [shape=record, label="{{ {" | ".join(fields)} }}"];']
        if node.op:
            body.append(f'  n{node.id}op [label="{_dot_text(node.op)}", shape=circle];')
            body.append(f"  n{node.id}op -> n{node.id};")
        if node.group is not None:
            clusters.setdefault(node.group, []).extend(body)
        else:
            lines.extend(body)
    for (layer, neuron), body in clusters.items():
        lines.append(f"  subgraph cluster_{layer}_{neuron} {{")
        lines.append(f'    label="layer {layer}, neuron {neuron}"; style=rounded; color=gray;')
        lines.extend("  " + b for b in body)
        lines.append("  }")
    for node in graph.nodes:
        for child in node.children:
            lines.append(f"  n{child} -> n{node.id}op;")
    lines.append("}")
    return "\n".join(lines)


# -- the command -------------------------------------------------------------------------------


def list_examples() -> str:
    width = max(len(name) for name in EXAMPLES)
    lines = []
    for example in EXAMPLES.values():
        values = ", ".join(f"{k}={v!r}" for k, v in example.values.items())
        lines.append(f"{example.name:<{width}}  {example.title}")
        lines.append(f"{'':<{width}}  {example.source}   ({values})")
    return "\n".join(lines)


def run_expression(args: argparse.Namespace) -> str:
    bug_ids = check_bugs(args.bug)
    lets = parse_lets(args.let)
    if args.example is not None:
        if args.example not in EXAMPLES:
            raise GraphInputError(
                f"--example: unknown example {args.example!r} (known: {', '.join(EXAMPLES)})"
            )
        example = EXAMPLES[args.example]
        source, defaults, title = example.source, example.values, f"{example.name}: {example.title}"
    else:
        source, defaults, title = read_source(args.expr), {}, None
    values = expression_values(source, lets, defaults)
    graph = expression_graph(source, values, bug_ids)
    diff = None
    if bug_ids:  # the same graph with a correct backward(), to say where they part
        diff = first_difference(graph, expression_graph(source, values, numerical=False))
    if args.json:
        extra = {"source": source, "first_difference": difference_record(graph, diff)}
        return json.dumps(graph_record(graph, extra))
    if args.dot:
        return graph_dot(graph)
    return expression_text(graph, source, title, diff)


def model_output(args: argparse.Namespace, config, session) -> str:
    """The --model graph of ``session`` at its current weights, as asked."""
    # A loaded run may have a training-loop bug on: it acts between steps, not in this graph.
    bug_ids = session.bugs & set(ENGINE_BUGS)
    loop_bugs = sorted(session.bugs - bug_ids)
    n = len(session.xs)
    sample = args.sample or 1
    if sample > n:
        raise GraphInputError(f"--sample {sample}: the training set has {n} samples (1 to {n})")
    snapshot = session.snapshot()
    graph = model_graph(
        session.config, snapshot.parameters, session.xs, session.ys, sample - 1, bug_ids
    )
    diff = None
    if bug_ids:
        correct = model_graph(
            session.config,
            snapshot.parameters,
            session.xs,
            session.ys,
            sample - 1,
            numerical=False,
        )
        diff = first_difference(graph, correct)
    loss, _ = session.evaluate()
    penalty = 0.0
    if session.config.l2:
        penalty = l2_penalty([Value(p) for p in snapshot.parameters], session.config.l2).data
    term = graph.nodes[graph.output].data
    if args.json:
        extra = {
            "sample": sample,
            "samples": n,
            "step": snapshot.step,
            "loss": json_ready(loss),
            "l2_penalty": penalty,
            "first_difference": difference_record(graph, diff),
        }
        return json.dumps(graph_record(graph, extra))
    if args.dot:
        return graph_dot(graph)
    cfg = session.config
    sizes = "-".join(str(s) for s in snapshot.layer_sizes)
    x = ", ".join(_num(v) for v in session.xs[sample - 1])
    target = _num(session.ys[sample - 1])
    header = [
        f"sample {sample} of {n} ({config.data_label}): x = ({x}), target {target}",
        f"model {sizes}, {cfg.activation}, loss {cfg.loss}, at step {snapshot.step}",
    ]
    if loop_bugs:
        header.append(
            f"also on in this run: {', '.join(loop_bugs)} (in the training loop, not in a graph)"
        )
    mean = graph.nodes[graph.output].label.startswith("loss term (")
    footer = [
        f"this sample's loss term: {_num(term)}" + (f" (its sample loss / {n})" if mean else ""),
        f"the loss at these weights, {_num(loss)}, is the sum of all {n} samples' terms"
        + (f" plus the L2 penalty {_num(penalty)}" if penalty else ""),
    ]
    return model_text(graph, header, footer, args.expand, diff)


def run_model(args: argparse.Namespace, prog: str) -> str:
    if args.load is not None:
        config, session = load(prog, args)
    else:
        config = configure(prog, args)
        check_bugs(config.bugs)
        session = config.build_session()
    steps = args.steps or 0
    for _ in range(steps):
        if session.diverged_at is not None or session.step().diverged:
            break
    return model_output(args, config, session)


def graph_main(argv: Sequence[str], parser: argparse.ArgumentParser) -> int:
    """Parse, build, print. Every refusal is one line on stderr and exit 2."""
    args = parser.parse_args(argv)
    try:
        check_flags(args)
        if args.list_examples:
            text = list_examples()
        elif args.model:
            text = run_model(args, parser.prog)
        else:
            text = run_expression(args)
    except (GraphInputError, ExprError, GraphError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `graph ... | head`: stop quietly, as shell tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13
    return 0
