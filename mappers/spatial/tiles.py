"""A small exhaustive search over the tilings of one Einsum on a spatial array.

The space: the spatially spread indices fixed to the array's shape; each *tiled* index split as
DRAM x GlobalBuffer x spatial with a power-of-two global-buffer tile; the DRAM loop order over the
tiled indices; the remaining indices at the levels given; and, for each DRAM tensor the global
buffer may stage, keep or bypass. Timeloop's mapper explores the keep/bypass choice of every
dataspace its constraints leave open; the FuseMax artifact's ``unfused-constraints`` fix DRAM and
the register file but not the L3, so an output written once or an operand read once skips the L3
and its per-access energy. A bypass that would add DRAM traffic (a tensor the L3 gives reuse) is
not taken: the artifact's EDP mapper pays it in DRAM time, which the energy objective of the
linear layers (whose latency is the ideal throughput) would not see. Every candidate is scored with the nest kernel in one batch; the
over-full ones are dropped. This is the small space the FuseMax artifact's Timeloop mapper
explores for QK, AV and the linear layers (fusemax.md (e)).
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
from einsim.mappers.mapping import Mapping
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
    mappings, tiles = [], []
    for combo in itertools.product(*choices):
        if math.prod(combo) > capacity:  # the tiles' product bounds a tile of the output or an operand
            continue
        base = None  # the combination's mapping under its first DRAM order
        for order in itertools.permutations(tiled):
            if base is not None and base.levels[1].temporal:
                # the DRAM order alone differs: what the PE registers hold depends on it only through
                # the innermost loop above them, which is the global buffer's (mapping_for, _reused)
                dram_level = base.levels[0]
                levels = (replace(dram_level, order=tuple(v for v in (*outer, *order) if v in dram_level.temporal)),
                          *base.levels[1:])
                mappings.append(replace(base, levels=levels))
                tiles.append(dict(zip(tiled, combo)))
                continue
            temporal_dram = {**outer, **{v: space[v] // t for v, t in zip(tiled, combo)}}
            temporal_gb = {v: t // spatial[v] for v, t in zip(tiled, combo)}
            gb_inner = {v: space[v] for v, lvl in inner.items() if lvl == gb}
            plan = [LevelPlan(dram, temporal_dram, (*outer, *order)),
                    LevelPlan(gb, {**temporal_gb, **gb_inner}, (*tiled, *gb_inner), dict(spatial))]
            plan += [LevelPlan(lvl, {v: space[v] for v, at in inner.items() if at == lvl}) for lvl in per_pe]
            mappings.append(mapping_for(arch, einsum, unit, plan, homes, staged))
            base = mappings[-1] if base is None else base
            tiles.append(dict(zip(tiled, combo)))
    # a tensor may skip the L3 only where the L3 gives it no reuse (the plan's DRAM traffic stays).
    # A tensor's counts depend on its own keep chain alone, so first each plan with every tensor
    # kept and with each one bypassed; then the plans' other subsets of the admissible bypasses.
    # The candidates are scored as arrays (the variants differ from their plan in keep bits only);
    # only the best is built as an EinsumCost
    hier = hierarchy_for(arch, unit)
    problem = NestProblem.from_einsum(einsum)
    free = [t for t in staged if homes.get(t) != gb]
    plans = encode(problem, hier, mappings)
    run = np.array([mask_fraction(einsum, m) for m in mappings])
    ways = ((), *((t,) for t in free))
    rows = np.repeat(np.arange(len(mappings)), len(ways))
    first = einsum_cost_arrays(arch, einsum, unit, _bypass_rows(problem, hier, gb, plans, rows, ways * len(mappings)),
                               run[rows], homes)
    dram = first.dram_bytes.reshape(len(mappings), len(ways))
    admissible = dram[:, 1:] <= dram[:, :1] * (1 + 1e-12)  # [plans, free]
    taken = np.concatenate([np.ones((len(mappings), 1), dtype=np.bool_), admissible], axis=1).ravel()
    chosen = [(k, by) for k, by, ok in zip(rows.tolist(), ways * len(mappings), taken.tolist()) if ok]
    score, valid = objective(first)[taken], first.valid[taken]
    more = [(k, sub) for k, ok_k in enumerate(admissible.tolist())
            for n in range(2, sum(ok_k) + 1) for sub in itertools.combinations([t for t, ok in zip(free, ok_k) if ok], n)]
    if more:
        extra_rows = np.array([k for k, _ in more])
        extra = einsum_cost_arrays(arch, einsum, unit, _bypass_rows(problem, hier, gb, plans, extra_rows,
                                                                    [by for _, by in more]), run[extra_rows], homes)
        score, valid = np.concatenate([score, objective(extra)]), np.concatenate([valid, extra.valid])
        chosen += more
    ok = np.flatnonzero(valid)
    if not len(ok):
        raise EinsimError(f"no tiling of {einsum.name} fits {unit}'s buffers")
    k, by = chosen[int(ok[np.argmin(score[ok])])]  # the least score, the first candidate of a tie
    mapping = _bypassing(mappings[k], gb, set(by))
    return evaluate_einsum(arch, einsum, unit, [Variant(mapping, homes)])[0], tiles[k], mapping


def _bypass_rows(problem: NestProblem, hier: Hierarchy, level: str, plans: Encoded, rows: np.ndarray,
                 bypassed: Sequence[tuple[str, ...]]) -> Encoded:
    """The encoding of ``_bypassing(plan, level, set(by))`` for each (plan ``rows[i]``, ``bypassed[i]``):
    the plan's rows with those tensors' keep bits cleared at ``level`` (what ``encode`` gives for
    the bypassed mapping, whose keep list at ``level`` lacks them)."""
    keep = plans.keep[rows]
    li = hier.names().index(level)
    cols = {t: [j for j, name in enumerate(problem.tensors) if name.rstrip("'") == t] for by in bypassed for t in by}
    for i, by in enumerate(bypassed):
        for t in by:
            keep[i, li, cols[t]] = False
    return Encoded(plans.temporal[rows], plans.spatial[rows], plans.order[rows], keep, plans.axes()[rows])


def _bypassing(mapping: Mapping, level: str, bypassed: set[str]) -> Mapping:
    """``mapping`` with ``bypassed`` tensors no longer kept at ``level`` (the loops are unchanged, and
    so is what the PE registers hold: that depends on the loops only)."""
    if not bypassed:
        return mapping
    levels = tuple(replace(lv, keep=tuple(t for t in lv.keep or () if t not in bypassed)) if lv.target == level
                   else lv for lv in mapping.levels)
    return replace(mapping, levels=levels)
