"""`micrograd-tui graph`: the lecture's numbers, JSON/DOT/text, model samples, refusals."""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tui.cli.graph  # noqa: F401  (imported up front: the audit watch sees only the command)
from engine.inspect.expr import EXAMPLES, MAX_CHARS
from engine.inspect.graph import LOOP_BUGS
from tests.support.cli import RUN_FLAG_VALUES, assert_one_line_error, parse_json_lines, run_cli
from tui.cli.config import run_flags
from tui.dashboard.widgets.parameter_grid import ParameterRef

REPO = Path(__file__).resolve().parent.parent
ATTEMPTS = Path(__file__).resolve().parent / "support" / "code_attempts.txt"


def graph_json(capsys, *argv: str) -> dict:
    code, out, err = run_cli(capsys, "graph", *argv, "--json")
    assert (code, err) == (0, ""), err
    (line,) = out.splitlines()
    return json.loads(line)


def by_label(record: dict) -> dict[str, dict]:
    return {node["label"]: node for node in record["nodes"] if node["label"]}


# -- the lecture's numbers, from the command line --------------------------------------------


def test_first_example_prints_the_lecture_numbers(capsys):
    nodes = by_label(graph_json(capsys, "--example", "first"))
    assert {k: (n["data"], n["grad"]) for k, n in nodes.items()} == {
        "a": (2.0, 6.0),
        "b": (-3.0, -4.0),
        "c": (10.0, -2.0),
        "e": (-6.0, -2.0),
        "d": (4.0, -2.0),
        "f": (-2.0, 4.0),
        "L": (-8.0, 1.0),
    }
    for leaf in "abcf":
        assert nodes[leaf]["numerical"] == pytest.approx(nodes[leaf]["grad"], abs=1e-6)


@pytest.mark.parametrize("name", ["neuron", "neuron-exp"])
def test_neuron_examples_print_the_lecture_numbers(capsys, name):
    nodes = by_label(graph_json(capsys, "--example", name))
    assert nodes["o"]["data"] == pytest.approx(0.7071, abs=1e-4)
    assert nodes["n"]["data"] == pytest.approx(0.8814, abs=1e-4)
    grads = {k: nodes[k]["grad"] for k in ("x1", "w1", "x2", "w2", "b", "n")}
    assert grads == pytest.approx(
        {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5}, abs=1e-12
    )


def test_reuse_example_text_shows_the_overwrite_bug_against_the_numerical_gradient(capsys):
    code, out, err = run_cli(capsys, "graph", "--example", "reuse")
    assert code == 0 and err == ""
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line[:1].isdigit()}
    assert rows["a"][2:6] == ["leaf", "3", "2", "2"]  # data, grad, numerical
    assert "every leaf's backprop gradient agrees with its numerical one" in out

    code, out, err = run_cli(capsys, "graph", "--example", "reuse", "--bug", "overwrite-grad")
    rows = {line.split()[1]: line for line in out.splitlines() if line[:1].isdigit()}
    assert rows["a"].split()[2:7] == ["leaf", "3", "1", "2", "<-"]
    assert rows["a"].endswith("<- differs")
    assert "bugs on: overwrite-grad" in out
    assert "1 of 1 leaves have a backprop gradient that differs from the numerical one: a" in out


def test_expression_with_lets_equals_the_example(capsys):
    example = EXAMPLES["first"]
    lets = [f"--let={k}={v!r}" for k, v in example.values.items()]
    from_text = graph_json(capsys, example.source, *lets)
    from_example = graph_json(capsys, "--example", "first")
    assert from_text["nodes"] == from_example["nodes"]
    # --let overrides an example's value
    changed = by_label(graph_json(capsys, "--example", "first", "--let", "a=3"))
    assert changed["L"]["data"] == (3 * -3 + 10) * -2


def test_expression_from_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("e = a*b\nL = e.tanh()\n"))
    nodes = by_label(graph_json(capsys, "-", "--let", "a=0.5", "--let", "b=2"))
    assert nodes["L"]["data"] == pytest.approx(math.tanh(1.0))


def test_list_examples_names_each_with_its_source_and_values(capsys):
    code, out, err = run_cli(capsys, "graph", "--list-examples")
    assert (code, err) == (0, "")
    for example in EXAMPLES.values():
        assert f"{example.name}  " in out and example.source in out
    assert "b=6.881373587019543" in out


