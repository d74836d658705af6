"""The whole-cascade search returns exactly the brute-force optimum and front on small cases."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.mappers.cascade_mapping import CascadeMapping, FusionGroup, nest_loops
from einsim.mappers.fused import evaluate_mapping, map_cascade
from einsim.mappers.fused.evaluate import einsum_cost
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Mapspace
from einsim.sim.nest import NestProblem

HERE = Path(__file__).parent
ARCH = load_arch(HERE / "tiny_arch.yaml")
CHAIN = load_workload(str(HERE / "chain2.yaml"))
HOME = "GlobalBuffer"


def _all_mappings(einsum):
    hier = hierarchy_for(ARCH, "Array", einsum)
    space = Mapspace(NestProblem.from_einsum(einsum), hier)
    return [space.to_mapping(enc, k) for enc in space.chunks(4096) for k in range(len(enc.keep))]


def _brute_force():
    """Every full mapping of the chain: both Einsums unfused, or H fused at the buffer with every
    loop above the buffer shared. Returns (latency, energy, CascadeMapping or None if invalid) per mapping."""
    e1, e2 = CHAIN.einsum("H"), CHAIN.einsum("Y")
    m1, m2 = _all_mappings(e1), _all_mappings(e2)
    out = []
    for homes in ({}, {"H": HOME}):
        c1 = [einsum_cost(ARCH, e1, m, homes) for m in m1]
        c2 = [einsum_cost(ARCH, e2, m, homes) for m in m2]
        above = lambda m, e: [lp for lp in nest_loops(m, tuple(e.space)) if lp.level == "DRAM"]  # noqa: E731
        for (a, ca), (b, cb) in itertools.product(zip(m1, c1), zip(m2, c2)):
            if homes and above(a, e1) != above(b, e2):
                continue
            valid = ca.counts.valid and cb.counts.valid
            groups = (FusionGroup(("H", "Y"), tuple(above(a, e1)), dict(homes)),) if homes else ()
            out.append((ca.latency_s + cb.latency_s, ca.energy_J + cb.energy_J,
                        CascadeMapping("chain2", (a, b), groups) if valid else None))
    return out


BRUTE = None


def brute():
    global BRUTE
    if BRUTE is None:
        BRUTE = _brute_force()
    return BRUTE


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_search_returns_the_brute_force_optimum(objective) -> None:
    rows = brute()
    score = lambda lat, en: {"latency": lat, "energy": en, "edp": lat * en}[objective]  # noqa: E731
    best = min(score(lat, en) for lat, en, cm in rows if cm is not None)
    res = map_cascade(CHAIN, ARCH, objective)
    assert res.optimal
    assert res.mapspace_size == len(rows)
    assert res.score == pytest.approx(best, rel=1e-12)
    cost = evaluate_mapping(res.best, CHAIN, ARCH)  # the mapping it prints is valid and scores as reported
    assert cost.valid
    assert score(cost.latency_s, cost.energy_J) == pytest.approx(res.score, rel=1e-12)


def test_front_is_the_brute_force_front() -> None:
    rows = [(lat, en) for lat, en, cm in brute() if cm is not None]
    lat, en = np.array(rows).T
    front = sorted({(a, b) for a, b in rows if not np.any((lat <= a) & (en <= b) & ((lat < a) | (en < b)))})
    res = map_cascade(CHAIN, ARCH, "edp")
    got = [(a, b) for a, b, _ in res.pareto]
    assert len(got) == len(front)
    np.testing.assert_allclose(np.array(got), np.array(front), rtol=1e-12)


def test_fusion_is_chosen_when_it_saves_dram_traffic() -> None:
    res = map_cascade(CHAIN, ARCH, "energy")
    unfused = map_cascade(CHAIN, ARCH, "energy", fuse=False)
    assert res.best.fusion and res.best.fusion[0].homes == {"H": HOME}
    assert res.energy_J < unfused.energy_J


def test_one_or_two_workers_give_the_same_answer() -> None:
    one = map_cascade(CHAIN, ARCH, "edp", workers=1)
    two = map_cascade(CHAIN, ARCH, "edp", workers=2)
    assert one.best == two.best and one.score == two.score
    assert [(a, b) for a, b, _ in one.pareto] == [(a, b) for a, b, _ in two.pareto]


@pytest.mark.parametrize("objective,einsum", [("latency", None), ("latency", "H"), ("latency", "Y")])
def test_branch_and_bound_returns_the_exhaustive_optimum(objective, einsum) -> None:
    """A budget below the space size: the climb's best bounds out the factorizations whose compute
    time alone exceeds it, the rest are enumerated, and the optimum equals full enumeration."""
    full = map_cascade(CHAIN, ARCH, objective, einsum=einsum, fuse=False)
    bounded = map_cascade(CHAIN, ARCH, objective, einsum=einsum, fuse=False, budget=60)
    assert full.optimal and bounded.optimal and not bounded.front_exact
    assert bounded.evaluated < full.evaluated  # the climb plus what the bound left is less than everything
    assert bounded.score == pytest.approx(full.score, rel=1e-12)


def test_energy_is_not_bounded_and_says_so() -> None:
    res = map_cascade(CHAIN, ARCH, "energy", fuse=False, budget=60)
    assert not res.optimal and not res.front_exact


@pytest.mark.parametrize("einsum", ["H", "Y"])
def test_energy_of_one_einsum_enumerates_without_a_climb(einsum) -> None:
    """Energy's bound is one constant (the compute energy), so a space within 4 x budget is enumerated
    at once: the exhaustive optimum, proven, and no evaluation spent on a climb."""
    full = map_cascade(CHAIN, ARCH, "energy", einsum=einsum, fuse=False, method="exhaustive")
    auto = map_cascade(CHAIN, ARCH, "energy", einsum=einsum, fuse=False, budget=100)
    assert full.mapspace_size > 100 and auto.optimal and auto.front_exact
    assert auto.evaluated == full.evaluated == full.mapspace_size
    assert auto.score == pytest.approx(full.score, rel=1e-12)
