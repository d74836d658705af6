"""PowerInfer-2's per-process caches (mappers/phone/powerinfer2.py): the cluster counts from LRU stack
distances against a direct replay of the LRU per capacity, and the content-keyed schedule cache against
simulating every (layer, token) graph afresh."""

from __future__ import annotations

import numpy as np
import pytest

import einsim.mappers.phone.powerinfer2 as pi
from einsim.mappers.phone.activations import generate
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.hardware import load_device
from einsim.sim.reference.cache_lru import lru_hits


@pytest.fixture(scope="module")
def setup():
    fp = footprint("bamboo_7b")
    trace = generate(fp, 1, 6, seed=4)
    rank, warm = pi._profile_order(fp, 1, 16, 5)
    return fp, trace, rank, warm


def _direct_clusters(ids, hit, active, bundle, row_B):
    """The per-token loop the counts replace: chunks of COLD_CLUSTER, misses counted per chunk."""
    out = []
    for c in range(max(1, -(-len(ids) // pi.COLD_CLUSTER))):
        sl = slice(c * pi.COLD_CLUSTER, (c + 1) * pi.COLD_CLUSTER)
        miss, act = ~hit[sl], active[sl]
        n_miss = int(np.count_nonzero(miss))
        reads = (n_miss, int(np.count_nonzero(miss & act))) if bundle else (3 * n_miss, 0)
        out.append((reads[0], len(act) * row_B, reads[1], int(np.count_nonzero(act)) * 2 * row_B))
    return tuple(out)


@pytest.mark.parametrize("lru, capacity, bundle", [(True, 0, True), (True, 3000, True), (True, 3000, False),
                                                   (True, 10**6, True), (False, 20000, True), (False, 0, False),
                                                   (False, 10**6, True)])
def test_cluster_counts_equal_a_direct_lru_replay(setup, lru, capacity, bundle):
    fp, trace, rank, warm_order = setup
    n_hot, row_B = 1000, fp.d_model * 0.5
    cold, _ = pi._cold_predicted(trace, fp.ffn_dim, rank, n_hot, 0)
    warm = warm_order[0][~(rank[0] < n_hot)[warm_order[0]]]
    flat = np.concatenate(cold)
    flat_hits = np.array(lru_hits(flat.tolist(), capacity, warm.tolist()), bool) if lru else flat < capacity
    hits = np.split(flat_hits, np.cumsum([len(c) for c in cold])[:-1])
    got = pi._cold_clusters(trace, fp.ffn_dim, rank, warm_order, n_hot, 0, lru, capacity, bundle, row_B)
    assert len(got) == trace.tokens
    for t, (clusters, reads, cpu_B, misses) in enumerate(got):
        want = _direct_clusters(cold[t], hits[t], trace.active[t, 0, cold[t]], bundle, row_B)
        assert clusters == want
        assert reads == sum(c[0] + c[2] for c in want) and cpu_B == sum(c[1] + c[3] for c in want)
        assert misses == len(hits[t]) - int(np.count_nonzero(hits[t]))


def test_regression_schedule_cache_equals_simulating_every_graph(monkeypatch):
    dev, fp = load_device("oneplus12"), footprint("bamboo_7b")
    budget = pi.ffn_offload_budget(fp, 0.5)
    pi.powerinfer2(dev, fp, budget * 1.01)  # fills the caches with neighbouring budgets' graphs
    warm = pi.powerinfer2(dev, fp, budget)
    monkeypatch.setattr(pi, "_TIMED", {})
    cold = pi.powerinfer2(dev, fp, budget)
    assert cold == warm and len(pi._TIMED) > 0
