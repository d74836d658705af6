"""Static analysis of a Cascade: iteration-space points, op counts and FuseMax pass analysis."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from einsim.errors import EinsimError
from einsim.einsum import syntax as sx
from einsim.einsum.cascade import Cascade, Einsum

_ENUMERATION_LIMIT = 50_000_000  # points enumerated at most when counting a filtered space


# ----------------------------------------------------------------------------- points


def points(e: Einsum) -> int:
    """Iteration-space points of an Einsum that pass its filters (causal masks etc.)."""
    if not e.filters:
        return e.dense_points
    fvars = sorted({v for c in e.filters for v in c.vars}, key=lambda v: -e.space[v])
    rest = 1
    for v, n in e.space.items():
        if v not in fvars:
            rest *= n
    if not fvars:  # filters on constants only: all points or none
        return e.dense_points if all(bool(c.holds({})) for c in e.filters) else 0
    solved, others = fvars[0], fvars[1:]
    if any(c.op == "!=" for c in e.filters):
        solved, others = None, fvars
    combos = 1
    for v in others:
        combos *= e.space[v]
    if combos > _ENUMERATION_LIMIT:
        raise EinsimError(f"{e.name}: the filtered iteration space is too large to count ({combos} combinations)", e.location)
    env = {}
    for axis, v in enumerate(others):
        view = [1] * len(others)
        view[axis] = e.space[v]
        env[v] = np.arange(e.space[v]).reshape(view)
    shape = tuple(e.space[v] for v in others)
    if solved is None:
        mask = np.ones(shape, dtype=bool)
        for c in e.filters:
            mask &= np.broadcast_to(c.holds(env), shape)
        return int(mask.sum()) * rest
    n = e.space[solved]
    lo = np.zeros(shape, dtype=np.int64)
    hi = np.full(shape, n - 1, dtype=np.int64)
    for c in e.filters:
        # left - right = a*s + r  (op) 0
        a = dict(c.left.terms).get(solved, 0) - dict(c.right.terms).get(solved, 0)
        r = np.broadcast_to(
            np.asarray(c.left.evaluate({**env, solved: 0}) - c.right.evaluate({**env, solved: 0}), dtype=np.int64), shape
        )
        if a == 0:
            ok = np.broadcast_to(c.holds({**env, solved: 0}), shape)
            hi = np.where(ok, hi, -1)
            continue
        op = c.op
        if a < 0:  # a*s + r op 0  <=>  (-a)*s + (-r) flipped-op 0
            a, r = -a, -r
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}[op]
        # s op -r/a
        if op in ("<", "<="):
            if op == "<":
                bound = np.ceil((-r) / a).astype(np.int64) - 1
            else:
                bound = np.floor((-r) / a).astype(np.int64)
            hi = np.minimum(hi, bound)
        elif op in (">", ">="):
            if op == ">":
                bound = np.floor((-r) / a).astype(np.int64) + 1
            else:
                bound = np.ceil((-r) / a).astype(np.int64)
            lo = np.maximum(lo, bound)
        else:  # ==
            exact = np.mod(-r, a) == 0
            val = np.floor_divide(-r, a)
            lo = np.where(exact, np.maximum(lo, val), n)
            hi = np.where(exact, np.minimum(hi, val), -1)
    return int(np.clip(hi - lo + 1, 0, None).sum()) * rest


# ----------------------------------------------------------------------------- op counts


def _is_const(e: sx.Expr) -> bool:
    return not sx.accesses_in(e)


def _expr_ops(e: sx.Expr, counts: Counter) -> None:
    if _is_const(e):
        return
    if isinstance(e, sx.Neg):
        counts["add"] += 1
        _expr_ops(e.operand, counts)
    elif isinstance(e, sx.BinOp):
        counts[{"+": "add", "-": "add", "*": "mul", "/": "divide"}[e.op]] += 1
        _expr_ops(e.left, counts)
        _expr_ops(e.right, counts)
    elif isinstance(e, sx.Call):
        counts[e.func] += 1
        args = e.args
        if e.func == "exp" and isinstance(args[0], sx.BinOp) and args[0].op == "-":
            args = (args[0].left, args[0].right)  # EDGE's sub-then-exp is one operator
        for a in args:
            _expr_ops(a, counts)


def ops_per_point(e: Einsum) -> dict[str, int]:
    """Operations at one iteration-space point, by type (mac, add, mul, divide, max, exp, ...).

    A product accumulated by a sum reduction counts as one ``mac``; ``exp(a - b)`` is one ``exp``
    (EDGE's sub-then-exp operator: an op table prices the subtraction inside ``exp``); other
    reductions add one ``add``/``max``/``min`` per point; a copy or a constant populate counts nothing.
    """
    counts: Counter = Counter()
    _expr_ops(e.expr, counts)
    if e.reduced:
        if e.reduce == "sum":
            top = e.expr
            if isinstance(top, sx.BinOp) and top.op == "*" and not _is_const(top.left) and not _is_const(top.right):
                counts["mul"] -= 1
                counts["mac"] += 1
            else:
                counts["add"] += 1
        else:
            counts[e.reduce] += 1
    if e.reduce == "top":
        counts["max"] += 1
    return {k: v for k, v in sorted(counts.items()) if v}


def op_counts(e: Einsum) -> dict[str, int]:
    """Operations of one Einsum over its (filtered) iteration space; iterative Einsums count all steps."""
    n = points(e)
    return {k: v * n for k, v in ops_per_point(e).items()}


# ----------------------------------------------------------------------------- passes


@dataclass
class PassReport:
    """Passes a cascade needs over the fibers of one rank, and the live footprint that implies."""

    rank: str
    passes: int
    pass_of: dict[str, int]  # Einsum -> pass number (0 when it does not traverse the rank)
    live_tensors: list[str] = field(default_factory=list)  # fibers re-read across a pass boundary
    live_elements: int = 0


def _covers(cascade: Cascade, reduced: set[str], rank: str) -> bool:
    if rank in reduced:
        return True
    subs = cascade.partitions.get(rank)
    return bool(subs) and all(_covers(cascade, reduced, s) for s in subs)


def pass_analysis(cascade: Cascade, rank: str) -> PassReport:
    """Count passes over ``rank`` as FuseMax §III defines them.

    A value that needs a whole traversal of the rank (a reduction over all of it, or the last
    step of an iterative rank in its family) is complete only at the end of a pass; an Einsum
    that traverses the rank again after reading such a value starts a new pass.
    """
    if rank not in cascade.ranks:
        raise EinsimError(f"no rank {rank!r} in {cascade.name}")
    family = cascade.rank_family(rank)
    state: dict[str, tuple[int, bool, frozenset[str]]] = {t: (0, True, frozenset()) for t in cascade.inputs}
    carried = {(w, r, t) for w, r, t in cascade.loop_edges}
    pass_of: dict[str, int] = {}
    for e in cascade.topological_order():
        vranks = cascade.var_ranks(e)
        traverses = any(rs & family for rs in vranks.values())
        level, reduced = 0, set()
        reads = []
        for op in e.operands:
            if any(r == e.name and t == op.tensor for _, r, t in carried) and not _init_only(cascade, op.tensor):
                continue
            if op.tensor not in state:
                continue
            k, end, red = state[op.tensor]
            tensor = cascade.tensors[op.tensor]
            final = {
                tensor.ranks[d] for d, v in tensor.iterative
                if op.index[d].is_const and op.index[d].const == tensor.shape[d] and tensor.ranks[d] in family
            }
            if final:
                red = red | final
                end = _covers(cascade, set(red), rank)
            reads.append((k + 1 if (end and traverses) else k, end, red))
        level = max([r[0] for r in reads], default=1 if traverses else 0)
        level = max(level, 1) if traverses else level
        for k, end, red in reads:
            if k == level and not (end and traverses):
                reduced |= red
        reduced |= {r for v in e.reduced for r in vranks[v] if r in family}
        if e.reduce == "top":  # each kept value is known only once the whole fiber has been ranked
            reduced |= {r for r in vranks[e.top_over] if r in family}
        end = _covers(cascade, reduced, rank) or (not traverses and any(k == level and end for k, end, _ in reads))
        state[e.output] = (level, end, frozenset(reduced))
        pass_of[e.name] = level if traverses else 0
    passes = max(pass_of.values(), default=0)

    live: dict[str, int] = {}
    for boundary in range(1, passes):
        crossing = {}
        for e in cascade.einsums:
            if pass_of[e.name] <= boundary:
                continue
            for op in e.operands:
                t = cascade.tensors[op.tensor]
                if op.tensor in cascade.inputs or not set(t.ranks) & family:
                    continue
                if 0 < state[op.tensor][0] <= boundary:
                    crossing[op.tensor] = t.elements
        if sum(crossing.values()) > sum(live.values()):
            live = crossing
    return PassReport(rank, passes, pass_of, sorted(live), sum(live.values()))


def _init_only(cascade: Cascade, tensor: str) -> bool:
    return all(w.init for w in cascade.writers(tensor))


def passes_by_rank(cascade: Cascade) -> dict[str, int]:
    """Passes over every rank that is not itself a partition of another rank."""
    parts = {s for subs in cascade.partitions.values() for s in subs}
    return {r: pass_analysis(cascade, r).passes for r in cascade.ranks if r not in parts}
