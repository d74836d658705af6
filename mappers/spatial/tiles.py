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

from einsim.arch import Architecture
from einsim.einsum.cascade import Einsum
from einsim.errors import EinsimError
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.mappers.mapping import Mapping
from einsim.mappers.spatial.cost import EinsumCost, Variant, evaluate_einsum
from einsim.mappers.spatial.loops import LevelPlan, mapping_for


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
                  staged: Sequence[str], objective: Callable[[EinsumCost], float]) -> tuple[EinsumCost, dict[str, int], Mapping]:
    """The best tiling by ``objective``: (its cost, {index: global-buffer tile}, its Mapping); ``staged`` are the
    tensors the global buffer may keep (each kept, or bypassed where that adds no DRAM traffic and
    scores better)."""
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
    # kept and with each one bypassed; then the plans' other subsets of the admissible bypasses
    free = [t for t in staged if homes.get(t) != gb]
    singles = [Variant(_bypassing(m, gb, set(by)), homes) for m in mappings for by in ((), *((t,) for t in free))]
    first = evaluate_einsum(arch, einsum, unit, singles)
    costs, found, chosen, admissible = [], [], [], []
    for k, tile in enumerate(tiles):
        block = slice(k * (len(free) + 1), (k + 1) * (len(free) + 1))
        kept, *alone = first[block]
        ok_t = [t for t, c in zip(free, alone) if c.dram_bytes <= kept.dram_bytes * (1 + 1e-12)]
        admissible.append(ok_t)
        for c, v, by in zip((kept, *alone), singles[block], ((), *((t,) for t in free))):
            if set(by) <= set(ok_t):
                costs.append(c)
                found.append(tile)
                chosen.append(v.mapping)
    more = [(k, set(sub)) for k, ok_t in enumerate(admissible) for n in range(2, len(ok_t) + 1)
            for sub in itertools.combinations(ok_t, n)]
    if more:
        extra = [Variant(_bypassing(mappings[k], gb, by), homes) for k, by in more]
        costs += evaluate_einsum(arch, einsum, unit, extra)
        found += [tiles[k] for k, _ in more]
        chosen += [v.mapping for v in extra]
    ok = [(objective(c), i) for i, c in enumerate(costs) if c.valid]
    if not ok:
        raise EinsimError(f"no tiling of {einsum.name} fits {unit}'s buffers")
    best = min(ok)[1]
    return costs[best], found[best], chosen[best]


def _bypassing(mapping: Mapping, level: str, bypassed: set[str]) -> Mapping:
    """``mapping`` with ``bypassed`` tensors no longer kept at ``level`` (the loops are unchanged, and
    so is what the PE registers hold: that depends on the loops only)."""
    if not bypassed:
        return mapping
    levels = tuple(replace(lv, keep=tuple(t for t in lv.keep or () if t not in bypassed)) if lv.target == level
                   else lv for lv in mapping.levels)
    return replace(mapping, levels=levels)
