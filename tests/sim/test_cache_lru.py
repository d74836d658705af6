"""The numba LRU cache kernel equals its OrderedDict twin on random access streams."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.kernels.cache_lru import lru_hits
from einsim.sim.phone import cache_hits
from einsim.sim.reference.cache_lru import lru_hits as lru_twin


@st.composite
def _cases(draw):
    n = draw(st.integers(1, 24))
    ids = draw(st.lists(st.integers(0, n - 1), max_size=80))
    cap = draw(st.integers(0, n + 2))
    warm = draw(st.permutations(range(n)))[: draw(st.integers(0, n))]
    return n, ids, cap, warm


@settings(max_examples=300, deadline=None)
@given(_cases())
def test_kernel_equals_twin(case):
    n, ids, cap, warm = case
    got = lru_hits(np.array(ids, np.int64), n, cap, np.array(warm, np.int64))
    assert got.tolist() == lru_twin(ids, cap, warm)


def test_cyclic_scan_larger_than_the_cache_always_misses():
    hits = cache_hits([np.arange(10)] * 5, 10, 9)
    assert not any(h.any() for h in hits)


def test_per_token_split_and_warm_start():
    hits = cache_hits([np.array([0, 1]), np.array([1, 2])], 3, 2, warm=np.array([1]))
    assert [h.tolist() for h in hits] == [[False, True], [True, False]]
