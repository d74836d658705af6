"""Cascade: a validated DAG of extended Einsums over ranked tensors, with its analyses."""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from einsim.errors import EinsimError, Location, did_you_mean
from einsim.einsum import syntax as sx
from einsim.einsum.affine import Affine, Condition

UNARY_FUNCS = ("exp", "log", "silu", "gelu", "softplus", "sigmoid", "logsigmoid", "relu", "sqrt", "recip", "abs")
BINARY_FUNCS = ("max", "min")
FUNCTIONS = UNARY_FUNCS + BINARY_FUNCS

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Tensor:
    """A tensor of the cascade: its ranks, their sizes and its storage extents.

    A dimension written as ``X[i+1, ...]`` is iterative: it holds the initial value at 0 and one
    value per iteration, so its extent is the rank size plus one.
    """

    name: str
    ranks: tuple[str, ...]
    shape: tuple[int, ...]
    iterative: tuple[tuple[int, str], ...] = ()  # (dimension, iteration variable)

    @property
    def extents(self) -> tuple[int, ...]:
        dims = dict(self.iterative)
        return tuple(n + 1 if d in dims else n for d, n in enumerate(self.shape))

    @property
    def elements(self) -> int:
        total = 1
        for n in self.extents:
            total *= n
        return total


@dataclass(frozen=True)
class Operand:
    """One tensor read on the right-hand side, with its affine index per dimension."""

    tensor: str
    index: tuple[Affine, ...]


@dataclass
class Einsum:
    """One resolved extended Einsum: output access, expression, reduction and iteration space."""

    name: str
    output: str
    out_index: tuple[Affine, ...]
    expr: sx.Expr
    reduce: str  # "sum", "max", "min" or "top"
    top_k: int
    space: dict[str, int]  # index variable -> size, output variables first
    reduced: tuple[str, ...]
    operands: tuple[Operand, ...]
    filters: tuple[Condition, ...]
    init: bool
    text: str
    location: Location
    iteration_var: str | None = None  # the iterative variable in this Einsum's space, if any
    top_over: str | None = None  # for reduce == "top": the index selected along

    @property
    def kept(self) -> tuple[str, ...]:
        return tuple(v for v in self.space if v not in self.reduced)

    @property
    def dense_points(self) -> int:
        total = 1
        for n in self.space.values():
            total *= n
        return total

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(op.tensor for op in self.operands))


def file_order_topological_sort(names: list[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """``names`` in a dependency order of ``edges`` (writer, reader), ties broken by the order of
    ``names`` (networkx's lexicographical_topological_sort with that key); None on a cycle."""
    position = {n: i for i, n in enumerate(names)}
    readers: dict[str, list[str]] = {n: [] for n in names}
    waiting = dict.fromkeys(names, 0)
    for writer, reader in edges:
        readers[writer].append(reader)
        waiting[reader] += 1
    ready = [(position[n], n) for n in names if not waiting[n]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for reader in readers[name]:
            waiting[reader] -= 1
            if not waiting[reader]:
                heapq.heappush(ready, (position[reader], reader))
    return order if len(order) == len(names) else None


def digraph(names: list[str], edges: dict[tuple[str, str], list[str]]) -> nx.DiGraph:
    """The networkx DiGraph of ``names`` and ``edges`` (writer, reader) -> tensors (loaded here only)."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for (writer, reader), tensors in edges.items():
        graph.add_edge(writer, reader, tensors=tensors)
    return graph


@dataclass
class Cascade:
    """A validated cascade. ``edges`` is its dependency DAG: (writer, reader) -> the tensors the reader
    takes from the writer; ``graph`` is the same DAG as a networkx DiGraph (Einsums as nodes, tensors
    on edges), built on first use, so parsing and mapping a cascade do not load networkx.

    Loop-carried reads (``X[i]`` produced by ``X[i+1] = ...`` in the previous iteration) are not
    graph edges; they are listed in ``loop_edges``.
    """

    name: str
    file: str
    ranks: dict[str, int]
    params: dict[str, float]
    tensors: dict[str, Tensor]
    einsums: list[Einsum]
    iterations: dict[str, int]  # iterative variable -> iteration count (from its stop condition)
    edges: dict[tuple[str, str], list[str]]
    loop_edges: list[tuple[str, str, str]] = field(default_factory=list)  # (writer, reader, tensor)
    partitions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # rank -> sub-ranks
    source: str = ""
    description: str = ""
    reference: str | None = None
    check_sizes: dict[str, float] = field(default_factory=dict)
    datatype_bytes: int = 2
    spec: Any = None  # the loaded YAML, so the cascade can be rebuilt at other sizes
    overrides: dict[str, Any] = field(default_factory=dict)

    # -- lookups -----------------------------------------------------------------------
    def einsum(self, name: str) -> Einsum:
        for e in self.einsums:
            if e.name == name:
                return e
        raise EinsimError(f"no Einsum named {name!r}" + did_you_mean(name, [e.name for e in self.einsums]))

    def __iter__(self) -> Iterator[Einsum]:
        return iter(self.topological_order())

    @functools.cached_property
    def graph(self) -> nx.DiGraph:
        return digraph([e.name for e in self.einsums], self.edges)

    def topological_order(self) -> list[Einsum]:
        """Einsums in a dependency order; ties keep the file order (init block first)."""
        by_name = {e.name: e for e in self.einsums}
        names = file_order_topological_sort(list(by_name), self.edges)
        if names is None:
            raise EinsimError(f"the Einsums of {self.name} form a cycle")
        return [by_name[n] for n in names]

    def writers(self, tensor: str) -> list[Einsum]:
        return [e for e in self.einsums if e.output == tensor]

    @property
    def inputs(self) -> list[str]:
        written = {e.output for e in self.einsums}
        return [t for t in self.tensors if t not in written]

    @property
    def outputs(self) -> list[str]:
        read = {op.tensor for e in self.einsums for op in e.operands}
        return [t for t in self.tensors if t not in read and any(e.output == t for e in self.einsums)]

    def footprint_bytes(self, tensor: str, bytes_per_element: int | None = None) -> int:
        width = self.datatype_bytes if bytes_per_element is None else bytes_per_element
        return self.tensors[tensor].elements * width

    def rank_family(self, rank: str) -> set[str]:
        """The rank and every rank it is partitioned into, transitively (M -> M1, M0)."""
        family, todo = {rank}, [rank]
        while todo:
            for sub in self.partitions.get(todo.pop(), ()):
                if sub not in family:
                    family.add(sub)
                    todo.append(sub)
        return family

    def var_ranks(self, einsum: Einsum) -> dict[str, set[str]]:
        """For each index variable of an Einsum, the tensor ranks it indexes (directly or in a sum)."""
        out: dict[str, set[str]] = {v: set() for v in einsum.space}
        accesses = [(einsum.output, einsum.out_index)] + [(op.tensor, op.index) for op in einsum.operands]
        for tensor, index in accesses:
            for rank, aff in zip(self.tensors[tensor].ranks, index):
                for var in aff.vars:
                    out[var].add(rank)
        return out
