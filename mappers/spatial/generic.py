"""Any cascade (Mamba-2 SSD, linear attention, ...) on a two-array design, fully fused.

The binding: a contraction (one MAC per point with a reduced index) goes to the 2D array, every
other Einsum to the 1D array. Each Einsum spreads the indices whose sizes share the most factors
with the array's sides over the PEs; the cascade's iterative rank (a chunk, a token) is the
outermost loop, at DRAM, and all other loops sit under the global buffer. The cascade's inputs and
outputs live in DRAM, staged in the global buffer one step of the iterative rank at a time, and
every intermediate lives in the global buffer (the fusion FuseMax applies to attention). The
buffer holds one step's tiles: the staged inputs and outputs must fit (else an error names the
step's footprint); the part of the intermediates that does not fit beside them spills, a fraction
of their buffer traffic going to DRAM instead, as FLAT's spill does. The latency is the tile
pipeline's (einsim.mappers.spatial.timing): one fusion group whose tiles are the steps of the
iterative rank, one tile of buffer per intermediate, the DRAM transfers of the next step staged
while a step computes; the bound is the larger of the compute and the DRAM time.

Filters (causal masks) are evaluated dense by the nest kernel: a masked Einsum is charged its
whole rectangle, which is what a dense array without mask skipping does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from einsim.arch import Architecture
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Cascade, Einsum
from einsim.errors import EinsimError
from einsim.mappers.spatial.attention import GB, AttentionResult, array_of, combine, design, dram_Bps, gb_words
from einsim.mappers.spatial.cost import Variant, evaluate_einsum
from einsim.mappers.spatial.loops import LevelPlan, held_tiles, mapping_for
from einsim.mappers.constraint_file import ConstraintFile, GroupRule, LoopRef


@dataclass
class CascadeResult:
    result: AttentionResult
    bound: str  # "compute" or "memory"
    compute_s: float
    memory_s: float
    footprint_B: float  # global-buffer bytes one step of the iterative rank needs
    spill: float  # fraction of the intermediates' buffer traffic that goes to DRAM instead


def unit_for(e: Einsum) -> str:
    return "Array2D" if dict(ops_per_point(e)) == {"mac": 1} and e.reduced else "Array1D"


def _spread(e: Einsum, sides: tuple[int, ...], steps: set[str]) -> dict[str, int]:
    """Fill each side of the array with the indices that share the most factors with it; the
    iterative ranks (``steps``) stay temporal, the outermost loop."""
    spatial: dict[str, int] = {}
    free = [v for v in e.space if v not in steps]
    for side in sides:
        room = side
        for v in sorted(free, key=lambda v: -math.gcd(e.space[v] // spatial.get(v, 1), room)):
            f = math.gcd(e.space[v] // spatial.get(v, 1), room)
            if f > 1:
                spatial[v] = spatial.get(v, 1) * f
                room //= f
    return spatial


def evaluate_cascade(cascade: Cascade, arch: Architecture | str = "fusemax.yaml",
                     emulate: dict[str, dict[str, int]] | None = None) -> CascadeResult:
    """The cascade on a design (loaded, or a bundled file name), fused, with per-array utilization,
    its bound and the buffer spill. ``emulate`` gives ops the design lacks as sequences of ops it
    has (e.g. softplus on FuseMax's PEs)."""
    arch = design(arch) if isinstance(arch, str) else arch
    einsums = [e for e in cascade.einsums if not e.init]
    copies = {e.output for e in cascade.einsums if e.init and e.operands}
    produced = {e.output for e in einsums}
    consumed = {o.tensor for e in einsums for o in e.operands}
    # layout copies made by init (chunked views of an input) stay in DRAM like the input they copy
    intermediates = (produced & consumed) - copies
    steps = {e.iteration_var for e in cascade.einsums if e.iteration_var}
    homes = {t: GB for t in intermediates}
    units, mappings = [], []
    for e in einsums:
        unit = unit_for(e)
        spatial = _spread(e, tuple(array_of(arch, unit).shape), steps)
        temporal = {v: n // spatial.get(v, 1) for v, n in e.space.items()}
        outer = {v: temporal[v] for v in e.space if v in steps}
        inner = {v: f for v, f in temporal.items() if v not in outer}
        plan = [LevelPlan("DRAM", outer, tuple(outer)), LevelPlan(GB, inner, tuple(inner), spatial)]
        units.append(unit)
        mappings.append(mapping_for(arch, e, unit, plan, homes, staged=[o.tensor for o in e.operands] + [e.output]))
    spill, footprint = _spill(cascade.name, steps, arch, einsums, mappings, intermediates)
    costs = [evaluate_einsum(arch, e, unit, [Variant(m, homes, {t: spill for t in intermediates})], emulate=emulate)[0]
             for e, unit, m in zip(einsums, units, mappings)]
    group = GroupRule(einsums=[e.name for e in einsums], loops=[LoopRef(level="DRAM")], slots=1,
                      source="the fused mapper's default: one step of the iterative rank at a time")
    s = ConstraintFile(name=cascade.name, label=cascade.name, source="einsim.mappers.spatial.generic defaults",
                       arch=arch.name, workload=cascade.name, tiling="fused",
                       bindings={e.name: u for e, u in zip(einsums, units)}, homes=homes, fusion=[group])
    footprint_B = footprint * array_of(arch, "Array2D").word_bits / 8
    choice = {"binding": {c.name: c.unit for c in costs}, "footprint_B": footprint_B, "spill": spill}
    result = combine(s, arch, cascade, costs, {e.name: m for e, m in zip(einsums, mappings)}, homes, choice)
    compute = sum(c.compute_s for c in costs)
    memory = result.dram_bytes / dram_Bps(arch)
    return CascadeResult(result, "compute" if compute >= memory else "memory", compute, memory, footprint_B, spill)


def _spill(name: str, steps: set[str], arch: Architecture, einsums: list[Einsum], mappings: list,
           intermediates: set[str]) -> tuple[float, float]:
    """(spilled fraction of the intermediates, words one step holds in the global buffer)."""
    tiles = held_tiles(arch, einsums, mappings, GB)
    staged = sum(w for t, w in tiles.items() if t not in intermediates)
    live = sum(w for t, w in tiles.items() if t in intermediates)
    capacity = gb_words(arch)
    if staged > capacity:
        if not steps:
            raise EinsimError(f"{name} has no iterative rank to step through, so the fused mapper would hold "
                              f"all its inputs and outputs ({staged:.4g} words) in a global buffer of "
                              f"{capacity:.4g} words; use --mapper search")
        raise EinsimError(f"{name}: one step of {', '.join(sorted(steps))} needs {staged:.4g} words of inputs and "
                          f"outputs in the global buffer, which holds {capacity:.4g}; use a smaller step "
                          "(e.g. chunk) or a larger buffer")
    return (max(0.0, 1 - (capacity - staged) / live) if live else 0.0), staged + live
