"""Optimal search over a whole cascade: per-Einsum Pareto sets of partial mappings, joined.

The cascade is taken in topological order. An intermediate that one Einsum writes and only the
next one reads can be fused: it lives at an on-chip level (its *home*, a storage level on both
units' paths) and every loop above the home is shared by both Einsums. A chain of fused Einsums
is a fusion group with one home level.

**Partial mappings.** For each Einsum, compute unit and *variant* (is its input fused, at which
home; is its output fused, at which home), every point of its mapspace (einsim.mappers.mapspace)
is scored by the loop-nest kernel with the fused tensors kept off DRAM. A point's
*compatibility key* is what a fused neighbour must agree on: its loops above the home (level,
index, factor, in order); unfused variants have no key.

**Pruning (why it is safe).** Energy is a sum over Einsums; latency a sum over tile schedules
(einsim.mappers.fused.schedule), each the pipeline's closed form U, non-decreasing in every
stage's time and port transfer times (einsim.sim.kernels.pipeline). The objectives (latency,
energy, latency x energy) are non-decreasing in both. Two partial mappings with the same Einsum,
variant, key and stage signature (shared ports used, room for a second tile of each fused
tensor: the discrete inputs of U) are interchangeable in any full mapping; if one is no worse in
latency, energy and (fused) each port's seconds, replacing the other by it never makes a full
mapping worse. So only that Pareto set is kept. The join — a dynamic programme along the chain
whose state is (home of the outgoing fused tensor, key) — prunes the states of an open fusion
group on a summary of its open members that U is monotone in (_open_summary) and, when it closes, adds the group's U and keeps the (latency, energy) Pareto set
per state. The best full mapping and the latency-energy front of the whole mapspace survive: the
answer equals brute force (tests/mappers/fused/test_cascade_search.py checks it on small cases).

Before scoring, a point that overflows a level's capacity (einsim.mappers.mapspace.fits_capacity,
the kernel's own test, which reads no loop order) is left out: it is invalid in every order, so
no valid mapping is lost. A masked Einsum's points are ranked by their masked latency, energy
and port seconds (einsim.mappers.masking.mask_fractions), the costs evaluate_mapping charges:
ranking them unmasked loses the masked optimum (tests/mappers/fused/test_masked_search.py).

**Energy, large spaces.** For the energy objective with a per-Einsum space above ``budget``, the
variants and keys to join are chosen best first over admissible per-key energy floors
(einsim.mappers.fused.exact): only the options that can hold the optimum are searched, each
exactly (method ``bound``), and the join of those is proven optimal. Then the front is that of
the searched mappings and ``mapspace_size`` counts the mappings of the options joined.

**Limits.** Optimal when every per-Einsum space is enumerated (its size at most ``budget``), or
for energy as above; a larger unfused space (one Einsum, or no fusable neighbour) is searched exactly by
the best-first bound (einsim.mappers.search, method ``bound``: factorizations in increasing
energy floor until the floor exceeds the best). Other larger spaces are searched by hill climbing (einsim.mappers.search), unfused, then (latency, or
energy for an Einsum with no fusable neighbour, or one Einsum) by branch and bound: the factorizations whose admissible bound (compute
time; Mapspace.energy_floor) exceeds the climb's best are skipped and the rest enumerated, proving
the optimum of the unfused space when they are at most 4 x ``budget`` points; otherwise, and
whenever a large space could have been fused, the result says ``optimal: false``: its fused variants
are searched per compatibility key for the keys offered only (einsim.mappers.fused.keyed). Fusion is searched only between consecutive Einsums of the topological
order with a one-reader intermediate, one home level per group; Einsums with an iterative rank
are mapped unfused with that rank's loop outermost at full count.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from einsim.arch import Architecture
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Cascade, Einsum
from einsim.errors import EinsimError
from einsim.mappers.cascade_mapping import CascadeMapping, FusionGroup, SharedLoop
from einsim.mappers.fused.evaluate import homes_for
from einsim.mappers.fused.exact import EnergyPlan, Option, Slot, energy_plan
from einsim.mappers.fused.keyed import KeyedSpace, best_keys, candidate_keys
from einsim.mappers.fused.schedule import signatures
from einsim.mappers.hierarchy import hierarchy_for, storage_path
from einsim.mappers.mapping import Mapping
from einsim.mappers.mapspace import Constraints, Mapspace, encoded_row_to_mapping, fits_capacity
from einsim.mappers.masking import least_active_share, mask_fractions
from einsim.mappers.search import OBJECTIVES, objective_score, pareto_rows, search
from einsim.sim.kernels.pipeline import latency_bound_batch
from einsim.sim.nest import Encoded, NestProblem, encode, evaluate_encoded

Key = tuple[SharedLoop, ...]


@dataclass(frozen=True)
class Variant:
    unit: str
    home_in: str | None  # home of the fused input (None: the input comes from DRAM)
    home_out: str | None  # home of the fused output

    @property
    def home(self) -> str | None:
        return self.home_out or self.home_in


@dataclass(frozen=True)
class Choice:
    """One Einsum's part of a joined mapping."""

    einsum: str
    output: str
    variant: Variant
    key: Key  # its loops above the home (the group's shared loops)
    mapping: Mapping
    signature: tuple | None  # (shared ports it uses, per fused tensor: room for a second tile); None unfused
    latency_s: float  # alone: all its tiles one after another
    ports_s: tuple[float, ...] = ()  # transfer seconds on each port of signature[0], all tiles