# -- formats -----------------------------------------------------------------------------


def test_json_nodes_are_topological_with_the_output_last(capsys):
    record = graph_json(capsys, "--example", "neuron-exp")
    nodes = record["nodes"]
    assert record["output"] == len(nodes) - 1
    assert [n["id"] for n in nodes] == list(range(len(nodes)))
    for node in nodes:
        assert {"id", "label", "op", "data", "grad", "children"} <= set(node)
        assert all(child < node["id"] for child in node["children"])
        assert (node["op"] == "") == (not node["children"])
        assert ("numerical" in node) == (node["op"] == "")
    assert len(record["events"]) == sum(len(n["children"]) for n in nodes)
    assert record["bugs"] == []


def test_json_events_with_forward_order_backward_pass_on_zeros(capsys):
    record = graph_json(capsys, "--example", "neuron", "--bug", "forward-order-backward")
    assert record["bugs"] == ["forward-order-backward"]
    leaves = [n for n in record["nodes"] if n["op"] == ""]
    assert all(n["grad"] == 0.0 for n in leaves)
    assert any(n["numerical"] != 0.0 for n in leaves)
    assert record["events"][0]["node_grad"] == 0.0


def test_dot_has_a_record_per_value_and_a_node_per_op(capsys):
    code, out, err = run_cli(capsys, "graph", "--example", "first", "--dot")
    assert (code, err) == (0, "")
    assert out.startswith("digraph G {") and out.rstrip().endswith("}")
    assert out.count("shape=record") == 7
    assert out.count("shape=circle") == 3
    assert '"{ a | data 2.0000 | grad 6.0000 | numerical 6.0000 }"' in out
    assert "n0 -> n2op;" in out and "n2op -> n2;" in out  # a feeds the * that makes e


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dot_output_is_drawn_by_graphviz(capsys):
    for argv in (["--example", "neuron"], ["--model", "--sample", "2"]):
        code, out, _ = run_cli(capsys, "graph", *argv, "--dot")
        assert code == 0
        drawn = subprocess.run(
            ["dot", "-Tsvg"], input=out, capture_output=True, text=True, check=False
        )
        assert drawn.returncode == 0 and "<svg" in drawn.stdout, drawn.stderr


# -- model graphs ------------------------------------------------------------------------


def test_model_sample_terms_add_up_to_trains_step_1_loss_on_the_tutorial(capsys):
    code, out, _ = run_cli(capsys, "train", "--steps", "1", "--json")
    assert code == 0
    steps, _ = parse_json_lines(out)
    terms = []
    for sample in range(1, 5):
        record = graph_json(capsys, "--model", "--sample", str(sample))
        output = record["nodes"][record["output"]]
        assert output["label"] == "loss term" and record["sample"] == sample
        terms.append(output["data"])
    total = 0.0
    for term in terms:
        total += term
    assert total == steps[0]["loss"]
    assert record["loss"] == steps[0]["loss"]


def test_model_graph_after_steps_matches_train_at_that_step(capsys):
    flags = ["--dataset", "moons", "--hidden", "3", "--loss", "mse", "--seed", "2"]
    code, out, _ = run_cli(capsys, "train", *flags, "--steps", "4", "--json")
    assert code == 0
    steps, _ = parse_json_lines(out)
    record = graph_json(capsys, "--model", *flags, "--steps", "3", "--sample", "5")
    assert record["step"] == 3
    assert record["loss"] == steps[3]["loss"]  # step 4's loss is at the weights after 3
    n = record["samples"]
    assert record["nodes"][record["output"]]["label"] == f"loss term (sample loss / {n})"


def test_model_parameters_are_labelled_as_the_dashboard_names_them(capsys):
    record = graph_json(capsys, "--model", "--sample", "3")
    sizes = (3, 4, 4, 1)
    expected = [
        ParameterRef(layer, neuron, column, nin).describe()
        for layer, (nin, nout) in enumerate(itertools.pairwise(sizes))
        for neuron in range(nout)
        for column in range(nin + 1)
    ]
    labels = [n["label"] for n in record["nodes"] if n.get("kind") in ("weight", "bias")]
    assert sorted(labels) == sorted(expected)
    assert [n["label"] for n in record["nodes"] if n.get("kind") == "input"] == ["x1", "x2", "x3"]


