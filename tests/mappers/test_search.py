"""Search: exhaustive equals brute force, one answer whatever the workers, hill climbing finds the optimum."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.mappers.mapspace import Constraints, Mapspace
from einsim.mappers.search import search
from einsim.sim.nest import Encoded, Hierarchy, Level, NestProblem, encode, evaluate_encoded

GEMM = NestProblem("Z", ("m", "n", "k"), (8, 12, 16), ("A", "B", "Z"),
                   (((1, 0, 0), (0, 0, 1)), ((0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0))), 2)
H = Hierarchy((Level("DRAM", read_J=1e-12, write_J=1e-12, update_J=1e-12, read_bw_words=8.0, write_bw_words=8.0),
               Level("Buf", fanout=8, capacity_words=256, read_J=2e-13, write_J=2e-13, update_J=2e-13),
               Level("Reg", capacity_words=8, read_J=1e-14, write_J=1e-14, update_J=1e-14)), "MAC", 1e-13, clock_Hz=1e9)


SMALL = NestProblem("Z", GEMM.dims, (4, 6, 4), GEMM.tensors, GEMM.projections, 2)


@pytest.fixture(scope="module")
def space() -> Mapspace:
    return Mapspace(GEMM, H)  # 48,977 mappings


def _brute(space: Mapspace, objective: str) -> float:
    parts = list(space.chunks(1 << 14))
    enc = Encoded(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("temporal", "spatial", "order", "keep")))
    out = evaluate_encoded(space.problem, space.hierarchy, enc)
    lat, en = out.cycles / H.clock_Hz, out.energy_J.sum(axis=1)
    score = {"latency": lat, "energy": en, "edp": lat * en}[objective]
    return float(np.where(out.valid, score, np.inf).min())


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_exhaustive_equals_brute_force(space, objective) -> None:
    res = search(space, objective, "exhaustive", chunk=5000)
    assert res.evaluations == space.size()
    assert res.score == _brute(space, objective)
    _check(res, objective)


def test_exhaustive_equals_brute_force_with_bypass_choices() -> None:
    small = Mapspace(SMALL, H, Constraints(enumerate_keep=True))
    res = search(small, "edp", "exhaustive", chunk=5000)
    assert res.evaluations == small.size()
    assert res.score == _brute(small, "edp")
    _check(res, "edp", SMALL)


def _check(res, objective: str, problem: NestProblem = GEMM) -> None:
    # the reported mapping evaluates to the reported cost
    again = evaluate_encoded(problem, H, encode(problem, H, [res.best])).one(0)
    assert again.valid and again.cycles / H.clock_Hz == res.latency_s
    assert again.energy_J.sum() == res.energy_J
    # the Pareto set: no point dominates another, and it holds the optimum of each objective
    pts = [(p.latency_s, p.energy_J) for p in res.pareto]
    assert pts == sorted(pts)
    assert all(b[1] < a[1] for a, b in zip(pts, pts[1:]))
    assert min({"latency": l, "energy": e, "edp": l * e}[objective] for l, e in pts) == res.score


@pytest.mark.parametrize("method", ["exhaustive", "random", "hill"])
def test_same_answer_with_any_worker_count(space, method) -> None:
    runs = [search(space, "edp", method, budget=20_000, seed=7, workers=w, chunk=4096, population=512) for w in (1, 2, 3)]
    first = runs[0]
    for r in runs[1:]:
        assert r.best == first.best and r.score == first.score and r.evaluations == first.evaluations
        assert [(p.latency_s, p.energy_J, p.mapping) for p in r.pareto] == \
               [(p.latency_s, p.energy_J, p.mapping) for p in first.pareto]


def test_seed_changes_random_draws(space) -> None:
    a = search(space, "edp", "random", budget=2000, seed=1, chunk=1000)
    b = search(space, "edp", "random", budget=2000, seed=2, chunk=1000)
    assert a.valid_evaluations != b.valid_evaluations or a.best != b.best


@pytest.mark.parametrize("objective,tolerance", [("latency", 0.0), ("energy", 0.05), ("edp", 0.05)])
def test_hill_climbing_reaches_the_exhaustive_optimum(space, objective, tolerance) -> None:
    """Evaluating a fifth of this space, hill climbing finds the latency optimum exactly and the
    energy and EDP optima within 5 % (single-move climbers can stop in local optima)."""
    best = _brute(space, objective)
    res = search(space, objective, "hill", budget=10_000, seed=0, population=256)
    assert res.evaluations == 10_000
    assert best <= res.score <= best * (1 + tolerance)


def test_auto_picks_exhaustive_when_the_space_fits(space) -> None:
    assert search(space, "latency", "auto", budget=space.size()).method == "exhaustive"
    assert search(space, "latency", "auto", budget=1000).method == "hill"


CONV = NestProblem("Y", ("p", "r", "k"), (8, 3, 4), ("X", "W", "Y"),
                   (((1, 1, 0),), ((0, 1, 0), (0, 0, 1)), ((1, 0, 0), (0, 0, 1))), 2)


@pytest.mark.parametrize("problem,bypass", [(GEMM, False), (SMALL, True), (CONV, True)], ids=["gemm", "small_bypass", "conv_bypass"])
@pytest.mark.parametrize("slack", [0.0, 0.01])
def test_bound_search_returns_the_brute_force_energy_optimum(problem, bypass, slack, monkeypatch) -> None:
    """The best-first bound scores fewer points than the space holds and returns exactly the
    brute-force energy optimum, proven; with no slack the first band holds only the least floor,
    so the second scan (every floor up to the best) is what finds it where the floor is loose."""
    import einsim.mappers.search as search_module

    monkeypatch.setattr(search_module, "BOUND_SLACK", slack)
    space = Mapspace(problem, H, Constraints(enumerate_keep=bypass))
    res = search(space, "energy", "bound")
    assert res.optimal and res.method == "bound"
    assert res.evaluations < space.size()
    assert res.score == _brute(space, "energy")
    _check(res, "energy", problem)


def test_bound_search_over_budget_says_it_is_not_proven() -> None:
    space = Mapspace(GEMM, H)
    res = search(space, "energy", "bound", budget=10)
    assert not res.optimal and res.evaluations <= 10


def test_bound_search_needs_the_energy_objective(space) -> None:
    from einsim.errors import EinsimError

    with pytest.raises(EinsimError, match="energy objective"):
        search(space, "latency", "bound")