@dataclass
class Front:
    """A Pareto set of partial (or full) mappings: latency, energy and what each is made of."""

    latency: np.ndarray
    energy: np.ndarray
    items: list  # per row: a Mapping (partial) or a tuple of choices (joined)
    ports: np.ndarray | None = None  # [rows, ports] transfer seconds of a fused stage: pruned on them too

    def pruned(self) -> "Front":
        if self.ports is None or self.ports.shape[1] == 0:
            keep = pareto_rows(self.latency, self.energy, np.arange(len(self.items)))
            return Front(self.latency[keep], self.energy[keep], [self.items[i] for i in keep], self.ports)
        keep = pareto_nd(np.column_stack([self.latency, self.energy, self.ports]))
        return Front(self.latency[keep], self.energy[keep], [self.items[i] for i in keep], self.ports[keep])


def pareto_nd(cols: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the rows of ``cols`` [n, k] no other row is at most in every column
    (of equal rows, the first). In lexicographic order the first remaining row is never beaten by a
    later one: keep it and drop every row it beats, until none remain."""
    rest = np.lexsort(cols.T[::-1])
    kept = []
    while len(rest):
        i = rest[0]
        kept.append(i)
        rest = rest[1:][~np.all(cols[rest[1:]] >= cols[i], axis=1)]
    return np.sort(np.array(kept, dtype=np.int64))


@dataclass
class CascadeSearchResult:
    objective: str
    best: CascadeMapping | None
    latency_s: float
    energy_J: float
    score: float
    pareto: list[tuple[float, float, CascadeMapping]]  # by increasing latency
    mapspace_size: int  # full mappings of the searched space
    evaluated: int  # partial mappings scored by the kernel
    seconds: float
    optimal: bool  # the best is optimal within the mapspace (every point enumerated or bounded out)
    front_exact: bool = True  # the front is the mapspace's (False: the front of the evaluated mappings)
    per_einsum: dict[str, dict] = field(default_factory=dict)  # statistics per Einsum
    capacity_pruned: int = 0  # points left out unscored: they overflow a level in every loop order


def able_units(arch: Architecture, einsum: Einsum) -> list[str]:
    """The compute units with every op ``einsum`` needs (the op tables decide the binding)."""
    ops = ops_per_point(einsum)
    return [u.name for u in arch.compute_units() if all(op in u.ops for op in ops)]


def fusable_tensors(cascade: Cascade, order: list[Einsum]) -> list[str | None]:
    """Per Einsum, the tensor it may fuse with the next one (written by it, read only by the next)."""
    out: list[str | None] = []
    for i, e in enumerate(order):
        nxt = order[i + 1] if i + 1 < len(order) else None
        readers = [r for r in cascade.einsums if e.output in r.inputs]
        ok = (nxt is not None and readers == [nxt] and len(cascade.writers(e.output)) == 1 and not e.iteration_var
              and not nxt.iteration_var and e.output not in cascade.outputs and not cascade.tensors[e.output].iterative)
        out.append(e.output if ok else None)
    return out


def _homes(arch: Architecture, unit: str) -> list[str]:
    """Candidate homes of a fused tensor on ``unit``'s path: its shared on-chip levels."""
    return storage_path(arch, unit)[0][1:]


def _constraints(einsum: Einsum, hier_names: list[str], bypass: bool = False) -> Constraints:
    """An iterative index loops only at the outermost level (at full count); with ``bypass``, every
    keep/bypass subset of the on-chip levels is a choice (else each level keeps what it may hold)."""
    if not einsum.iteration_var:
        return Constraints(enumerate_keep=bypass)
    return Constraints(ones={lv: [einsum.iteration_var] for lv in hier_names[1:]}, enumerate_keep=bypass,
                       first=einsum.iteration_var)


def _keys(enc: Encoded, depth: int, names: list[str], dims: tuple[str, ...]) -> tuple[np.ndarray, list]:
    """(per row a key id, the keys): the loops at levels above ``depth`` (level, index, factor), in order."""
    n = len(enc.keep)
    if depth <= 0:
        return np.zeros(n, dtype=np.int64), [()]
    fac = np.take_along_axis(enc.temporal[:, :depth], enc.order[:, :depth], axis=2)  # factors in loop order
    packed = np.concatenate([np.where(fac > 1, enc.order[:, :depth], -1).reshape(n, -1),
                             np.where(fac > 1, fac, 0).reshape(n, -1)], axis=1)
    uniq, inverse = np.unique(packed, axis=0, return_inverse=True)
    keys = []
    half = depth * len(dims)
    for row in uniq:
        loops = []
        for j in range(half):
            if row[j] >= 0:
                loops.append(SharedLoop(dims[row[j]], int(row[half + j]), names[j // len(dims)]))
        keys.append(tuple(loops))
    return inverse.reshape(-1), keys


def _lower_bounds(space: Mapspace, objective: str, einsum: Einsum) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """An admissible lower bound on the objective of every point of a factorization, whatever its
    loop orders and keeps: the kernel's cycles are at least the compute steps (points / instances
    used) x cycles per point, and its energy at least ``Mapspace.energy_floor`` (compute, leakage
    and, per tensor, its accesses along its keep chain with the least refills any order allows). A masked Einsum runs at least the share
    of points its filters pass (a step that runs holds at least one passing point and the steps
    divide the space), and every count of a masked point scales by its share of steps that run,
    so both bounds scale by that share."""
    hier = space.hierarchy
    share = least_active_share(einsum)
    points = float(space.problem.points) * share

    def bound(fidx: np.ndarray, instances: np.ndarray) -> np.ndarray:
        lat = points / instances * hier.op_cycles / hier.clock_Hz
        energy = space.energy_floor(fidx) * share if objective != "latency" else np.zeros(len(lat))
        return objective_score(objective, lat, energy)

    return bound


def _bounded(space: Mapspace, objective: str, einsum: Einsum, incumbent: float, cap: int) -> tuple[Callable | None, int]:
    """(mask of the factorizations whose lower bound does not exceed ``incumbent``, their points);
    (None, points) when they have more than ``cap`` points, (None, -1) when there are more than
    4 x ``cap`` factorizations to bound (GPT-3's projections have 10^11: bounding them would take
    longer than the climb)."""
    if math.prod(space.n_factorizations) > 4 * cap:
        return None, -1
    bound = _lower_bounds(space, objective, einsum)
    limit = incumbent * (1 + 1e-9)  # generous: a float tie must not prune the optimum
    total = 0
    for fidx, instances in space.factorizations():
        total += int(space.points_of(fidx[bound(fidx, instances) <= limit]).sum())
        if total > cap:
            return None, total
    return (lambda fidx, instances: bound(fidx, instances) <= limit), total


def _enumerate(space: Mapspace, einsum: Einsum, homes: dict[str, str], depth: int, workers: int,
               progress: Callable[[int], None] | None, chunk: int = 1 << 15,
               where: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None, shared: list[str] | None = None
               ) -> tuple[dict[tuple, Front], dict[Key, int], int, int]:
    """Every point of ``space`` (of the factorizations ``where`` admits) with ``homes``: per (key, stage
    signature), its Pareto front; per key its number of points; the points scored by the kernel and those
    left out unscored because they overflow a level's capacity (fits_capacity: invalid in every
    loop order, so dropping them loses no valid mapping). The signature (which shared ports
    the point uses, whether each fused tensor's home has room for a second tile) is what the tile
    pipeline needs of a fused stage besides its time; unfused points (``depth`` 0) have none.
    A masked Einsum's points are ranked by their masked costs (einsim.mappers.masking): latency,
    energy and port seconds scaled by the share of array steps that run, as evaluate_mapping
    charges them."""
    problem, hier = space.problem, space.hierarchy
    names = hier.names()
    home_idx = {problem.tensors.index(t): names.index(lv) for t, lv in homes.items() if t in problem.tensors}

    def task(genome):
        enc = space.encode(genome)
        for t, h in home_idx.items():
            enc.keep[:, :h, t] = False
            enc.keep[:, h, t] = True
        scored, points, out = _scored(problem, hier, einsum, enc, depth, shared or [], homes)
        return len(genome), scored, points, out

    fronts: dict[Key, Front] = {}
    sizes: dict[Key, int] = {}
    evaluated = total = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        genomes = space.genomes(chunk, where)
        parts = map(task, genomes) if workers == 1 else pool.map(task, genomes)
        for n, scored, points, part in parts:  # in enumeration order: deterministic for any number of workers
            evaluated += scored
            total += n
            if progress is not None:
                progress(n)
            for key, count in points.items():
                sizes[key] = sizes.get(key, 0) + count
            for key, front in part.items():
                old = fronts.get(key)
                fronts[key] = front if old is None else _merged([old, front], prune=True)
    return fronts, sizes, evaluated, total - evaluated


def _scored(problem: NestProblem, hier, einsum: Einsum, enc: Encoded, depth: int, shared: list[str],
            homes: dict[str, str]) -> tuple[int, dict[Key, int], dict[tuple, Front]]:
    """Score the points ``enc`` (fused homes applied): (the points scored, per key its number of points,
    per (key, stage signature) the Pareto front); the points that overflow a level's capacity in
    every loop order (fits_capacity) are counted but not scored."""
    names = hier.names()
    kid, keys = _keys(enc, depth, names, problem.dims)
    points = np.bincount(kid, minlength=len(keys))
    fit = np.flatnonzero(fits_capacity(problem, hier, enc))  # the rest are invalid in every order
    enc = Encoded(enc.temporal[fit], enc.spatial[fit], enc.order[fit], enc.keep[fit], enc.axes()[fit])
    kid = kid[fit]
    counts = evaluate_encoded(problem, hier, enc)
    active = mask_fractions(einsum, problem.dims, enc)
    lat = counts.cycles / hier.clock_Hz * active
    en = counts.energy_J.sum(axis=1) * active
    if depth > 0:
        sid, sigs, port_s = signatures(problem, hier, shared, enc, counts, homes)
        port_s = {p: v * active for p, v in port_s.items()}
    else:
        sid, sigs, port_s = np.zeros(len(kid), np.int64), [None], {}
    out = {}
    for k, key in enumerate(keys):
        rows = np.flatnonzero(kid == k)
        for j, sig in enumerate(sigs):
            part = rows[sid[rows] == j]
            if not len(part):
                continue
            good = part[counts.valid[part]]
            ports = np.column_stack([port_s[p][good] for p in sig[0]]) if sig and sig[0] else None
            front = Front(lat[good], en[good], list(good), ports).pruned()
            front.items = [encoded_row_to_mapping(problem, hier, enc, int(i)) for i in front.items]
            out[(key, sig)] = front
    return len(fit), {key: int(c) for key, c in zip(keys, points) if c}, out


METHODS = ("auto", "exhaustive", "hill")
MAX_KEYS = 4  # keys a large consumer searches: those of its producer's best states


def map_cascade(cascade: Cascade, arch: Architecture, objective: str = "edp", einsum: str | None = None,
                budget: int = 1_000_000, seed: int = 0, workers: int = 1, fuse: bool = True, method: str = "auto",
                bypass: bool = False, progress: Callable[[int], None] | None = None, status: Callable[[str, int], None] | None = None
                ) -> CascadeSearchResult:
    """Map ``cascade`` (or its Einsum ``einsum`` alone) onto ``arch``; see the module docstring.
    ``method``: auto enumerates a per-Einsum space of at most ``budget`` points and climbs a larger
    one with ``budget`` evaluations; exhaustive enumerates every space; hill climbs every space.
    ``bypass`` adds every keep/bypass choice of the on-chip levels to the per-Einsum spaces.
    ``status(message, evaluations to come)`` is told when a space starts, ``progress(n)`` as n finish."""
    if objective not in OBJECTIVES:
        raise EinsimError(f"unknown objective {objective!r} (valid: {', '.join(OBJECTIVES)})")
    if method not in METHODS:
        raise EinsimError(f"unknown cascade search method {method!r} (valid: {', '.join(METHODS)})")
    if budget < 1 or workers < 1:
        raise EinsimError("budget and workers are positive whole numbers")
    start = time.perf_counter()
    order = list(cascade) if einsum is None else [cascade.einsum(einsum)]
    fusable = fusable_tensors(cascade, order) if fuse and einsum is None else [None] * len(order)
    optimal = True
    front_exact = True
    evaluated = capacity_pruned = 0
    stats: dict[str, dict] = {}
    # the join: state (home of the outgoing fused tensor, key) -> Front of choice tuples
    states: dict[tuple, Front] = {(None, ()): Front(np.zeros(1), np.zeros(1), [()])}
    counts: dict[tuple, int] = {(None, ()): 1}
    plan = _energy_plan(order, fusable, arch, bypass, budget, workers, seed, progress, status) \
        if objective == "energy" and method == "auto" else None
    if plan is not None:
        optimal = plan.proven
        front_exact = False
        evaluated = plan.evaluations
    for i, e in enumerate(order):
        units = able_units(arch, e)
        if not units:
            raise EinsimError(f"no compute unit of {arch.name} runs Einsum {e.name} (it needs ops "
                              f"{', '.join(ops_per_point(e))})")
        fused_in = fusable[i - 1] if i > 0 else None
        fused_out = fusable[i]
        new_states: dict[tuple, list[Front]] = {}
        new_counts: dict[tuple, int] = {}
        state_scores = {k: float(objective_score(objective, f.latency, f.energy).min()) if f.items else math.inf
                        for k, f in states.items()}
        stats[e.name] = {"units": units, "evaluated": 0, "capacity_pruned": 0, "partial_pareto": 0}
        einsum_best = math.inf
        for unit in units:
            hier = hierarchy_for(arch, unit, e)
            names = hier.names()
            space = Mapspace(NestProblem.from_einsum(e), hier, _constraints(e, names, bypass))
            size = space.size()
            for h_in, h_out, homes in _home_pairs(arch, unit, fused_in, fused_out):
                v = Variant(unit, h_in, h_out)
                if h_in and not any(s[0] == h_in for s in states):
                    continue
                if plan is not None and (fused_in or fused_out):
                    fronts, sizes = _planned(plan.searched.get((i, v), []), space, e, hier, homes_for(e, homes),
                                             storage_path(arch, unit)[0])
                    n, pruned = sum(o.result.evaluations for o in plan.searched.get((i, v), [])), 0
                    stats[e.name]["evaluated"] += n
                    stats[e.name]["partial_pareto"] += sum(len(f.items) for f in fronts.values())
                    _join(fronts, sizes, states, counts, new_states, new_counts, e, v)
                    continue
                # the climb below only gives branch and bound an incumbent; the energy bound (compute
                # energy) is the same for every factorization, so where the bound would enumerate the
                # whole space (at most 4 x budget points), enumerate it at once without the climb
                whole = method == "auto" and objective == "energy" and len(order) == 1 and size <= 4 * budget
                enumerate_all = method == "exhaustive" or (method == "auto" and size <= budget) or whole
                exact = None  # energy of an unfused large space: the exact best-first bound (einsim.mappers.search)
                if method == "auto" and objective == "energy" and v.home is None and size > budget \
                        and (len(order) == 1 or not (fused_in or fused_out)) \
                        and math.prod(space.n_factorizations) <= 16 * budget:
                    exact = search(space, "energy", "bound", budget=4 * budget, workers=workers, size=size,
                                   progress=progress, share=least_active_share(e),
                                   weight=lambda enc, e=e, space=space: mask_fractions(e, space.problem.dims, enc))
                    if not exact.optimal:
                        exact = None
                    else:
                        enumerate_all = False
                if status is not None and (enumerate_all or v.home is None):
                    status(f"{e.name} on {unit}" + (f" fused at {v.home}" if v.home else "") + f" ({i + 1}/{len(order)})",
                           size if enumerate_all else budget)
                if exact is not None:
                    front = Front(np.array([p.latency_s for p in exact.pareto]), np.array([p.energy_J for p in exact.pareto]),
                                  [p.mapping for p in exact.pareto])
                    if exact.best is not None:
                        einsum_best = min(einsum_best, exact.score)
                    fronts, sizes, n, pruned = {((), None): front}, {(): size}, exact.evaluations, 0
                    front_exact = False
                elif enumerate_all:
                    fronts, sizes, n, pruned = _enumerate(space, e, homes_for(e, homes), names.index(v.home) if v.home else 0,
                                                  workers, progress,
                                                  shared=storage_path(arch, unit)[0])
                elif v.home is None:
                    res = search(space, objective, "hill", budget=budget, seed=seed, workers=workers, size=size,
                                 progress=progress, weight=lambda enc, e=e, space=space:
                                 mask_fractions(e, space.problem.dims, enc))
                    pts = res.pareto
                    front = Front(np.array([p.latency_s for p in pts]), np.array([p.energy_J for p in pts]),
                                  [p.mapping for p in pts])
                    sizes, n, pruned = {(): size}, res.evaluations, 0
                    # branch and bound: with the climb's best as incumbent, enumerate every factorization
                    # whose lower bound does not exceed it (safe for a separable objective)
                    # (the incumbent is the best of this Einsum on any unit so far: the Einsum takes one unit)
                    where, todo = (None, 0)
                    einsum_best = min(einsum_best, res.score if res.best is not None else math.inf)
                    # latency and energy are sums over the unfused Einsums: each one's optimum is the cascade's.
                    # For energy only where that proves something: an Einsum with a fusable neighbour has
                    # fused variants this path does not search, so its result is not optimal anyway
                    proves = objective == "latency" or len(order) == 1 or (objective == "energy" and not (fused_in or fused_out))
                    if math.isfinite(einsum_best) and method == "auto" and proves:
                        where, todo = _bounded(space, objective, e, einsum_best, 4 * budget)
                    if where is None:
                        optimal = False
                    else:
                        if status is not None:
                            status(f"{e.name} on {unit}: bound ({i + 1}/{len(order)})", todo)
                        got, _, m, pruned = _enumerate(space, e, {}, 0, workers, progress, where=where)
                        n += m
                        if ((), None) in got:
                            einsum_best = min(einsum_best, float(objective_score(objective, got[((), None)].latency, got[((), None)].energy).min()))
                            front = Front(np.concatenate([front.latency, got[((), None)].latency]),
                                          np.concatenate([front.energy, got[((), None)].energy]),
                                          front.items + got[((), None)].items).pruned()
                    front_exact = False
                    fronts = {((), None): front}
                else:  # a large space's fused variant: searched per key, for the keys offered
                    optimal = front_exact = False
                    keys = (best_keys(states, h_in, state_scores, MAX_KEYS, e) if h_in else
                            candidate_keys(space.problem, hier, order[i + 1], fused_out, h_out))
                    if status is not None:
                        status(f"{e.name} on {unit} fused at {v.home}: {len(keys)} keys ({i + 1}/{len(order)})", budget)
                    fronts, sizes, n, pruned = _keyed(space, e, _constraints(e, names, bypass), v.home, keys,
                                                      homes_for(e, homes), storage_path(arch, unit)[0],
                                                      objective, budget, seed, workers, progress)
                evaluated += n
                capacity_pruned += pruned
                stats[e.name]["evaluated"] += n
                stats[e.name]["capacity_pruned"] += pruned
                stats[e.name]["partial_pareto"] += sum(len(f.items) for f in fronts.values())
                _join(fronts, sizes, states, counts, new_states, new_counts, e, v)
        states = {k: _merged(fs, prune=True) if k[0] is None else _open_pruned(_merged(fs, prune=False))
                  for k, fs in new_states.items()}
        counts = new_counts
    final = states.get((None, ()))
    seconds = time.perf_counter() - start
    size = counts.get((None, ()), 0)
    if final is None or not final.items:
        return CascadeSearchResult(objective, None, math.inf, math.inf, math.inf, [], size, evaluated, seconds, optimal,
                                   front_exact and optimal, stats, capacity_pruned)
    score = objective_score(objective, final.latency, final.energy)
    b = int(np.lexsort((np.arange(len(score)), score))[0])
    name = cascade.name
    pareto = [(float(final.latency[j]), float(final.energy[j]), _assemble(name, final.items[j]))
              for j in range(len(final.items))]
    return CascadeSearchResult(objective, _assemble(name, final.items[b]), float(final.latency[b]),
                               float(final.energy[b]), float(score[b]), pareto, size, evaluated, seconds, optimal,
                               front_exact and optimal, stats, capacity_pruned)


def _home_pairs(arch: Architecture, unit: str, fused_in: str | None, fused_out: str | None):
    """(home of the incoming fused tensor, home of the outgoing one, {tensor: home}) of each variant
    on ``unit``: None is unfused; a tensor passed through a group keeps one home."""
    for h_in in [None] + (_homes(arch, unit) if fused_in else []):
        for h_out in [None] + (_homes(arch, unit) if fused_out else []):
            if h_in and h_out and h_in != h_out:
                continue
            yield h_in, h_out, {t: h for t, h in ((fused_in, h_in), (fused_out, h_out)) if h}


def _energy_plan(order: list[Einsum], fusable: list[str | None], arch: Architecture, bypass: bool, budget: int,
                 workers: int, seed: int, progress: Callable[[int], None] | None,
                 status: Callable[[str, int], None] | None) -> EnergyPlan | None:
    """For the energy objective with a per-Einsum space larger than ``budget``: the options to join,
    found best first over per-key energy floors (einsim.mappers.fused.exact); None when every space
    fits the budget (enumerating them is exact and gives the exact front)."""
    slots: list[Slot] = []
    large = False
    for i, e in enumerate(order):
        fused_in = fusable[i - 1] if i > 0 else None
        fused_out = fusable[i]
        if not (fused_in or fused_out):  # its optimum is the cascade's part: searched on its own
            continue
        for unit in able_units(arch, e):
            hier = hierarchy_for(arch, unit, e)
            constraints = _constraints(e, hier.names(), bypass)
            space = Mapspace(NestProblem.from_einsum(e), hier, constraints)
            if math.prod(space.n_factorizations) > PLAN_FACTORIZATIONS * budget:
                return None  # scanning its floors would take longer than climbing (GPT-3's Einsums have 10^8-10^11)
            large = large or space.size() > budget
            for h_in, h_out, homes in _home_pairs(arch, unit, fused_in, fused_out):
                allowed = set(e.space)
                if h_in:
                    allowed &= set(order[i - 1].space)
                if h_out:
                    allowed &= set(order[i + 1].space)
                slots.append(Slot(i, Variant(unit, h_in, h_out), e, hier, constraints, homes_for(e, homes),
                                  frozenset(allowed)))
    if not large:
        return None
    if status is not None:
        status(f"energy floors of {len(slots)} variants, best first", budget)
    return energy_plan(slots, len(order), 4 * budget, workers, seed, progress)


PLAN_FACTORIZATIONS = 16  # the plan scans a space of at most this x budget factorizations (as the bound search)


def _planned(options: list[Option], space: Mapspace, e: Einsum, hier, homes: dict[str, str],
             shared: list[str]) -> tuple[dict[tuple, Front], dict[Key, int]]:
    """The fronts (per (key, stage signature)) and sizes (per key) of a variant's searched options:
    each option's best and Pareto points, scored as _enumerate scores them. An unfused variant
    that was not searched (its floor is above the optimum) still counts its points."""
    problem = space.problem
    if not options:
        return {}, ({} if homes else {(): space.size()})
    fronts: dict[tuple, Front] = {}
    sizes: dict[Key, int] = {}
    home = next(iter(homes.values()), None)
    depth = hier.names().index(home) if home else 0
    for o in options:
        sizes[o.key] = o.size
        res = o.result
        found = [p.mapping for p in res.pareto] + ([res.best] if res.best is not None else [])
        if not found:
            continue
        _, _, got = _scored(problem, hier, e, encode(problem, hier, found, homes), depth, shared, homes)
        for k, f in got.items():
            fronts[k] = f if k not in fronts else _merged([fronts[k], f], prune=True)
    return fronts, sizes


def _join(fronts: dict[tuple, Front], sizes: dict[Key, int], states: dict[tuple, Front], counts: dict[tuple, int],
          new_states: dict[tuple, list[Front]], new_counts: dict[tuple, int], e: Einsum, v: Variant) -> None:
    """Join one variant's fronts (per (key, signature)) onto the states so far: ``new_states`` and
    ``new_counts`` (the number of full mappings per state) grow."""
    h_in, h_out = v.home_in, v.home_out
    for key in sizes:
        nxt = (h_out, key) if h_out else (None, ())
        for pk in ([(h_in, key)] if h_in else [s for s in states if s[0] is None]):
            if pk in states:
                new_counts[nxt] = new_counts.get(nxt, 0) + counts[pk] * sizes[key]
    for (key, sig), front in fronts.items():
        prev_key = (h_in, key) if h_in else None
        prevs = [prev_key] if prev_key else [s for s in states if s[0] is None]
        nxt = (h_out, key) if h_out else (None, ())
        for pk in prevs:
            if pk not in states:
                continue
            prev = states[pk]
            if not front.items or not prev.items:
                continue
            en = (prev.energy[:, None] + front.energy[None, :]).ravel()
            ports = front.ports if front.ports is not None else np.zeros((len(front.items), 0))
            items = [p + (Choice(e.name, e.output, v, key, m, sig, float(t), tuple(map(float, ps))),)
                     for p in prev.items for m, t, ps in zip(front.items, front.latency, ports)]
            if h_out:  # the group stays open: pruned per open tail (_open_pruned)
                lat = np.repeat(prev.latency, len(front.items))
                new_states.setdefault(nxt, []).append(_open_pruned(Front(lat, en, items)))
                continue
            if h_in:  # the group closes: add its pipelined latency
                lat = np.repeat(prev.latency, len(front.items)) + group_latency([_open_tail(p) for p in items])
            else:
                lat = (prev.latency[:, None] + front.latency[None, :]).ravel()
            new_states.setdefault(nxt, []).append(Front(lat, en, items).pruned())


def _merged(fronts: list[Front], prune: bool) -> Front:
    ports = None if any(f.ports is None for f in fronts) else np.concatenate([f.ports for f in fronts])
    out = Front(np.concatenate([f.latency for f in fronts]), np.concatenate([f.energy for f in fronts]),
                [x for f in fronts for x in f.items], ports)
    return out.pruned() if prune else out


OPEN_GROUP_PRUNING = True  # tests switch it off to compare with the join that keeps every open combination


def _open_pruned(front: Front) -> Front:
    """The rows of a state whose fusion group is still open that no other row of the same open shape
    (_open_summary) dominates on the latency of the closed groups before, the energy and the open
    tail's summary. The group's closed form U is non-decreasing in each summary column, whatever
    members join later, and the rest add: a row no better in any column never makes a full mapping
    better."""
    if not OPEN_GROUP_PRUNING or len(front.items) < 2:
        return front
    parts: dict[tuple, list[int]] = {}
    summaries = []
    for j, item in enumerate(front.items):
        shape, cols = _open_summary(_open_tail(item))
        parts.setdefault(shape, []).append(j)
        summaries.append(cols)
    keep = []
    for rows in parts.values():
        rows = np.array(rows)
        cols = np.column_stack([front.latency[rows], front.energy[rows], np.array([summaries[j] for j in rows])])
        keep.extend(rows[pareto_nd(cols)])
    keep = sorted(keep)
    return Front(front.latency[keep], front.energy[keep], [front.items[j] for j in keep])


def _open_summary(tail: list["Choice"]) -> tuple[tuple, list[float]]:
    """(shape, columns) of an open group's members: everything the closed form U
    (einsim.sim.kernels.pipeline.latency_bound) of any completion reads of them. U = W + (P - 1) x
    the largest span; with the stages so far, W is their sum of times; a unit's span is the sum from
    its first stage to its last: C (to its last stage so far) if it runs no later stage, else A (to
    the end so far) plus later times; a port's likewise with its last user's transfer in place of
    that user's time (L, or A plus later terms); the buffer spans between members present are final
    (their largest, E), the one from the last member to the next depends on the last one's time.
    So U is non-decreasing in W, E, the last time, and every unit's and port's (C or L, A). The
    shape (units and ports used, the last member's unit, signature and output) fixes which terms
    exist and which later ones can join; times are whole-Einsum (all tiles): U's terms are per tile,
    and the tiles are the state's key, shared by the rows compared."""
    units: dict[str, list[float]] = {}
    ports: dict[str, list[float]] = {}
    total = spans = 0.0
    prev = None
    for c in tail:
        first = units.setdefault(c.variant.unit, [total, 0.0])
        for p, v in zip(c.signature[0], c.ports_s):
            port = ports.setdefault(p, [total, 0.0])
            port[1] = total - port[0] + v
        if prev is not None:
            both = dict(prev.signature[1]).get(prev.output) and dict(c.signature[1]).get(prev.output)
            spans = max(spans, (prev.latency_s + c.latency_s) / (2 if both else 1))
        total += c.latency_s
        first[1] = total - first[0]
        prev = c
    cols = [total, spans, prev.latency_s]
    for table in (units, ports):
        for name in sorted(table):
            cols += [table[name][1], total - table[name][0]]
    return (tuple(sorted(units)), tuple(sorted(ports)), prev.variant.unit, prev.signature, prev.output), cols


def _keyed(space: Mapspace, einsum: Einsum, constraints: Constraints, home: str, keys: list[Key],
           homes: dict[str, str], shared: list[str], objective: str, budget: int, seed: int, workers: int,
           progress: Callable[[int], None] | None) -> tuple[dict[tuple, Front], dict[Key, int], int, int]:
    """A fused variant of a space too large to enumerate, one key at a time (einsim.mappers.fused.keyed):
    a key's subspace of at most ``budget`` points is enumerated, larger ones share ``budget``
    climbing evaluations. Returns what _enumerate returns, for these keys."""
    problem, hier = space.problem, space.hierarchy
    depth = hier.names().index(home)
    fronts: dict[tuple, Front] = {}
    sizes: dict[Key, int] = {}
    evaluated = pruned = 0
    climb = []
    for key in keys:
        sub = KeyedSpace(problem, hier, constraints, home, key, homes)
        sizes[key] = sub.size()
        if sub.size() <= budget:
            got, _, n, p = _enumerate(sub, einsum, homes, depth, workers, progress, shared=shared)
            fronts.update(got)
            evaluated, pruned = evaluated + n, pruned + p
        else:
            climb.append(sub)
    for sub in climb:
        res = search(sub, objective, "hill", budget=max(budget // len(climb), budget // 16), seed=seed, workers=workers,
                     size=sub.size(), progress=progress,
                     weight=lambda enc: mask_fractions(einsum, problem.dims, enc))
        evaluated += res.evaluations
        found = [p.mapping for p in res.pareto] + ([res.best] if res.best is not None else [])
        if found:
            _, _, got = _scored(problem, hier, einsum, encode(problem, hier, found, homes), depth, shared, homes)
            fronts.update(got)
    return fronts, sizes, evaluated, pruned


def _open_tail(choices: tuple) -> list["Choice"]:
    """The choices of the fusion group that ends the tuple (from the Einsum that opened it)."""
    i = len(choices) - 1
    while choices[i].variant.home_in is not None:
        i -= 1
    return list(choices[i:])


def group_latency(groups: list[list["Choice"]]) -> np.ndarray:
    """The closed-form pipelined latency (einsim.sim.kernels.pipeline.latency_bound) of each fusion
    group, given as its members' choices in order (they share one key: the group's loops)."""
    S = max(len(g) for g in groups)
    ports = sorted({p for g in groups for c in g for p in c.signature[0]}) or [""]
    n = len(groups)
    P = np.ones(n, dtype=np.int64)
    unit = np.zeros((n, S), dtype=np.int64)
    t = np.zeros((n, S))
    m = np.zeros((n, S, len(ports)))
    slots = np.zeros((n, S, S), dtype=np.int64)
    for k, g in enumerate(groups):
        P[k] = math.prod(lp.factor for lp in g[0].key)
        units = list(dict.fromkeys(c.variant.unit for c in g))
        for s, c in enumerate(g):
            unit[k, s] = units.index(c.variant.unit)
            t[k, s] = c.latency_s / P[k]
            for p, v in zip(c.signature[0], c.ports_s):
                m[k, s, ports.index(p)] = v / P[k]
            if s > 0:
                both = dict(g[s - 1].signature[1]).get(g[s - 1].output) and dict(c.signature[1]).get(g[s - 1].output)
                slots[k, s - 1, s] = 2 if both else 1
        for s in range(len(g), S):  # padding: empty stages after the last, on a unit of their own
            unit[k, s] = S + s
    out = np.zeros(n)
    latency_bound_batch(P, unit, t, m, slots, out)
    return out


def _assemble(name: str, choices: tuple) -> CascadeMapping:
    """A CascadeMapping from the join's choices: consecutive fused Einsums form one group."""
    mappings: list[Mapping] = [c.mapping for c in choices]
    groups: list[FusionGroup] = []
    current: list[str] = []
    homes: dict[str, str] = {}
    loops: Key = ()
    for c in choices:
        ename, output, v, key = c.einsum, c.output, c.variant, c.key
        if v.home_in is None and current:
            groups.append(FusionGroup(tuple(current), loops, homes))
            current, homes = [], {}
        if v.home_in or v.home_out:
            current.append(ename)
            loops = key
            if v.home_out:
                homes = {**homes, output: v.home_out}
    if current:
        groups.append(FusionGroup(tuple(current), loops, homes))
    return CascadeMapping(name, tuple(mappings), tuple(groups))
