"""The whole-cascade mapspace: the per-Einsum join (einsim.mappers.fused.search) and the
constraint-file families (einsim.mappers.fused.families), searched together.

The families are searched first (seconds). The join's space is then searched only if its
admissible lower bound (``join_lower_bound``) is below the families' best score: otherwise no
mapping of it can win, and it is skipped. The bound holds in the join's closed form and in the
tile DAG alike, since both are at least each Einsum's compute steps and, for an Einsum whose
intermediates all go through DRAM, its compulsory DRAM traffic over the bandwidth.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from einsim.arch import Architecture, PEArray
from einsim.einsum.cascade import Cascade, Einsum
from einsim.mappers.fused.families import FamilySearchResult, search_families
from einsim.mappers.fused.search import CascadeSearchResult, able_units, fusable_tensors, map_cascade
from einsim.mappers.hierarchy import op_cost_per_point, storage_path
from einsim.mappers.masking import least_active_share
from einsim.mappers.search import objective_score
from einsim.sim.nest import NestProblem


@dataclass
class WholeSearchResult:
    objective: str
    families: FamilySearchResult | None  # None: no family applies
    join: CascadeSearchResult | None  # None: skipped, its bound is no better than the families' best
    join_bound: float  # the join space's lower bound on the objective (inf when not computed)
    seconds: float = 0.0  # wall time of both searches
    cpu_seconds: float = 0.0  # CPU time (user + sys) of both searches

    @property
    def family_wins(self) -> bool:
        fam = self.families.best if self.families is not None else None
        if fam is None:
            return False
        return self.join is None or self.join.best is None or fam.score <= self.join.score


def _words(problem: NestProblem, tensor: int, sizes: dict[str, int]) -> int:
    """A lower bound on the distinct words of a data space: the product of the extents of the
    indices that alone (coefficient +-1) index a dimension, each index once."""
    seen: set[str] = set()
    words = 1
    for row in problem.projections[tensor]:
        used = [d for c, d in zip(row, problem.dims) if c]
        if len(used) == 1 and abs(row[problem.dims.index(used[0])]) == 1 and used[0] not in seen:
            seen.add(used[0])
            words *= sizes[used[0]]
    return words


def _einsum_bounds(cascade: Cascade, arch: Architecture, e: Einsum, on_chip: set[str]
                   ) -> tuple[float, float, float, float]:
    """(compute seconds, DRAM read seconds, DRAM write seconds, op joules) no mapping of ``e``
    goes under, its tensors but ``on_chip`` (and the states of iterative ranks) in DRAM: each of
    their words read, or written, once, times the share of points the masks pass. Zero where a
    unit it may take is not a plain PE array (its time is not steps over PEs)."""
    units = able_units(arch, e)
    share = least_active_share(e)
    points = math.prod(e.space.values()) * share
    compute = reads_s = writes_s = energy = math.inf
    problem = NestProblem.from_einsum(e)
    sizes = dict(e.space)
    in_dram = [not t.endswith("'") and t not in on_chip and not cascade.tensors[t].iterative for t in problem.tensors]
    reads = sum(_words(problem, k, sizes) for k in range(len(problem.tensors)) if k != problem.output and in_dram[k])
    writes = _words(problem, problem.output, sizes) if in_dram[problem.output] else 0
    for u in units:
        comp = arch.component(u)
        cycles, joules = op_cost_per_point(arch, u, e)
        energy = min(energy, points * joules)
        bw = getattr(arch.component(storage_path(arch, u)[0][0]), "bandwidth_Bps", None)
        if type(comp) is not PEArray or not bw:
            compute = reads_s = writes_s = 0.0
            continue
        compute = min(compute, points * cycles / (comp.pe_count * arch.instances(u)) / arch.clock_of(u))
        word = comp.word_bits / 8 * share / bw
        reads_s, writes_s = min(reads_s, reads * word), min(writes_s, writes * word)
    return compute, reads_s, writes_s, (energy if math.isfinite(energy) else 0.0)


def join_lower_bound(cascade: Cascade, arch: Architecture) -> tuple[float, float]:
    """(latency, energy) no mapping of the join's space goes under. Its latency is a sum over
    tile schedules; take each maximal chain of Einsums the join may fuse (one a schedule, or
    several one after another): it lasts at least its slowest member's compute steps, and at
    least its members' compulsory DRAM reads (writes) over the bandwidth, which the DRAM port
    serves one after another (a tensor the chain may keep on chip is not counted; splitting the
    chain only adds traffic). Energy: the ops' energy."""
    order = list(cascade)
    fusable = fusable_tensors(cascade, order)
    latency = energy = 0.0
    chain = [0.0, 0.0, 0.0]  # slowest compute, reads, writes of the chain so far
    for i, e in enumerate(order):
        on_chip = {t for t in (fusable[i - 1] if i > 0 else None, fusable[i]) if t is not None}
        compute, reads, writes, ops = _einsum_bounds(cascade, arch, e, on_chip)
        energy += ops
        chain = [max(chain[0], compute), chain[1] + reads, chain[2] + writes]
        if fusable[i] is None:  # the chain ends here
            latency += max(chain)
            chain = [0.0, 0.0, 0.0]
    return latency, energy


def map_whole(cascade: Cascade, arch: Architecture, objective: str = "edp",
              join: Callable[[], CascadeSearchResult] | None = None, **options: Any) -> WholeSearchResult:
    """Search both spaces (module docstring); ``options`` go to map_cascade, or ``join`` runs it."""
    wall, cpu = time.perf_counter(), time.process_time()
    families = search_families(cascade, arch, objective)
    best = families.best if families is not None else None
    bound = math.inf
    if best is not None:
        lat, en = join_lower_bound(cascade, arch)
        bound = objective_score(objective, lat, en)
        if bound >= best.score:
            return WholeSearchResult(objective, families, None, bound, time.perf_counter() - wall,
                                     time.process_time() - cpu)
    res = join() if join is not None else map_cascade(cascade, arch, objective, **options)
    return WholeSearchResult(objective, families, res, bound, time.perf_counter() - wall, time.process_time() - cpu)
