"""A small exhaustive search over the tilings of one Einsum on a spatial array.

The space: the spatially spread indices fixed to the array's shape; each *tiled* index split as
DRAM x GlobalBuffer x spatial with a power-of-two global-buffer tile; the DRAM loop order over the
tiled indices; the remaining indices at the levels given. Every candidate is scored with the nest
kernel in one batch; the over-full ones are dropped. This is the small space the FuseMax
artifact's Timeloop mapper explores for QK, AV and the linear layers (fusemax.md (e)).
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Mapping as TMapping, Sequence

from einsim.arch import Architecture
from einsim.einsum.cascade import Einsum
from einsim.errors import EinsimError
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.mappers.spatial.cost import EinsumCost, Variant, evaluate_einsum
from einsim.mappers.mapping import Mapping
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
    """The best tiling by ``objective``: (its cost, {index: global-buffer tile}, its Mapping)."""
    shared, per_pe = storage_path(arch, unit)
    dram, gb = shared[0], shared[-1]
    space = einsum.space
    choices = [tile_choices(space[v], spatial[v]) for v in tiled]
    capacity = hierarchy_for(arch, unit).levels[1].capacity_words
    plans, tiles = [], []
    for combo in itertools.product(*choices):
        if math.prod(combo) > capacity:  # the tiles' product bounds a tile of the output or an operand
            continue
        for order in itertools.permutations(tiled):
            temporal_dram = {**outer, **{v: space[v] // t for v, t in zip(tiled, combo)}}
            temporal_gb = {v: t // spatial[v] for v, t in zip(tiled, combo)}
            gb_inner = {v: space[v] for v, lvl in inner.items() if lvl == gb}
            plan = [LevelPlan(dram, temporal_dram, (*outer, *order)),
                    LevelPlan(gb, {**temporal_gb, **gb_inner}, (*tiled, *gb_inner), dict(spatial))]
            plan += [LevelPlan(lvl, {v: space[v] for v, at in inner.items() if at == lvl}) for lvl in per_pe]
            plans.append(plan)
            tiles.append(dict(zip(tiled, combo)))
    variants = [Variant(mapping_for(arch, einsum, unit, p, homes, staged), homes) for p in plans]
    costs = evaluate_einsum(arch, einsum, unit, variants)
    ok = [(objective(c), i) for i, c in enumerate(costs) if c.valid]
    if not ok:
        raise EinsimError(f"no tiling of {einsum.name} fits {unit}'s buffers")
    best = min(ok)[1]
    return costs[best], tiles[best], variants[best].mapping
