"""Any cascade (Mamba-2 SSD, linear attention, ...) on a two-array design, fully fused.

The binding: a contraction (one MAC per point with a reduced index) goes to the 2D array, every
other Einsum to the 1D array. Each Einsum spreads the indices whose sizes share the most factors
with the array's sides over the PEs; the cascade's iterative rank (a chunk, a token) is the
outermost loop, at DRAM, and all other loops sit under the global buffer. The cascade's inputs and
outputs live in DRAM, staged in the global buffer one step of the iterative rank at a time, and
every intermediate lives in the global buffer (the fusion FuseMax applies to attention); the
buffer's capacity is not checked for this default binding. Einsums run one after the other,
overlapped with the DRAM traffic: ``par(seq(E1, E2, ...), mem)``; the bound is the larger side.

Filters (causal masks) are evaluated dense by the nest kernel: a masked Einsum is charged its
whole rectangle, which is what a dense array without mask skipping does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Cascade, Einsum
from einsim.mappers.spatial.attention import GB, AttentionResult, array_of, combine, design, dram_Bps
from einsim.mappers.spatial.cost import Variant, evaluate_einsum
from einsim.mappers.spatial.loops import LevelPlan, mapping_for
from einsim.mappers.spatial.strategies import Strategy


@dataclass
class CascadeResult:
    result: AttentionResult
    bound: str  # "compute" or "memory"
    compute_s: float
    memory_s: float


def unit_for(e: Einsum) -> str:
    return "Array2D" if dict(ops_per_point(e)) == {"mac": 1} and e.reduced else "Array1D"


def _spread(e: Einsum, sides: tuple[int, ...]) -> dict[str, int]:
    """Fill each side of the array with the indices that share the most factors with it."""
    spatial: dict[str, int] = {}
    for side in sides:
        room = side
        for v in sorted(e.space, key=lambda v: -math.gcd(e.space[v] // spatial.get(v, 1), room)):
            f = math.gcd(e.space[v] // spatial.get(v, 1), room)
            if f > 1:
                spatial[v] = spatial.get(v, 1) * f
                room //= f
    return spatial


def evaluate_cascade(cascade: Cascade, arch_name: str = "fusemax.yaml",
                     emulate: dict[str, dict[str, int]] | None = None) -> CascadeResult:
    """The cascade on a design, fused, with per-array utilization and its bound. ``emulate`` gives
    ops the design lacks as sequences of ops it has (e.g. softplus on FuseMax's PEs)."""
    arch = design(arch_name)
    einsums = [e for e in cascade.einsums if not e.init]
    copies = {e.output for e in cascade.einsums if e.init and e.operands}
    produced = {e.output for e in einsums}
    consumed = {o.tensor for e in einsums for o in e.operands}
    # layout copies made by init (chunked views of an input) stay in DRAM like the input they copy
    intermediates = (produced & consumed) - copies
    steps = {e.iteration_var for e in cascade.einsums if e.iteration_var}
    homes = {t: GB for t in intermediates}
    costs = []
    for e in einsums:
        unit = unit_for(e)
        spatial = _spread(e, tuple(array_of(arch, unit).shape))
        temporal = {v: n // spatial.get(v, 1) for v, n in e.space.items()}
        outer = {v: temporal[v] for v in e.space if v in steps}
        inner = {v: f for v, f in temporal.items() if v not in outer}
        plan = [LevelPlan("DRAM", outer, tuple(outer)), LevelPlan(GB, inner, tuple(inner), spatial)]
        m = mapping_for(arch, e, unit, plan, homes, staged=[o.tensor for o in e.operands] + [e.output])
        costs.append(evaluate_einsum(arch, e, unit, [Variant(m, homes)], emulate=emulate)[0])
    names = "+".join(c.name for c in costs)
    s = Strategy(cascade.name, cascade.name, arch_name, cascade.name, "generic", (), f"par(seq({names}), mem)")
    result = combine(s, arch, costs, {}, {"binding": {c.name: c.unit for c in costs}})
    compute = sum(c.compute_s for c in costs)
    memory = result.dram_bytes / dram_Bps(arch)
    return CascadeResult(result, "compute" if compute >= memory else "memory", compute, memory)
