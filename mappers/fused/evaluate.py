"""The cost of a CascadeMapping: each Einsum on its unit, fused intermediates kept off DRAM, timed
by the tile pipeline.

Each Einsum is scored by the loop-nest kernel (einsim.sim.nest) with its fusion group's homes: a
fused tensor is kept at its home and at no level above it, so it is never read from or written to
DRAM, and its tile under the shared loops counts against the home's capacity. The energy is the
sum of the Einsums' energies. The latency is the pipeline model's (einsim.mappers.fused.schedule,
einsim.sim.pipeline): each fusion group's Einsums overlap across the iterations of their shared
loops as far as units, ports and buffers allow, and the groups run one after another; a group's
time is the closed-form bound the search uses (an upper bound of the event simulation, exact
where its lower bound meets it). A masked Einsum (a causal filter) skips the array steps its mask
wholly covers (einsim.mappers.masking): its time, traffic and energy scale by the share of steps
that run, and its Result says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from einsim.arch import Architecture
from einsim.einsum.cascade import Cascade, Einsum
from einsim.mappers.cascade_mapping import CascadeMapping, validate
from einsim.mappers.fused.schedule import schedules
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapping import Mapping
from einsim.mappers.masking import mask_fraction, mask_note
from einsim.sim.nest import NestCounts, NestProblem, encode, evaluate_encoded
from einsim.sim.pipeline import ScheduleRun, TileSchedule, bound, run
from einsim.sim.result import Result, from_counts, retimed, scaled, seq, unit_times


@dataclass
class EinsumCost:
    einsum: str
    unit: str
    latency_s: float  # alone, all its tiles one after another
    energy_J: float
    counts: NestCounts
    active_fraction: float = 1.0  # share of the array steps that run (the rest are wholly masked)


@dataclass
class CascadeCost:
    latency_s: float
    energy_J: float
    valid: bool
    einsums: list[EinsumCost]
    schedules: list[TileSchedule]
    group_latency_s: list[float]  # the closed form of each schedule (they run one after another)


def homes_for(einsum: Einsum, homes: dict[str, str]) -> dict[str, str]:
    """The fused homes of the tensors ``einsum`` touches."""
    touched = {einsum.output, *einsum.inputs}
    return {t: lv for t, lv in homes.items() if t in touched}


def einsum_cost(arch: Architecture, einsum: Einsum, mapping: Mapping, homes: dict[str, str]) -> EinsumCost:
    hier = hierarchy_for(arch, mapping.unit, einsum)
    problem = NestProblem.from_einsum(einsum)
    counts = evaluate_encoded(problem, hier, encode(problem, hier, [mapping], homes_for(einsum, homes))).one(0)
    active = mask_fraction(einsum, mapping)
    return EinsumCost(einsum.name, mapping.unit, counts.cycles / hier.clock_Hz * active,
                      float(counts.energy_J.sum()) * active, counts, active)


def evaluate_mapping(cm: CascadeMapping, cascade: Cascade, arch: Architecture) -> CascadeCost:
    """Validate ``cm`` (EinsimError naming the broken constraint) and score it."""
    validate(cm, cascade, arch)
    homes = cm.fused_tensors()
    costs = [einsum_cost(arch, e, cm.mapping(e.name), homes) for e in cascade]
    scheds = schedules(cm, cascade, arch, {c.einsum: c for c in costs})
    groups = [bound(s)[0] for s in scheds]
    return CascadeCost(sum(groups), sum(c.energy_J for c in costs), all(c.counts.valid for c in costs), costs,
                       scheds, groups)


def simulate_mapping(cm: CascadeMapping, cascade: Cascade, arch: Architecture) -> list[dict]:
    """The event simulation of each of ``cm``'s tile schedules (they run one after another) beside
    the closed form: per schedule its Einsums, tiles, closed-form upper and lower bounds, simulated
    makespan, and per unit busy, compute, memory and stall seconds and what bounds it."""
    out = []
    for sched in evaluate_mapping(cm, cascade, arch).schedules:
        upper, lower = bound(sched)
        sim: ScheduleRun = run(sched)
        out.append({"einsums": [st.einsum for st in sched.stages], "tiles": sched.tiles,
                    "buffers": {f"{sched.stages[q].einsum}->{sched.stages[c].einsum}": k for (q, c), k in sched.slots.items()},
                    "closed_form_s": upper, "lower_bound_s": lower, "simulated_s": sim.makespan_s,
                    "exact": upper <= lower * (1 + 1e-12), "units": [u.to_dict() for u in sim.units]})
    return out


def cascade_result(cm: CascadeMapping, cascade: Cascade, arch: Architecture) -> Result:
    """The einsim Result of ``cm``: per tile schedule its Einsums' work over the schedule's pipelined
    time, the schedules one after another (fused tensors off DRAM); ``units`` from the schedules'
    stages and closed-form latencies."""
    cost = evaluate_mapping(cm, cascade, arch)
    by_name = {c.einsum: c for c in cost.einsums}
    parts = []
    for sched, latency in zip(cost.schedules, cost.group_latency_s):
        rs = []
        for st in sched.stages:
            e, c = cascade.einsum(st.einsum), by_name[st.einsum]
            r = from_counts(NestProblem.from_einsum(e), hierarchy_for(arch, c.unit, e), c.counts, e.name)
            if e.filters:
                r = scaled(r, c.active_fraction)
                r.notes.append(mask_note(e.name, c.active_fraction))
            rs.append(r)
        parts.append(rs[0] if len(rs) == 1 else retimed(seq(*rs), latency, "+".join(st.einsum for st in sched.stages)))
    result = seq(*parts, name=cascade.name)
    result.units = unit_times((latency, [(st.unit, st.time_s * sched.tiles, st.compute_s * sched.tiles) for st in sched.stages])
                              for sched, latency in zip(cost.schedules, cost.group_latency_s))
    return result
