"""Search a Mapspace for the best mapping by latency, energy or EDP, and its latency-energy Pareto set.

Methods: ``exhaustive`` (every point), ``random`` (seeded uniform draws, see Mapspace.sample),
``hill`` (a population of hill climbers: one local move per climber per step, sideways moves
accepted, a climber that has not improved for ``patience`` steps restarts from a random point),
``bound`` (exact best-first branch and bound on the energy objective, below), and ``auto``
(exhaustive when the space fits the budget, else hill).

``bound``: every factorization's energy floor (Mapspace.floor_scan: a lower bound on every valid
point of it, counting refills; einsim.sim.reference.energy_floor has the argument) is computed in
the kernel, which keeps only those within ``BOUND_SLACK`` of the least floor; their points are
scored factorization by factorization in increasing floor order until the next floor exceeds the
best energy found. Every factorization left out or not reached has a floor above the best, so no
point of it beats the best: the result is optimal (``optimal``). Within a factorization, the points
of a keep choice whose own floor (the same bound for that choice alone) exceeds the best so far are
not scored either. If the best is above the kept
band, a second scan keeps every factorization whose floor does not exceed the best and the same
loop runs on those not scored yet. If the points to score exceed ``budget``, the result says
``optimal: False`` (the caller falls back to climbing). The Pareto set is that of the scored
points.

Determinism: the work is cut into tasks that do not depend on the number of workers (chunks of
the enumeration, chunks of random draws, groups of climbers), each task draws from its own
generator seeded by (seed, method, task), and every evaluated row carries a key (task, position).
Results are merged by (objective, key) and the Pareto set by (latency, energy, key), so one seed
gives one answer with any ``workers``. Workers are threads: the kernel releases the GIL.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from einsim.errors import EinsimError
from einsim.mappers.mapping import Mapping
from einsim.mappers.mapspace import Mapspace, encoded_row_to_mapping
from einsim.sim.nest import Encoded, NestCounts, evaluate_encoded

OBJECTIVES = ("latency", "energy", "edp")


def objective_score(objective: str, latency, energy):
    """The score an objective ranks by (smaller is better), of floats or numpy arrays alike."""
    return {"latency": latency, "energy": energy, "edp": latency * energy}[objective]
METHODS = ("auto", "exhaustive", "random", "hill", "bound")
BOUND_SLACK = 0.01  # the first scan keeps the factorizations within 1 % of the least floor
HILL_GROUPS = 8  # climber groups (tasks); fixed so that results do not depend on the workers
_METHOD_ID = {"exhaustive": 0, "random": 1, "hill": 2, "bound": 3}


@dataclass(frozen=True)
class ParetoPoint:
    latency_s: float
    energy_J: float
    mapping: Mapping


@dataclass
class SearchResult:
    objective: str
    method: str
    mapspace_size: int
    best: Mapping | None  # None when no evaluated mapping was valid
    counts: NestCounts | None
    score: float  # the objective of the best mapping (s, J or J*s)
    latency_s: float
    energy_J: float
    level_bytes: dict[str, float]  # bytes moved at each level (reads, fills, updates; all instances)
    pareto: list[ParetoPoint]  # by increasing latency
    evaluations: int
    valid_evaluations: int
    seconds: float
    optimal: bool = False  # proven optimal within the space (exhaustive, or bound with every floor above the best)

    @property
    def evals_per_s(self) -> float:
        return self.evaluations / self.seconds if self.seconds > 0 else math.inf


@dataclass
class _Found:
    """What one task keeps: its best row and its Pareto rows, with their keys."""

    score: np.ndarray  # [k] objective
    latency: np.ndarray
    energy: np.ndarray
    key: np.ndarray  # [k] int64 ordering key
    rows: Encoded  # the k rows
    evaluations: int = 0
    valid: int = 0


def _take(enc: Encoded, rows: np.ndarray) -> Encoded:
    return Encoded(enc.temporal[rows], enc.spatial[rows], enc.order[rows], enc.keep[rows], enc.axes()[rows])


def _cat(encs: list[Encoded]) -> Encoded:
    return Encoded(*(np.concatenate([getattr(e, f) for e in encs]) for f in ("temporal", "spatial", "order", "keep")),
                   np.concatenate([e.axes() for e in encs]))


def pareto_rows(latency: np.ndarray, energy: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both latency and energy (ties: smallest key),
    by increasing latency."""
    ok = np.isfinite(latency) & np.isfinite(energy)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return idx
    idx = idx[np.lexsort((key[idx], energy[idx], latency[idx]))]
    e = energy[idx]
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(e)[:-1]])
    return idx[e < best_before]


