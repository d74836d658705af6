"""A small exhaustive search over the tilings of one Einsum on a spatial array.

The space: the spatially spread indices fixed to the array's shape; each *tiled* index split as
DRAM x GlobalBuffer x spatial with a power-of-two global-buffer tile; the DRAM loop order over the
tiled indices; the remaining indices at the levels given; and, for each DRAM tensor the global
buffer may stage, keep or bypass. Timeloop's mapper explores the keep/bypass choice of every
dataspace its constraints leave open; the FuseMax artifact's ``unfused-constraints`` fix DRAM and
the register file but not the L3, so an output written once or an operand read once skips the L3
and its per-access energy. A bypass that would add DRAM traffic (a tensor the L3 gives reuse) is
not taken: the artifact's EDP mapper pays it in DRAM time, which the energy objective of the
linear layers (whose latency is the ideal throughput) would not see. This is the small space the
FuseMax artifact's Timeloop mapper explores for QK, AV and the linear layers (fusemax.md (e)).

Every candidate is scored: the nest kernel runs on all of them at once (one call for the plans
kept and with one tensor bypassed, one for the other admissible bypass subsets) and the over-full
ones are dropped. Only what differs is built per candidate: ``mapping_for`` runs once per kind of
plan (which loops run, in which DRAM order) and the other plans of a kind are its Mapping with
their own factors; a DRAM order or a bypass changes an encoded row, not a Mapping; the costs are
arrays (``einsum_cost_arrays``, the floats an EinsumCost has), and only the winner becomes a
Mapping and an EinsumCost. Each shortcut is tested against the path it replaces
(tests/mappers/spatial/test_tiles.py).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Callable, Mapping as TMapping, Sequence

import numpy as np

from einsim.arch import Architecture
from einsim.einsum.cascade import Einsum
from einsim.errors import EinsimError
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.mappers.mapping import LevelMapping, Mapping, validate_factors
from einsim.mappers.masking import mask_fraction
from einsim.mappers.spatial.cost import CostArrays, EinsumCost, Variant, einsum_cost_arrays, evaluate_einsum
from einsim.mappers.spatial.loops import LevelPlan, mapping_for
from einsim.sim.nest import Encoded, Hierarchy, NestProblem, encode


def tile_choices(size: int, spatial: int) -> list[int]:
    """Global-buffer tiles of an index: the spatial factor times powers of two that divide ``size``."""
    out, t = [], spatial
    while t <= size:
        if size % t == 0:
            out.append(t)
        t *= 2
    if size not in out and size % spatial == 0:
        out.append(size)
    return out


def search_tiling(arch: Architecture, einsum: Einsum, unit: str, spatial: TMapping[str, int], tiled: Sequence[str],
                  outer: TMapping[str, int], inner: TMapping[str, str], homes: TMapping[str, str],
                  staged: Sequence[str], objective: Callable[[CostArrays], np.ndarray]) -> tuple[EinsumCost, dict[str, int], Mapping]:
    """The best tiling by ``objective`` (the candidates' costs as arrays -> [N] scores, smaller is
    better; the first candidate wins a tie): (its cost, {index: global-buffer tile}, its Mapping);
    ``staged`` are the tensors the global buffer may keep (each kept, or bypassed where that adds no
    DRAM traffic and scores better)."""
    shared, per_pe = storage_path(arch, unit)
    dram, gb = shared[0], shared[-1]
    space = einsum.space
    choices = [tile_choices(space[v], spatial[v]) for v in tiled]
    capacity = hierarchy_for(arch, unit).levels[1].capacity_words
    plans, tiles = [], []  # the plans' Mappings and their tiles
    # mapping_for is run once per kind of plan (which loops run, in which order); a plan of the same
    # kind is that Mapping with its own factors (_retimed), and its encoding that one's with them
    kinds: dict[tuple, int] = {}
    kind_of: list[int] = []  # per plan: the plan mapping_for was run on
    tensors = [t.rstrip("'") for t in NestProblem.from_einsum(einsum).tensors]
    # the candidates, in the order the search ranks them: (plan, DRAM order or None for the plan's own)
    candidates: list[tuple[int, tuple[str, ...] | None]] = []
    for combo in itertools.product(*choices):
        if math.prod(combo) > capacity:  # the tiles' product bounds a tile of the output or an operand
            continue
        base = None  # the combination's plan under its first DRAM order
        for order in itertools.permutations(tiled):
            if base is not None and plans[base].levels[1].temporal:
                # the DRAM order alone differs: what the PE registers hold depends on it only through
                # the innermost loop above them, which is the global buffer's (mapping_for, _reused)
                candidates.append((base, tuple(v for v in (*outer, *order) if v in plans[base].levels[0].temporal)))
                continue
            temporal_dram = {**outer, **{v: space[v] // t for v, t in zip(tiled, combo)}}
            temporal_gb = {v: t // spatial[v] for v, t in zip(tiled, combo)}
            gb_inner = {v: space[v] for v, lvl in inner.items() if lvl == gb}
            factors = {dram: temporal_dram, gb: {**temporal_gb, **gb_inner}}
            kind = (*(tuple(v for v, f in t.items() if v in space and f > 1) for t in factors.values()), order)
            if kind in kinds:
                plans.append(_retimed(plans[kinds[kind]], factors))
                validate_factors(plans[-1], dict(space), tensors)
            else:
                plan = [LevelPlan(dram, temporal_dram, (*outer, *order)),
                        LevelPlan(gb, {**temporal_gb, **gb_inner}, (*tiled, *gb_inner), dict(spatial))]
                plan += [LevelPlan(lvl, {v: space[v] for v, at in inner.items() if at == lvl}) for lvl in per_pe]
                plans.append(mapping_for(arch, einsum, unit, plan, homes, staged))
                kinds[kind] = len(plans) - 1
            kind_of.append(kinds[kind])
            tiles.append(dict(zip(tiled, combo)))
            base = len(plans) - 1 if base is None else base
            candidates.append((len(plans) - 1, None))
    # a tensor may skip the L3 only where the L3 gives it no reuse (the plan's DRAM traffic stays).
    # A tensor's counts depend on its own keep chain alone, so first each candidate with every
    # tensor kept and with each one bypassed; then the candidates' other subsets of the admissible
    # bypasses. They are scored as arrays (a candidate's encoding is its plan's with another DRAM
    # order, a variant's the candidate's with keep bits cleared); only the best is built as an EinsumCost
    hier = hierarchy_for(arch, unit)
    problem = NestProblem.from_einsum(einsum)
    free = [t for t in staged if homes.get(t) != gb]
    n = len(candidates)
    enc = _reordered(problem, hier, _retimed_rows(problem, hier, plans, kind_of, (dram, gb)), plans, candidates)
    run = np.array([mask_fraction(einsum, m) for m in plans])[[k for k, _ in candidates]]
    ways = ((), *((t,) for t in free))
    rows = np.repeat(np.arange(n), len(ways))
    first = einsum_cost_arrays(arch, einsum, unit, _bypass_rows(problem, hier, gb, enc, rows, ways * n), run[rows], homes)
    dram_bytes = first.dram_bytes.reshape(n, len(ways))
    admissible = dram_bytes[:, 1:] <= dram_bytes[:, :1] * (1 + 1e-12)  # [candidates, free]
    taken = np.concatenate([np.ones((n, 1), dtype=np.bool_), admissible], axis=1).ravel()
    chosen = [(c, by) for c, by, ok in zip(rows.tolist(), ways * n, taken.tolist()) if ok]
    score, valid = objective(first)[taken], first.valid[taken]
    more = [(c, sub) for c, ok_c in enumerate(admissible.tolist())
            for k in range(2, sum(ok_c) + 1) for sub in itertools.combinations([t for t, ok in zip(free, ok_c) if ok], k)]
    if more:
        extra_rows = np.array([c for c, _ in more])
        extra = einsum_cost_arrays(arch, einsum, unit, _bypass_rows(problem, hier, gb, enc, extra_rows,
                                                                    [by for _, by in more]), run[extra_rows], homes)
        score, valid = np.concatenate([score, objective(extra)]), np.concatenate([valid, extra.valid])
        chosen += more
    ok = np.flatnonzero(valid)
    if not len(ok):
        raise EinsimError(f"no tiling of {einsum.name} fits {unit}'s buffers")
    c, by = chosen[int(ok[np.argmin(score[ok])])]  # the least score, the first candidate of a tie
    k, order = candidates[c]
    mapping = _bypassing(plans[k] if order is None else _with_dram_order(plans[k], order), gb, set(by))
    return evaluate_einsum(arch, einsum, unit, [Variant(mapping, homes)])[0], tiles[k], mapping


def _retimed(mapping: Mapping, temporal: TMapping[str, TMapping[str, int]]) -> Mapping:
    """``mapping`` with the factors of its loops at each level named in ``temporal`` taken from there:
    what ``mapping_for`` gives for a plan that differs from ``mapping``'s only in those factors, the
    same ones being above 1 (the loops that run and their order are unchanged, and so is what every
    level keeps: the PE registers' tiles are the loops at and below them, which keep their factors)."""
    return Mapping(mapping.einsum, mapping.unit, tuple(
        LevelMapping(lv.target, {v: temporal[lv.target][v] for v in lv.temporal}, lv.order, lv.spatial, lv.keep,
                     lv.spatial_axis) if lv.target in temporal else lv
        for lv in mapping.levels))


def _retimed_rows(problem: NestProblem, hier: Hierarchy, plans: Sequence[Mapping], kind_of: Sequence[int],
                  levels: Sequence[str]) -> Encoded:
    """The encoding of ``plans``, each plan k being ``_retimed(plans[kind_of[k]], ...)`` at ``levels``:
    ``encode`` of the distinct ``kind_of`` plans, each row with its own plan's factors at ``levels``."""
    kinds = list(dict.fromkeys(kind_of))
    enc = encode(problem, hier, [plans[k] for k in kinds])
    rows = np.array([kinds.index(k) for k in kind_of], dtype=np.int64)  # kinds are few
    temporal = enc.temporal[rows]
    dim_index = {d: i for i, d in enumerate(problem.dims)}
    for target in levels:
        li = hier.names().index(target)
        temporal[:, li] = 1
        for i, m in enumerate(plans):
            for v, f in m.level(target).temporal.items():
                temporal[i, li, dim_index[v]] = f
    return Encoded(temporal, enc.spatial[rows], enc.order[rows], enc.keep[rows], enc.axes()[rows])


def _with_dram_order(mapping: Mapping, order: tuple[str, ...]) -> Mapping:
    """``mapping`` with ``order`` as the loop order of its outermost (DRAM) level."""
    return replace(mapping, levels=(replace(mapping.levels[0], order=order), *mapping.levels[1:]))


def _reordered(problem: NestProblem, hier: Hierarchy, plans: Encoded, mappings: Sequence[Mapping],
               candidates: Sequence[tuple[int, tuple[str, ...] | None]]) -> Encoded:
    """The encoding of each candidate (plan k, DRAM order or None): plan k's rows with that loop
    order at the outermost level (what ``encode`` gives for ``_with_dram_order``, which changes nothing else)."""
    rows = np.array([k for k, _ in candidates], dtype=np.int64)
    order = plans.order[rows]
    dim_index = {d: i for i, d in enumerate(problem.dims)}
    rows_of: dict[tuple[str, tuple[str, ...]], tuple[int, list[int]]] = {}  # (level, loops) -> its order row
    for i, (k, loops) in enumerate(candidates):
        if loops is not None:
            top = mappings[k].levels[0]
            if (top.target, loops) not in rows_of:
                rows_of[(top.target, loops)] = (hier.names().index(top.target),
                                                [dim_index[v] for v in replace(top, order=loops).loop_order(problem.dims)])
            li, row = rows_of[(top.target, loops)]
            order[i, li] = row
    return Encoded(plans.temporal[rows], plans.spatial[rows], order, plans.keep[rows], plans.axes()[rows])


def _bypass_rows(problem: NestProblem, hier: Hierarchy, level: str, enc: Encoded, rows: np.ndarray,
                 bypassed: Sequence[tuple[str, ...]]) -> Encoded:
    """The encoding of ``_bypassing(mapping, level, set(by))`` for each (mapping of row ``rows[i]``,
    ``bypassed[i]``): its row with those tensors' keep bits cleared at ``level`` (what ``encode``
    gives for the bypassed mapping, whose keep list at ``level`` lacks them)."""
    kinds = {by: i for i, by in enumerate(dict.fromkeys(bypassed))}
    cleared = np.array([[name.rstrip("'") in by for name in problem.tensors] for by in kinds], dtype=np.bool_)
    keep = enc.keep[rows]
    keep[:, hier.names().index(level)] &= ~cleared[[kinds[by] for by in bypassed]]
    return Encoded(enc.temporal[rows], enc.spatial[rows], enc.order[rows], keep, enc.axes()[rows])


def _bypassing(mapping: Mapping, level: str, bypassed: set[str]) -> Mapping:
    """``mapping`` with ``bypassed`` tensors no longer kept at ``level`` (the loops are unchanged, and
    so is what the PE registers hold: that depends on the loops only)."""
    if not bypassed:
        return mapping
    levels = tuple(replace(lv, keep=tuple(t for t in lv.keep or () if t not in bypassed)) if lv.target == level
                   else lv for lv in mapping.levels)
    return replace(mapping, levels=levels)
