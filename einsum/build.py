"""Semantic checks that turn parsed statements into a Cascade (or a located EinsimError)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from einsim.errors import EinsimError, Location, did_you_mean
from einsim.einsum import syntax as sx
from einsim.einsum.affine import Affine, Condition, to_affine, to_conditions
from einsim.einsum.sizes import FLOAT_MAX
from einsim.einsum.cascade import (FUNCTIONS, UNARY_FUNCS, Cascade, Einsum, Operand, Tensor,
                                   digraph, file_order_topological_sort)


@dataclass
class TensorDecl:
    name: str
    ranks: tuple[str, ...]
    location: Location


@dataclass
class StopDecl:
    conditions: tuple[sx.Compare, ...]
    text: str
    location: Location


def _col(where: Location, col: int) -> Location:
    return Location(where.file, where.line, (where.column or 1) + col - 1) if where.line else Location(where.file, 0, col)


class _Builder:
    def __init__(self, ranks: dict[str, int], params: dict[str, float], decls: dict[str, TensorDecl]):
        self.ranks = ranks
        self.params = params
        self.decls = decls
        self.symbols: dict[str, float] = {**params, **ranks}

    # -- tensors --------------------------------------------------------------------------
    def check_decls(self) -> None:
        for decl in self.decls.values():
            if not decl.name[:1].isupper():
                raise EinsimError(f"tensor names start with an upper-case letter: {decl.name!r}", decl.location)
            for rank in decl.ranks:
                if rank not in self.ranks:
                    raise EinsimError(
                        f"tensor {decl.name} uses unknown rank {rank!r}" + did_you_mean(rank, self.ranks), decl.location
                    )

    def access(self, acc: sx.Access, where: Location, role: str) -> tuple[Affine, ...]:
        if acc.tensor not in self.decls:
            raise EinsimError(
                f"unknown tensor {acc.tensor!r} ({role})" + did_you_mean(acc.tensor, self.decls), _col(where, acc.col)
            )
        decl = self.decls[acc.tensor]
        if len(acc.indices) != len(decl.ranks):
            raise EinsimError(
                f"{acc.tensor} has {len(decl.ranks)} rank(s) [{', '.join(decl.ranks)}] "
                f"but is indexed with {len(acc.indices)}",
                _col(where, acc.col),
            )
        return tuple(to_affine(ix.expr, self.symbols, where) for ix in acc.indices)

    # -- one statement --------------------------------------------------------------------
    def einsum(self, st: sx.Statement, init: bool, name: str) -> Einsum:
        where = st.location
        out_index = self.access(st.output, where, "output")
        for ix in st.output.indices:
            if ix.filter:
                raise EinsimError("filters belong on right-hand-side operands, not on the output", where)
        operands: list[Operand] = []
        filters: list[Condition] = []
        for acc in sx.accesses_in(st.expr):
            operands.append(Operand(acc.tensor, self.access(acc, where, "operand")))
            for ix in acc.indices:
                filters.extend(to_conditions(ix.filter, self.symbols, where))
        index_vars = {v for a in out_index for v in a.vars} | {v for o in operands for a in o.index for v in a.vars}
        self.check_names(st.expr, where, index_vars)

        var_size: dict[str, int] = {}
        var_where: dict[str, str] = {}
        order: list[str] = []
        for tensor, index in [(st.output.tensor, out_index)] + [(o.tensor, o.index) for o in operands]:
            for rank, aff in zip(self.decls[tensor].ranks, index):
                for var in aff.vars:
                    if var not in order:
                        order.append(var)
                direct = aff.is_var or aff.successor_of()
                if direct:
                    size = self.ranks[rank]
                    if direct in var_size and var_size[direct] != size:
                        raise EinsimError(
                            f"index {direct!r} ranges over {var_where[direct]} (size {var_size[direct]}) and over "
                            f"rank {rank} of {tensor} (size {size}); one index cannot have two sizes",
                            where,
                        )
                    var_size.setdefault(direct, size)
                    var_where.setdefault(direct, f"rank {rank} of {tensor}")
        for cond in filters:
            for var in sorted(cond.vars):
                if var not in order:
                    raise EinsimError(f"filter {cond} uses index {var!r}, which no tensor access uses", where)
        for var in order:
            if var not in var_size:
                upper = var.upper()
                if upper not in self.ranks:
                    raise EinsimError(
                        f"cannot tell the range of index {var!r}: use it alone at some tensor position, "
                        f"or declare a rank {upper}",
                        where,
                    )
                var_size[var] = self.ranks[upper]
        out_vars = [v for v in order if any(v in a.vars for a in out_index)]
        reduced = [v for v in order if v not in out_vars]
        reduce_op, top_k = "sum", 0
        if st.reduce is not None:
            reduce_op, top_k = st.reduce.op, st.reduce.k
            if st.reduce.k_name is not None:
                k_value = self.symbols.get(st.reduce.k_name)
                if k_value is None or k_value != int(k_value) or k_value < 1:
                    raise EinsimError(
                        f"'top {st.reduce.k_name}': {st.reduce.k_name} must be a declared positive whole size"
                        + ("" if k_value is not None else did_you_mean(st.reduce.k_name, self.symbols)),
                        _col(where, st.reduce.col),
                    )
                top_k = int(k_value)
            for var in st.reduce.over:
                if var not in order:
                    raise EinsimError(
                        f"'{st.reduce.op} over {var}': {var!r} is not an index of this Einsum"
                        + did_you_mean(var, order),
                        _col(where, st.reduce.col),
                    )
            if reduce_op == "top":
                if st.reduce.over[0] not in out_vars:
                    raise EinsimError(
                        f"'top {top_k} over {st.reduce.over[0]}' selects along a rank the output keeps; "
                        f"{st.reduce.over[0]!r} must index the output",
                        _col(where, st.reduce.col),
                    )
                if reduced:
                    raise EinsimError(f"'top' cannot be combined with a reduction over {', '.join(reduced)}", where)
            else:
                kept = [v for v in st.reduce.over if v in out_vars]
                if kept:
                    raise EinsimError(
                        f"'{reduce_op} over {', '.join(st.reduce.over)}' reduces {kept[0]!r}, which the output "
                        f"{st.output.tensor} keeps",
                        _col(where, st.reduce.col),
                    )
                missing = [v for v in reduced if v not in st.reduce.over]
                if missing:
                    raise EinsimError(
                        f"index {missing[0]!r} is absent from the output and so reduced, but "
                        f"'{reduce_op} over {', '.join(st.reduce.over)}' does not list it",
                        _col(where, st.reduce.col),
                    )
        space = {v: var_size[v] for v in out_vars + reduced}
        for v, n in space.items():
            if n < 1:
                raise EinsimError(f"index {v!r} has size {n}; ranks need a positive size", where)
        dense = math.prod(space.values())
        if dense > FLOAT_MAX:
            raise EinsimError(
                f"{name}'s iteration space has about 10^{len(str(dense)) - 1} points, beyond the float range "
                "(about 1.8e308) the cost model computes in; use smaller sizes", where)
        return Einsum(
            name=name, output=st.output.tensor, out_index=out_index, expr=st.expr, reduce=reduce_op, top_k=top_k,
            space=space, reduced=tuple(reduced), operands=tuple(operands), filters=tuple(filters), init=init,
            text=st.text.strip(), location=where,
            top_over=st.reduce.over[0] if reduce_op == "top" else None,
        )

    def check_names(self, expr: sx.Expr, where: Location, index_vars: set[str]) -> None:
        def walk(e: sx.Expr) -> None:
            if isinstance(e, sx.Name):
                if e.name in index_vars:
                    raise EinsimError(
                        f"index {e.name!r} used as a value; only sizes, parameters and tensors can be",
                        _col(where, e.col),
                    )
                if e.name not in self.symbols:
                    raise EinsimError(
                        f"unknown name {e.name!r}" + did_you_mean(e.name, list(self.symbols) + list(self.decls)),
                        _col(where, e.col),
                    )
            elif isinstance(e, sx.Call):
                if e.func not in FUNCTIONS:
                    raise EinsimError(f"unknown operator {e.func}()" + did_you_mean(e.func, FUNCTIONS), _col(where, e.col))
                want = 1 if e.func in UNARY_FUNCS else 2
                if len(e.args) != want:
                    raise EinsimError(f"{e.func}() takes {want} argument(s), got {len(e.args)}", _col(where, e.col))
                for a in e.args:
                    walk(a)
            elif isinstance(e, sx.Neg):
                walk(e.operand)
            elif isinstance(e, sx.BinOp):
                walk(e.left)
                walk(e.right)

        walk(expr)


def _tensor_shapes(decls: dict[str, TensorDecl], ranks: dict[str, int], einsums: list[Einsum]) -> dict[str, Tensor]:
    iterative: dict[str, dict[int, str]] = {name: {} for name in decls}
    for e in einsums:
        for dim, aff in enumerate(e.out_index):
            var = aff.successor_of()
            if var is not None:
                previous = iterative[e.output].get(dim)
                if previous is not None and previous != var:
                    raise EinsimError(f"{e.output} dimension {dim} iterates over both {previous} and {var}", e.location)
                iterative[e.output][dim] = var
    return {
        name: Tensor(name, d.ranks, tuple(ranks[r] for r in d.ranks), tuple(sorted(iterative[name].items())))
        for name, d in decls.items()
    }


def _check_bounds(e: Einsum, tensors: dict[str, Tensor]) -> None:
    if e.filters:
        return  # filtered accesses may be out of range where the filter excludes them; checked at run time
    accesses = [(e.output, e.out_index)] + [(o.tensor, o.index) for o in e.operands]
    for tensor, index in accesses:
        t = tensors[tensor]
        for dim, (aff, extent) in enumerate(zip(index, t.extents)):
            lo, hi = aff.bounds(e.space)
            if lo < 0 or hi >= extent:
                raise EinsimError(
                    f"{tensor}[...{aff}...] reaches coordinates {lo}..{hi} of rank {t.ranks[dim]}, "
                    f"whose extent is {extent} (0..{extent - 1}); check the rank sizes",
                    e.location,
                )


def build_cascade(
    *,
    name: str,
    file: str,
    ranks: dict[str, int],
    params: dict[str, float],
    decls: dict[str, TensorDecl],
    init: list[sx.Statement],
    body: list[sx.Statement],
    stops: list[StopDecl],
    meta: dict,
) -> Cascade:
    """Validate the parsed pieces of a workload and assemble the Cascade."""
    b = _Builder(ranks, params, decls)
    b.check_decls()
    einsums: list[Einsum] = []
    names: dict[str, Location] = {}
    for st, is_init in [(s, True) for s in init] + [(s, False) for s in body]:
        default = f"{st.output.tensor}_init" if is_init else st.output.tensor
        nm = st.name or default
        if nm in names:
            raise EinsimError(
                f"two Einsums are named {nm!r} (the other at line {names[nm].line}); name one with 'NAME: ...'",
                st.location,
            )
        names[nm] = st.location
        einsums.append(b.einsum(st, is_init, nm))

    tensors = _tensor_shapes(decls, ranks, einsums)
    iter_vars = {var for t in tensors.values() for _, var in t.iterative}

    # writers: one per tensor, plus one init for an iterative tensor
    writers: dict[str, list[Einsum]] = {}
    for e in einsums:
        writers.setdefault(e.output, []).append(e)
    for tensor, ws in writers.items():
        body_writers = [w for w in ws if not w.init]
        init_writers = [w for w in ws if w.init]
        if len(body_writers) > 1 or len(init_writers) > 1:
            raise EinsimError(f"tensor {tensor} is written by {ws[0].name} and {ws[1].name}; a tensor has one writer", ws[1].location)
        if tensors[tensor].iterative and not init_writers:
            dim, var = tensors[tensor].iterative[0]
            raise EinsimError(
                f"{tensor} is iterative over {var} but has no initial value: add '{tensor}[...0...] = ...' "
                f"(0 at dimension {dim}) under init:",
                body_writers[0].location,
            )
        if init_writers and body_writers and not tensors[tensor].iterative:
            raise EinsimError(
                f"{tensor} is written under init: and again by {body_writers[0].name}, but no write is of the "
                f"form {tensor}[i+1, ...]",
                body_writers[0].location,
            )
    for t in decls:
        used = t in writers or any(op.tensor == t for e in einsums for op in e.operands)
        if not used:
            raise EinsimError(f"tensor {t} is declared but never used", decls[t].location)

    # iterative variables per Einsum (at most one)
    for e in einsums:
        found = [v for v in e.space if v in iter_vars]
        if len(found) > 1:
            raise EinsimError(f"{e.name} uses two iterative indices ({', '.join(found)}); nest them in two Einsums", e.location)
        e.iteration_var = found[0] if found else None
        if e.init and e.iteration_var and any(a.successor_of() for a in e.out_index):
            raise EinsimError(f"an init statement cannot write {e.output}[{e.iteration_var}+1, ...]", e.location)
        _check_bounds(e, tensors)

    # stop conditions: one per iterative index, consistent with its rank size
    iterations: dict[str, int] = {}
    for stop in stops:
        if len(stop.conditions) != 1 or len(stop.conditions[0].ops) != 1 or stop.conditions[0].ops[0] != ">=":
            raise EinsimError(f"a stop condition reads 'i >= N' (one comparison), got {stop.text!r}", stop.location)
        cmp = stop.conditions[0]
        var = to_affine(cmp.operands[0], b.symbols, stop.location).is_var
        if var is None:
            raise EinsimError(f"a stop condition starts with an index variable: {stop.text!r}", stop.location)
        if var not in iter_vars:
            raise EinsimError(
                f"stop condition for {var!r}, which is not iterative (no write of the form X[{var}+1, ...])"
                + did_you_mean(var, iter_vars),
                stop.location,
            )
        bound = to_affine(cmp.operands[1], b.symbols, stop.location)
        if not bound.is_const:
            raise EinsimError(f"the bound of a stop condition must be a size, got {bound}", stop.location)
        sizes = {e.space[var] for e in einsums if var in e.space}
        if sizes and bound.const not in sizes:
            raise EinsimError(
                f"stop condition {var} >= {bound.const} disagrees with the range of {var} ({sizes.pop()})", stop.location
            )
        iterations[var] = bound.const
    for var in sorted(iter_vars - set(iterations)):
        loc = next(e.location for e in einsums if var in e.space)
        raise EinsimError(f"iterative index {var!r} has no stop condition: add 'stop: {var} >= {var.upper()}'", loc)

    # dependency graph: (writer, reader) -> tensors
    edges: dict[tuple[str, str], list[str]] = {}
    loop_edges: list[tuple[str, str, str]] = []
    for reader in einsums:
        for op in reader.operands:
            t = tensors[op.tensor]
            carried = {d for d, v in t.iterative if op.index[d].is_var == v}
            for writer in writers.get(op.tensor, []):
                if carried and not writer.init:
                    loop_edges.append((writer.name, reader.name, op.tensor))
                    continue
                if writer is reader:
                    raise EinsimError(f"{reader.name} reads its own output {op.tensor} in the same step", reader.location)
                edges.setdefault((writer.name, reader.name), []).append(op.tensor)
    if file_order_topological_sort([e.name for e in einsums], edges) is None:
        _raise_cycle(einsums, edges)

    # partitioned ranks: rank R indexed by an expression over indices of other ranks
    partitions: dict[str, set[str]] = {}
    for e in einsums:
        accesses = [(e.output, e.out_index)] + [(o.tensor, o.index) for o in e.operands]
        var_rank: dict[str, str] = {}
        for tensor, index in accesses:
            for rank, aff in zip(tensors[tensor].ranks, index):
                if aff.is_var or aff.successor_of():
                    var_rank.setdefault(aff.is_var or aff.successor_of(), rank)
        for tensor, index in accesses:
            for rank, aff in zip(tensors[tensor].ranks, index):
                if len(aff.terms) > 1 and any(abs(c) > 1 for _, c in aff.terms):
                    subs = {var_rank[v] for v in aff.vars if v in var_rank and var_rank[v] != rank}
                    partitions.setdefault(rank, set()).update(subs)

    return Cascade(
        name=name, file=file, ranks=dict(ranks), params=dict(params), tensors=tensors, einsums=einsums,
        iterations=iterations, edges=edges, loop_edges=loop_edges,
        partitions={r: tuple(sorted(s)) for r, s in partitions.items()}, **meta,
    )


def _raise_cycle(einsums: list[Einsum], edges: dict[tuple[str, str], list[str]]) -> None:
    """The error of a cyclic cascade, naming one cycle (networkx's find_cycle)."""
    import networkx as nx

    cycle = nx.find_cycle(digraph([e.name for e in einsums], edges))
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    first = next(e for e in einsums if e.name == cycle[0][0])
    raise EinsimError(f"the Einsums form a cycle: {path}", first.location)