class _Scorer:
    def __init__(self, space: Mapspace, objective: str, weight: Callable[[Encoded], np.ndarray] | None = None):
        if objective not in OBJECTIVES:
            raise EinsimError(f"unknown objective {objective!r} (valid: {', '.join(OBJECTIVES)})")
        self.space = space
        self.objective = objective
        self.clock = space.hierarchy.clock_Hz
        self.weight = weight

    def __call__(self, enc: Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(score, latency s, energy J, valid) of every row; invalid rows score inf."""
        counts = evaluate_encoded(self.space.problem, self.space.hierarchy, enc)
        latency = counts.cycles / self.clock
        energy = counts.energy_J.sum(axis=1)
        if self.weight is not None:
            w = self.weight(enc)
            latency, energy = latency * w, energy * w
        score = objective_score(self.objective, latency, energy)
        score = np.where(counts.valid, score, np.inf)
        return score, np.where(counts.valid, latency, np.inf), np.where(counts.valid, energy, np.inf), counts.valid

    def found(self, enc: Encoded, key: np.ndarray) -> _Found:
        score, latency, energy, valid = self(enc)
        return _reduce(score, latency, energy, key, enc, len(key), int(valid.sum()))


def _reduce(score, latency, energy, key, enc: Encoded, evaluations: int, valid: int) -> _Found:
    """Keep the best row (smallest score, then key) and the Pareto rows."""
    keep = pareto_rows(latency, energy, key)
    if np.isfinite(score).any():
        best = np.lexsort((key, score))[0]
        keep = np.unique(np.concatenate([[best], keep]))
    return _Found(score[keep], latency[keep], energy[keep], key[keep], _take(enc, keep), evaluations, valid)


def _merge(parts: Iterable[_Found]) -> _Found:
    parts = [p for p in parts if p is not None]
    cat = lambda f: np.concatenate([getattr(p, f) for p in parts])  # noqa: E731
    return _reduce(cat("score"), cat("latency"), cat("energy"), cat("key"), _cat([p.rows for p in parts]),
                   sum(p.evaluations for p in parts), sum(p.valid for p in parts))


def _run(tasks: Iterator[Callable[[], _Found]], workers: int, progress: Callable[[int], None] | None = None) -> _Found:
    """Run task thunks (in any order on ``workers`` threads) and merge their results; at most
    2 x workers tasks are in flight so that lazily generated chunks do not pile up in memory.
    ``progress`` is told the evaluations of each finished task."""
    found: list[_Found] = []

    def done(result: _Found) -> None:
        if progress is not None:
            progress(result.evaluations)
        found.append(result)

    if workers <= 1:
        for task in tasks:
            done(task())
            found[:] = [_merge(found)]
        return _merge(found)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for task in tasks:
            pending.append(pool.submit(task))
            if len(pending) >= 2 * workers:
                done(pending.pop(0).result())
                found[:] = [_merge(found)]
        for f in pending:
            done(f.result())
    return _merge(found)


def _exhaustive(space: Mapspace, scorer: _Scorer, chunk: int) -> Iterator[Callable[[], _Found]]:
    for c, genome in enumerate(space.genomes(chunk)):
        key = c * chunk + np.arange(len(genome), dtype=np.int64)
        yield lambda g=genome, k=key: scorer.found(space.encode(g), k)


def _random(space: Mapspace, scorer: _Scorer, budget: int, seed: int, chunk: int) -> Iterator[Callable[[], _Found]]:
    for c, start in enumerate(range(0, budget, chunk)):
        n = min(chunk, budget - start)

        def task(c: int = c, n: int = n) -> _Found:
            rng = np.random.default_rng([seed, _METHOD_ID["random"], c])
            return scorer.found(space.encode(space.sample(rng, n)), c * chunk + np.arange(n, dtype=np.int64))

        yield task


def _climb(space: Mapspace, scorer: _Scorer, budget: int, seed: int, group: int, population: int,
           patience: int) -> _Found:
    """One group of hill climbers with ``budget`` evaluations."""
    rng = np.random.default_rng([seed, _METHOD_ID["hill"], group])
    base = np.int64(group) << np.int64(40)
    n = max(1, min(population, budget))
    cur = space.sample(rng, n)
    enc = space.encode(cur)
    score, latency, energy, valid = scorer(enc)
    found = [_reduce(score, latency, energy, base + np.arange(n, dtype=np.int64), enc, n, int(valid.sum()))]
    used = n
    stall = np.zeros(n, dtype=np.int64)
    while used < budget:
        m = min(n, budget - used)
        rows = np.arange(m)
        restart = stall[:m] >= patience
        trial = space.mutate(rng, cur.take(rows))
        if restart.any():
            fresh = space.sample(rng, int(restart.sum()))
            trial.fidx[restart], trial.oidx[restart], trial.kidx[restart] = fresh.fidx, fresh.oidx, fresh.kidx
        enc = space.encode(trial)
        s, lat, en, ok = scorer(enc)
        found.append(_reduce(s, lat, en, base + used + rows, enc, m, int(ok.sum())))
        better = s < score[:m]
        accept = (s <= score[:m]) | restart
        stall[:m] = np.where(better | restart, 0, stall[:m] + 1)
        cur.fidx[:m][accept], cur.oidx[:m][accept], cur.kidx[:m][accept] = (
            trial.fidx[accept], trial.oidx[accept], trial.kidx[accept])
        score[:m][accept] = s[accept]
        used += m
        if len(found) >= 16:
            found = [_merge(found)]
    return _merge(found)


def _hill(space: Mapspace, scorer: _Scorer, budget: int, seed: int, population: int,
          patience: int) -> Iterator[Callable[[], _Found]]:
    for g in range(HILL_GROUPS):
        share = budget // HILL_GROUPS + (1 if g < budget % HILL_GROUPS else 0)
        if share:
            yield lambda g=g, share=share: _climb(space, scorer, share, seed, g, population, patience)


def search(space: Mapspace, objective: str = "edp", method: str = "auto", budget: int = 1_000_000, seed: int = 0,
           workers: int = 1, chunk: int = 1 << 16, population: int = 2048, patience: int = 32,
           size: int | None = None, progress: Callable[[int], None] | None = None,
           weight: Callable[[Encoded], np.ndarray] | None = None, share: float = 1.0) -> SearchResult:
    """Search ``space``; ``budget`` bounds the evaluations of random, hill and bound (and picks the method
    for ``auto``); ``size`` is the space's size if already known; ``progress(n)`` is called as
    batches of n evaluations finish; ``weight(enc)`` ([N], e.g. the share of a masked Einsum's array
    steps that run) scales each row's latency and energy before it is ranked, and ``share`` is a
    number no weight goes under (the bound scales the floor by it)."""
    if method not in METHODS:
        raise EinsimError(f"unknown search method {method!r} (valid: {', '.join(METHODS)})")
    if budget < 1 or workers < 1 or chunk < 1:
        raise EinsimError("budget, workers and chunk are positive whole numbers")
    if method == "bound" and objective != "energy":
        raise EinsimError("search method 'bound' needs the energy objective (its floor bounds energy)")
    scorer = _Scorer(space, objective, weight)
    size = space.size() if size is None else size
    if method == "auto":
        method = "exhaustive" if size <= budget else "hill"
    start = time.perf_counter()
    if method == "bound":
        found, optimal = _best_first(space, scorer, budget, share, workers, chunk, progress)
        return _result(space, found, objective, method, size, time.perf_counter() - start, optimal)
    if method == "exhaustive":
        tasks = _exhaustive(space, scorer, chunk)
    elif method == "random":
        tasks = _random(space, scorer, budget, seed, chunk)
    else:
        tasks = _hill(space, scorer, budget, seed, population, patience)
    found = _run(tasks, workers, progress)
    seconds = time.perf_counter() - start
    return _result(space, found, objective, method, size, seconds, method == "exhaustive")


def _best_first(space: Mapspace, scorer: _Scorer, budget: int, share: float, workers: int, chunk: int,
                progress: Callable[[int], None] | None) -> tuple[_Found, bool]:
    """(what was scored, whether its best is proven optimal); see the module docstring."""
    empty = _Found(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64),
                   space.encode(space.points_of_factorizations(np.zeros((0, space.D), dtype=np.int64))))
    fidx, floor, least, _ = space.floor_scan(slack=BOUND_SLACK)
    if not np.isfinite(least):  # no factorization has a valid point
        return empty, True
    band = least * (1 + BOUND_SLACK)
    keep = floor <= band
    found, scored, best = empty, 0, math.inf

    def run(fidx: np.ndarray, floor: np.ndarray) -> bool:
        """Score factorizations in floor order until the next floor is above the best; False when
        the points would exceed the budget."""
        nonlocal found, scored, best
        order = np.argsort(floor, kind="stable")  # ties in enumeration order: deterministic
        fidx, floor = fidx[order], floor[order] * share
        i = 0
        step = 16
        while i < len(fidx) and floor[i] <= best * (1 + 1e-9):  # a float tie must not prune the optimum
            j = i + 1
            while j < len(fidx) and j - i < step and floor[j] <= best * (1 + 1e-9):
                j += 1
            _, per_choice = space.energy_floors(fidx[i:j])  # keep choices whose floor is above the best are skipped
            genome = space.points_of_factorizations(fidx[i:j], per_choice * share <= best * (1 + 1e-9))
            if scored + len(genome) > budget:
                return False
            tasks = [lambda g=genome.take(np.arange(a, min(a + chunk, len(genome)))), first=scored + a:
                     scorer.found(space.encode(g), first + np.arange(len(g), dtype=np.int64))
                     for a in range(0, len(genome), chunk)]
            found = _merge([found, _run(iter(tasks), workers, progress)])
            scored += len(genome)
            if np.isfinite(found.score).any():
                best = float(found.score.min())
            i, step = j, step * 2
        return True

    if not run(fidx[keep], floor[keep]):
        return found, False
    if best > band * share * (1 + 1e-9):  # the best lies above the band: every floor up to it must be seen
        more, more_floor, _, _ = space.floor_scan(limit=best / share * (1 + 1e-9))
        fresh = more_floor > band
        if not run(more[fresh], more_floor[fresh]):
            return found, False
    return found, True


def _result(space: Mapspace, found: _Found, objective: str, method: str, size: int, seconds: float,
            optimal: bool = False) -> SearchResult:
    problem, hierarchy = space.problem, space.hierarchy
    front = pareto_rows(found.latency, found.energy, found.key)
    pareto = [ParetoPoint(float(found.latency[i]), float(found.energy[i]),
                          encoded_row_to_mapping(problem, hierarchy, found.rows, int(i))) for i in front]
    if not np.isfinite(found.score).any():
        return SearchResult(objective, method, size, None, None, math.inf, math.inf, math.inf, {}, pareto,
                            found.evaluations, found.valid, seconds, optimal)
    b = int(np.lexsort((found.key, found.score))[0])
    row = _take(found.rows, np.array([b]))
    counts = evaluate_encoded(problem, hierarchy, row).one(0)
    moved = (counts.reads + counts.fills + counts.updates).sum(axis=1) * counts.instances[:-1] * hierarchy.word_bytes
    return SearchResult(
        objective, method, size, encoded_row_to_mapping(problem, hierarchy, found.rows, b), counts,
        float(found.score[b]), float(found.latency[b]), float(found.energy[b]),
        {lv.name: float(v) for lv, v in zip(hierarchy.levels, moved)}, pareto, found.evaluations, found.valid, seconds,
        optimal)
