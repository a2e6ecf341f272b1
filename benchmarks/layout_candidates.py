"""Measure the Graph screen's layout candidates on the same graphs (docs/graph-layout.md).

Not part of ``make bench``: netext and grandalf are not dependencies. Run it in a
side environment that has them::

    python -m venv /tmp/lv && /tmp/lv/bin/pip install netext==0.5.0 grandalf==0.8 -e .
    /tmp/lv/bin/python -m benchmarks.layout_candidates

Each candidate lays out (and netext also draws) the lecture's neuron and one
moons sample's graph, every node expanded (the worst case the screen can show).
"""

from __future__ import annotations

import io
import statistics
import time

from engine.inspect.expr import EXAMPLES
from engine.inspect.graph import expression_graph, model_graph
from tui.cli.config import PRESETS, RunConfig
from tui.graphview.layout import Item, layout


def graphs():
    ex = EXAMPLES["neuron"]
    yield "neuron", expression_graph(ex.source, ex.values)
    config = RunConfig(dataset="moons", session=PRESETS["moons"])
    session = config.build_session()
    params = session.snapshot().parameters
    yield "moons sample", model_graph(config.session, params, session.xs, session.ys, 0)


def timed(fn, repeats: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def ours(graph) -> None:
    items = [Item(n.id, len(n.label) + 20, n.children) for n in graph.nodes]
    result = layout(items)
    result.lines()


def grandalf(graph) -> None:
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        w, h = 24, 1

    vertices = [Vertex(n.id) for n in graph.nodes]
    for v in vertices:
        v.view = View()
    edges = [Edge(vertices[c], vertices[n.id]) for n in graph.nodes for c in set(n.children)]
    g = Graph(vertices, edges)
    for component in g.C:
        sug = SugiyamaLayout(component)
        sug.init_all()
        sug.draw()


def netext(graph) -> None:
    from netext import ConsoleGraph
    from netext.layout_engines import LayoutDirection, SugiyamaLayout
    from rich.console import Console

    nodes = {
        n.id: {"$content": f"{n.label or n.op} {n.data:.4f} {n.grad:.4f}"} for n in graph.nodes
    }
    edges = [(c, n.id) for n in graph.nodes for c in set(n.children)]
    console = Console(file=io.StringIO(), width=400)
    console.print(
        ConsoleGraph(nodes, edges, layout_engine=SugiyamaLayout(LayoutDirection.LEFT_RIGHT))
    )


def main() -> None:
    for name, graph in graphs():
        print(f"{name}: {len(graph.nodes)} nodes")
        for label, fn in (("ours", ours), ("grandalf 0.8", grandalf), ("netext 0.5.0", netext)):
            repeats = 5 if len(graph.nodes) < 100 else 3
            try:
                median, worst = timed(lambda fn=fn, graph=graph: fn(graph), repeats)
            except Exception as err:  # noqa: BLE001 -- a candidate that fails is a result too
                print(f"  {label:14} failed: {type(err).__name__}: {err}")
                continue
            print(f"  {label:14} median {median * 1000:9.1f} ms   worst {worst * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
