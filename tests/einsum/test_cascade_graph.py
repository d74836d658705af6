"""The cascade's dependency DAG without networkx: its order is networkx's lexicographical topological
sort keyed by the file order, its ``graph`` the same DiGraph the parser used to build, and parsing
does not load networkx."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.designs import names
from einsim.einsum import load_workload
from einsim.einsum.cascade import file_order_topological_sort


def _nx_order(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    position = {n: i for i, n in enumerate(nodes)}
    return list(nx.lexicographical_topological_sort(graph, key=lambda n: position[n]))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.permutations([f"E{i}" for i in range(n)]),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_the_order_is_networkx_lexicographical_sort_on_random_dags(case) -> None:
    order, pairs = case
    # edges run from an earlier to a later name of a random ranking: a DAG whose file order differs
    rank = sorted(order)
    edges = [(rank[a], rank[b]) for a, b in pairs if a < b]
    assert file_order_topological_sort(list(order), edges) == _nx_order(list(order), edges)


def test_a_cycle_has_no_order() -> None:
    assert file_order_topological_sort(["A", "B", "C"], [("A", "B"), ("B", "C"), ("C", "B")]) is None


@pytest.mark.parametrize("workload", names("workloads"))
def test_bundled_workloads_order_and_graph_as_with_networkx(workload: str) -> None:
    cascade = load_workload(workload)
    nodes = [e.name for e in cascade.einsums]
    assert [e.name for e in cascade.topological_order()] == _nx_order(nodes, list(cascade.edges))
    graph = cascade.graph
    assert list(graph.nodes) == nodes
    assert {(u, v): d["tensors"] for u, v, d in graph.edges(data=True)} == cascade.edges
    assert all(t in cascade.tensors for tensors in cascade.edges.values() for t in tensors)


def test_parsing_and_ordering_a_cascade_does_not_load_networkx() -> None:
    code = ("import sys\nfrom einsim.einsum import load_workload\n"
            "c = load_workload('attention_1pass')\nprint(len(c.topological_order()), 'networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False" and int(out[0]) > 1
