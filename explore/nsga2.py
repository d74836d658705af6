"""A small NSGA-II (Deb et al. 2002) over a sweep's axes, in the unit cube of axis coordinates.

Each generation's points are evaluated through the sweep engine (so they are stored, resumable and
parallel); selection reads their objectives back. The random stream depends only on the seed and
the objective values, so a run is the same on any number of workers and after a resume.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from einsim.explore.pareto import crowding, ranks
from einsim.explore.points import Point, assignment_at, resolve
from einsim.explore.spec import NSGA2, SweepSpec

Evaluate = Callable[[list[Point]], Mapping[str, np.ndarray]]  # points -> {key: objective vector}


def _survivors(objectives: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the ``size`` best rows by (rank, -crowding), with their ranks and crowding."""
    r = ranks(objectives)
    crowd = np.zeros(len(objectives))
    for level in np.unique(r):
        members = np.flatnonzero(r == level)
        crowd[members] = crowding(objectives[members])
    order = np.lexsort((-crowd, r))[:size]
    return order, r[order], crowd[order]


def _tournament(rng: np.random.Generator, r: np.ndarray, crowd: np.ndarray, n: int) -> np.ndarray:
    a, b = rng.integers(len(r), size=(2, n))
    a_wins = (r[a] < r[b]) | ((r[a] == r[b]) & (crowd[a] >= crowd[b]))
    return np.where(a_wins, a, b)


def _offspring(rng: np.random.Generator, parents: np.ndarray, n: int) -> np.ndarray:
    """Blend crossover of pairs and Gaussian mutation, clipped to [0, 1)."""
    d = parents.shape[1]
    pa, pb = parents[0::2][: (n + 1) // 2], parents[1::2][: (n + 1) // 2]
    w = rng.random((len(pa), d))
    kids = np.concatenate([w * pa + (1 - w) * pb, w * pb + (1 - w) * pa])[:n]
    mutate = rng.random(kids.shape) < 1.0 / d
    kids = kids + mutate * rng.normal(0.0, 0.2, kids.shape)
    return np.clip(kids, 0.0, np.nextafter(1.0, 0.0))


def run(spec: SweepSpec, evaluate: Evaluate) -> None:
    """Run the search; ``evaluate`` stores each generation's points and returns their objectives."""
    strategy = spec.strategy
    assert isinstance(strategy, NSGA2)
    rng = np.random.default_rng(strategy.seed)
    pop_u = rng.random((strategy.population, len(spec.axes)))
    idx = 0

    def score(u: np.ndarray, generation: int) -> np.ndarray:
        nonlocal idx
        pts = [resolve(spec, assignment_at(spec, row), idx + i, generation) for i, row in enumerate(u)]
        idx += len(pts)
        found = evaluate(pts)
        return np.array([found[p.key] for p in pts])

    pop_f = score(pop_u, 0)
    for generation in range(1, strategy.generations):
        keep, r, crowd = _survivors(pop_f, strategy.population)
        pop_u, pop_f = pop_u[keep], pop_f[keep]
        parents = pop_u[_tournament(rng, r, crowd, 2 * ((strategy.population + 1) // 2))]
        kids_u = _offspring(rng, parents, strategy.population)
        kids_f = score(kids_u, generation)
        pop_u, pop_f = np.concatenate([pop_u, kids_u]), np.concatenate([pop_f, kids_f])