def test_model_text_collapses_neurons_and_expand_shows_every_op(capsys):
    code, out, _ = run_cli(capsys, "graph", "--model", "--sample", "1")
    assert code == 0
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    record = graph_json(capsys, "--model", "--sample", "1")
    ops = [n for n in record["nodes"] if n.get("kind") == "neuron"]
    neuron_rows = [r for r in rows if ": h" in r or ": ypred" in r]
    assert len(neuron_rows) == 9  # 4 + 4 + 1 neurons, one line each
    assert "layer 1, neuron 1: h1       tanh(Σ w·x + b = " in out
    assert len(rows) == 3 + 41 + 9 + 3  # inputs, parameters, neurons, the loss's nodes
    code, out, _ = run_cli(capsys, "graph", "--model", "--sample", "1", "--expand")
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == len(record["nodes"]) > 3 + 41 + len(ops) - 1
    assert "w[x1] * x1" in out
    assert "the loss at these weights, " in out and "is the sum of all 4 samples' terms" in out


# -- refusals: one line, exit 2 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], ["give an expression, --example NAME, or --model"]),
        (["a*b", "--let", "a=1"], ["no value for leaf b: give --let b=NUMBER"]),
        (["a*b", "--let", "a=1", "--let", "b"], ["--let 'b': expected NAME=NUMBER"]),
        (["a*b", "--let", "a=1", "--let", "a=2"], ["--let a is given twice"]),
        (["a*b", "--let", "a=x", "--let", "b=1"], ["--let a: 'x' is not a number"]),
        (["a*b", "--let", "a=nan", "--let", "b=1"], ["'nan' is not a finite number"]),
        (["a*b", "--let", "z=1"], ["--let z: 'z' is not a leaf", "(its leaves: a, b)"]),
        (["--example", "nope"], ["unknown example 'nope'", "first"]),
        (["a", "--example", "first"], ["EXPR and --example both choose the graph"]),
        (["--model", "--example", "first"], ["--example and --model both choose"]),
        (["--example", "first", "--json", "--dot"], ["--dot: not allowed with argument --json"]),
        (["--example", "first", "--sample", "2"], ["--sample applies to --model graphs"]),
        (["--example", "first", "--hidden", "2"], ["--hidden applies to --model graphs"]),
        (["--example", "first", "--expand"], ["--expand applies to --model graphs"]),
        (["--model", "--let", "a=1"], ["--let gives leaves of an expression"]),
        (["--model", "--sample", "5"], ["--sample 5: the training set has 4 samples (1 to 4)"]),
        (["--model", "--sample", "0"], ["--sample: samples are counted from 1, got 0"]),
        (["--model", "--sample", "x"], ["--sample: expected a whole number, got 'x'"]),
        (["--model", "--steps", "-1"], ["--steps: must be >= 0, got -1"]),
        (["--model", "--dataset", "nope"], ["--dataset"]),
        (["--list-examples", "--json"], ["--list-examples takes no other flag"]),
        (["--bug", "nope", "--example", "first"], ["unknown bug 'nope'"]),
        (["a +"], ["line 1, column 4: syntax error"]),
        (["log(a)", "--let", "a=-1"], ["line 1, column 1: log(-1): log needs a positive number"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    assert_one_line_error(*run_cli(capsys, "graph", *argv), *words)


def test_every_run_flag_but_bug_is_refused_for_an_expression(capsys):
    flags = run_flags()
    assert set(flags) == set(RUN_FLAG_VALUES)
    for dest, flag in flags.items():
        code, out, err = run_cli(capsys, "graph", "--example", "first", flag, RUN_FLAG_VALUES[dest])
        if dest == "bug":  # an engine bug applies to an expression's graph too
            assert code == 0, err
        else:
            assert_one_line_error(code, out, err, f"{flag} applies to --model graphs")


@pytest.mark.parametrize("bug_id", LOOP_BUGS)
@pytest.mark.parametrize("source", [["--example", "reuse"], ["--model"]])
def test_training_loop_bugs_are_refused_with_where_they_live(capsys, bug_id, source):
    code, out, err = run_cli(capsys, "graph", *source, "--bug", bug_id)
    assert_one_line_error(code, out, err, f"bug {bug_id} lives in the training loop")


def test_a_saved_run_with_a_loop_bug_graphs_with_its_engine_bugs_and_says_so(capsys, tmp_path):
    saved = tmp_path / "run.json"
    bugs = ["--bug", "skip-zero-grad", "--bug", "tanh-derivative"]
    code, *_ = run_cli(capsys, "train", *bugs, "--steps", "2", "--save", str(saved))
    assert code == 0
    code, out, err = run_cli(capsys, "graph", "--model", "--load", str(saved), "--sample", "2")
    assert code == 0, err
    assert "at step 2" in out and "bugs on: tanh-derivative" in out
    assert "also on in this run: skip-zero-grad (in the training loop, not in a graph)" in out


# The constructs the issue lists, each refused by name and column.
REFUSED = [
    ("a.data", "line 1, column 1: attribute access '.data' is not allowed"),
    ("a.__class__", "line 1, column 1: attribute access '.__class__' is not allowed"),
    ("x = open('f')", "line 1, column 5: call to 'open' is not allowed"),
    ("x = a[0]", "line 1, column 5: subscript '[...]' is not allowed"),
    ("f = lambda: a", "line 1, column 5: lambda is not allowed"),
    ("[a for a in b]", "line 1, column 1: list comprehension is not allowed"),
    ("tanh({a for a in b})", "line 1, column 6: set comprehension is not allowed"),
    ("x = 'text' * a", "line 1, column 5: string 'text' is not allowed"),
    ("import os", "line 1, column 1: import is not allowed"),
    ("a = 1\nfrom os import path", "line 2, column 1: import is not allowed"),
    ("x = __name__", "line 1, column 5: dunder name '__name__' is not allowed"),
    ("__import__('os')", "line 1, column 1: dunder name '__import__' is not allowed"),
]


def _attempts() -> list[str]:
    text = ATTEMPTS.read_text(encoding="utf-8")
    blocks = [block.strip("\n") for block in text.split("\n----\n")[1:]]
    return [block for block in blocks if block]


# Audit events while the command runs; None when not watching.
_seen: list[tuple[str, tuple]] | None = None


def _audit(event: str, args) -> None:
    if _seen is not None and not event.startswith(("object.__getattr__", "builtins.id")):
        _seen.append((event, args))


sys.addaudithook(_audit)


def watched_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """run_cli, failing on any event but ast.parse's (compile, and its look for a file)."""
    global _seen
    _seen = []
    try:
        result = run_cli(capsys, "graph", *argv)
    finally:
        events, _seen = _seen, None
    unexpected = [
        (e, a) for e, a in events if e != "compile" and not (e == "open" and a[0] == "<expression>")
    ]
    assert unexpected == []
    return result


@pytest.mark.parametrize(("source", "message"), REFUSED)
def test_every_listed_construct_is_refused_by_name_and_column(capsys, source, message):
    code, out, err = watched_cli(capsys, source)
    assert_one_line_error(code, out, err, message)


def test_every_code_execution_attempt_is_refused_in_process(capsys, tmp_path):
    attempts = _attempts()
    assert len(attempts) >= 50
    marker = tmp_path / "pwned"
    for attempt in attempts:
        code, out, err = watched_cli(capsys, attempt.replace("MARKER", str(marker)))
        assert_one_line_error(code, out, err, "micrograd-tui graph: error: line ")
        assert not marker.exists(), attempt
    assert list(tmp_path.iterdir()) == []


RUN_ALL = """
import json, sys
from tui.main import main
marker, attempts = sys.argv[1], json.loads(sys.stdin.read())
results = []
for attempt in attempts:
    try:
        code = main(["graph", attempt.replace("MARKER", marker)])
    except SystemExit as done:
        code = done.code
    results.append(code)
print(json.dumps(results), file=sys.__stdout__)
"""


def test_code_execution_attempts_leave_no_trace_on_the_machine(tmp_path):
    """The attempts file in a fresh process: exit 2 each, one stderr line each, no file made."""
    attempts = _attempts()
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    marker = work / "pwned"
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-c", RUN_ALL, str(marker)],
        input=json.dumps(attempts),
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=120,
        check=False,
    )
    *_, last = done.stdout.splitlines()
    assert json.loads(last) == [2] * len(attempts), done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(attempts)
    assert all(line.startswith("micrograd-tui graph: error: line ") for line in lines)
    assert "Traceback" not in done.stderr
    assert list(work.iterdir()) == [] and list(home.iterdir()) == []


def test_hostile_sizes_are_refused_in_one_line(capsys, monkeypatch):
    megabyte = "a+" * 500_000 + "a"
    code, out, err = run_cli(capsys, "graph", megabyte)
    assert_one_line_error(code, out, err, f"characters long; the limit is {MAX_CHARS}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(megabyte))
    code, out, err = run_cli(capsys, "graph", "-")
    assert_one_line_error(code, out, err, f"stdin: the expression is over {MAX_CHARS}")
    for source in ("(" * 300 + "a" + ")" * 300, "a" + "+a" * 999, "-" * 1999 + "a"):
        code, out, err = run_cli(capsys, "graph", "--let", "a=1", "--", source)
        assert_one_line_error(code, out, err, "line 1, column ")


def test_undecodable_bytes_and_long_names_stay_one_short_line(capsys):
    code, out, err = run_cli(capsys, "graph", "a*\udcff", "--let", "a=1")  # argv of b"a*\xff"
    assert_one_line_error(code, out, err, "line 1, column 3: a byte that is not valid UTF-8")
    code, out, err = run_cli(capsys, "graph", "a" * 1999, "--let", "a=1")
    assert_one_line_error(code, out, err, "(its leaves: aaaaaaaaaaaaaaaaaaaaaaaaaaa...)")
    assert len(err) < 200
    many = "+".join(f"v{i}" for i in range(300))
    code, out, err = run_cli(capsys, "graph", many)
    assert_one_line_error(code, out, err, "no value for leaf v0, v1, v2, v3, v4 and 295 more")


@pytest.mark.parametrize("source", ["1if a else b", "1or a", "a is 1", "'\\d' * a"])
def test_python_syntax_warnings_never_add_a_second_line(capsys, source):
    assert_one_line_error(*run_cli(capsys, "graph", source, "--let", "a=1"), "is not allowed")


def test_let_names_are_read_as_python_reads_identifiers(capsys):
    nodes = by_label(graph_json(capsys, "ａ*2", "--let", "ａ=1.5"))  # fullwidth a: NFKC "a"
    assert nodes["a"]["grad"] == 2.0


def test_huge_exponents_and_unicode_names_just_work(capsys):
    nodes = by_label(graph_json(capsys, "y = 2 ** 10 ** 10 * α", "--let", "α=1"))
    assert nodes["y"]["data"] == "inf" and nodes["α"]["grad"] == "inf"
    code, out, _ = run_cli(capsys, "graph", "y = 2 ** 10 ** 10 * α", "--let", "α=1")
    assert code == 0 and " inf " in out


def test_a_bug_prints_where_backward_first_differs(capsys):
    code, out, _ = run_cli(capsys, "graph", "b = a + a", "--let", "a=3", "--bug", "overwrite-grad")
    assert code == 0
    assert "first difference: a.grad = 1, correct 2 (update 2 of backward()" in out
    code, out, _ = run_cli(capsys, "graph", "--example", "neuron", "--bug", "tanh-derivative")
    assert "first difference: n.grad = 0.292893, correct 0.5 (update 1 of" in out
    code, out, _ = run_cli(capsys, "graph", "--example", "neuron", "--bug", "overwrite-grad")
    assert "first difference: none: this backward() writes what a correct one writes" in out
    code, out, _ = run_cli(capsys, "graph", "--example", "neuron")
    assert "first difference" not in out


def test_json_gives_the_first_difference_or_null(capsys):
    _, out, _ = run_cli(
        capsys, "graph", "b = a + a", "--let", "a=3", "--bug", "overwrite-grad", "--json"
    )
    assert json.loads(out)["first_difference"] == {
        "node": 0,
        "label": "a",
        "event": 1,
        "buggy": 1.0,
        "correct": 2.0,
    }
    _, out, _ = run_cli(capsys, "graph", "--example", "neuron", "--json")
    assert json.loads(out)["first_difference"] is None
