"""The numba LRU stack-distance kernel equals its twins on random access streams: its distances
equal the move-to-front list's, and below a capacity they are the OrderedDict LRU's hits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.kernels.cache_lru import NEVER, lru_stack_distances
from einsim.sim.phone import cache_hits, hits_at, stack_distances
from einsim.sim.reference.cache_lru import NEVER as TWIN_NEVER
from einsim.sim.reference.cache_lru import lru_hits as lru_twin
from einsim.sim.reference.cache_lru import stack_distances as distances_twin


@st.composite
def _cases(draw):
    n = draw(st.integers(1, 24))
    ids = draw(st.lists(st.integers(0, n - 1), max_size=80))
    cap = draw(st.integers(0, n + 2))
    warm = draw(st.permutations(range(n)))[: draw(st.integers(0, n))]
    return n, ids, cap, warm


@settings(max_examples=300, deadline=None)
@given(_cases())
def test_kernel_equals_twins(case):
    n, ids, cap, warm = case
    dist = lru_stack_distances(np.array(ids, np.int64), n, np.array(warm, np.int64))
    assert dist.tolist() == distances_twin(ids, warm)
    assert (dist < cap).astype(int).tolist() == lru_twin(ids, cap, warm)


def test_never_used_ids_miss_at_every_capacity():
    assert NEVER == TWIN_NEVER
    dist = lru_stack_distances(np.array([3, 3, 1], np.int64), 4, np.array([1], np.int64))
    assert dist.tolist() == [NEVER, 0, 1]


def test_cyclic_scan_larger_than_the_cache_always_misses():
    hits = cache_hits([np.arange(10)] * 5, 10, 9)
    assert not any(h.any() for h in hits)


def test_per_token_split_and_warm_start():
    hits = cache_hits([np.array([0, 1]), np.array([1, 2])], 3, 2, warm=np.array([1]))
    assert [h.tolist() for h in hits] == [[False, True], [True, False]]


def test_one_pass_serves_every_capacity():
    accesses = [np.array([0, 1, 2]), np.array([2, 0]), np.array([3, 1])]
    dist = stack_distances(accesses, 4, warm=np.array([2, 1]))
    flat = np.concatenate(accesses).tolist()
    for cap in range(6):
        assert np.concatenate(hits_at(dist, cap)).astype(int).tolist() == lru_twin(flat, cap, [2, 1])
