"""The whole-cascade search ranks a masked Einsum by its masked costs (einsim.mappers.masking):
on a causal toy it returns the brute-force optimum of the masked costs, which the mapping that is
best unmasked misses."""

from __future__ import annotations

from pathlib import Path

import pytest

from einsim.arch import load_arch
from einsim.einsum import load_workload
from einsim.mappers.fused import evaluate_mapping, map_cascade
from einsim.mappers.fused.evaluate import einsum_cost
from einsim.mappers.hierarchy import hierarchy_for
from einsim.mappers.mapspace import Mapspace
from einsim.sim.nest import NestProblem

HERE = Path(__file__).parent
ARCH = load_arch(HERE / "tiny_arch.yaml")
CAUSAL = load_workload(str(HERE / "causal.yaml"))  # S[m, p] = Q[p, e] K[m, e], m <= p; M = P = 4


def _costs():
    e = CAUSAL.einsums[0]
    space = Mapspace(NestProblem.from_einsum(e), hierarchy_for(ARCH, "Array", e))
    mappings = [space.to_mapping(enc, k) for enc in space.chunks(4096) for k in range(len(enc.keep))]
    return [c for c in (einsum_cost(ARCH, e, m, {}) for m in mappings) if c.counts.valid]


@pytest.mark.parametrize("objective", ["energy", "latency", "edp"])
def test_masked_einsum_is_ranked_by_its_masked_cost(objective) -> None:
    costs = _costs()
    score = lambda lat, en: {"latency": lat, "energy": en, "edp": lat * en}[objective]  # noqa: E731
    best = min(score(c.latency_s, c.energy_J) for c in costs)
    res = map_cascade(CAUSAL, ARCH, objective)
    assert res.optimal
    assert res.score == pytest.approx(best, rel=1e-12)
    cost = evaluate_mapping(res.best, CAUSAL, ARCH)
    assert score(cost.latency_s, cost.energy_J) == pytest.approx(best, rel=1e-12)


def test_the_unmasked_optimum_is_not_the_masked_one() -> None:
    """Why ranking unmasked was wrong: the mapping with the least unmasked energy, charged masked,
    costs more than the masked optimum (it skips fewer wholly masked steps)."""
    costs = _costs()
    unmasked_best = min(costs, key=lambda c: c.energy_J / c.active_fraction)
    assert unmasked_best.energy_J > 1.1 * min(c.energy_J for c in costs)


def test_climb_and_bound_rank_masked_costs_too() -> None:
    """A budget below the space's 889 points: the climb ranks masked costs and the compute bound,
    scaled by the share of points the mask passes, stays admissible, so the optimum is proven."""
    best = min(c.latency_s for c in _costs())
    res = map_cascade(CAUSAL, ARCH, "latency", budget=60)
    assert res.optimal and res.evaluated < 889
    assert res.score == pytest.approx(best, rel=1e-12)
