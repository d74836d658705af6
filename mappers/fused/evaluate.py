"""The cost of a CascadeMapping: each Einsum on its unit, fused intermediates kept off DRAM.

Each Einsum is scored by the loop-nest kernel (einsim.sim.nest) with its fusion group's homes: a
fused tensor is kept at its home and at no level above it, so it is never read from or written to
DRAM, and its tile under the shared loops counts against the home's capacity. Einsums run one
after another: the cascade's latency is the sum of the Einsums' latencies and its energy the sum
of their energies. (Overlap of Einsums on different units across shared-loop iterations is the
tile-pipeline model, not this one.) A masked Einsum (a causal filter) skips the array steps its mask
wholly covers (einsim.mappers.masking): its time, traffic and energy scale by the share of steps
that run, and its Result says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from einsim.arch import Architecture
from einsim.einsum.cascade import Cascade, Einsum
from einsim.mappers.cascade_mapping import CascadeMapping, validate
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapping import Mapping
from einsim.mappers.masking import mask_fraction, mask_note
from einsim.sim.nest import NestCounts, NestProblem, encode, evaluate_encoded
from einsim.sim.result import Result, from_counts, scaled, seq


@dataclass
class EinsumCost:
    einsum: str
    unit: str
    latency_s: float
    energy_J: float
    counts: NestCounts
    active_fraction: float = 1.0  # share of the array steps that run (the rest are wholly masked)


@dataclass
class CascadeCost:
    latency_s: float
    energy_J: float
    valid: bool
    einsums: list[EinsumCost]


def homes_for(einsum: Einsum, homes: dict[str, str]) -> dict[str, str]:
    """The fused homes of the tensors ``einsum`` touches."""
    touched = {einsum.output, *einsum.inputs}
    return {t: lv for t, lv in homes.items() if t in touched}


def einsum_cost(arch: Architecture, einsum: Einsum, mapping: Mapping, homes: dict[str, str]) -> EinsumCost:
    hier = hierarchy_for(arch, mapping.unit, einsum)
    problem = NestProblem.from_einsum(einsum)
    counts = evaluate_encoded(problem, hier, encode(problem, hier, [mapping], homes_for(einsum, homes))).one(0)
    run = mask_fraction(einsum, mapping)
    return EinsumCost(einsum.name, mapping.unit, counts.cycles / hier.clock_Hz * run, float(counts.energy_J.sum()) * run,
                      counts, run)


def evaluate_mapping(cm: CascadeMapping, cascade: Cascade, arch: Architecture) -> CascadeCost:
    """Validate ``cm`` (EinsimError naming the broken constraint) and score it."""
    validate(cm, cascade, arch)
    homes = cm.fused_tensors()
    costs = [einsum_cost(arch, e, cm.mapping(e.name), homes) for e in cascade]
    return CascadeCost(sum(c.latency_s for c in costs), sum(c.energy_J for c in costs),
                       all(c.counts.valid for c in costs), costs)


def cascade_result(cm: CascadeMapping, cascade: Cascade, arch: Architecture) -> Result:
    """The einsim Result of ``cm``: the Einsums' Results one after another (fused tensors off DRAM)."""
    homes = cm.fused_tensors()
    parts = []
    for e in cascade:
        cost = einsum_cost(arch, e, cm.mapping(e.name), homes)
        part = from_counts(NestProblem.from_einsum(e), hierarchy_for(arch, cost.unit, e), cost.counts, e.name)
        if e.filters:
            part = scaled(part, cost.active_fraction)
            part.notes.append(mask_note(e.name, cost.active_fraction))
        parts.append(part)
    return seq(*parts, name=cascade.name)
