"""The vectorized non-dominated sort against a brute-force O(n^2) check."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from einsim.explore.pareto import crowding, dominated, front_mask, ranks


def brute_front(v: np.ndarray) -> np.ndarray:
    n = len(v)
    on = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if i != j and all(v[j] <= v[i]) and any(v[j] < v[i]):
                on[i] = False
                break
    return on


values = st.integers(2, 3).flatmap(
    lambda k: arrays(np.float64, st.tuples(st.integers(0, 40), st.just(k)),
                     elements=st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 10.0, 1e-9, 1e9])))


@settings(max_examples=200, deadline=None)
@given(values)
def test_front_matches_brute_force(v) -> None:
    assert np.array_equal(front_mask(v), brute_front(v))


@settings(max_examples=60, deadline=None)
@given(values)
def test_ranks_peel_fronts(v) -> None:
    r = ranks(v)
    assert (r >= 0).all()
    for level in np.unique(r):
        rest = r >= level
        assert np.array_equal(r[rest] == level, brute_front(v[rest]))


def test_blocks_and_nan() -> None:
    rng = np.random.default_rng(0)
    v = rng.random((1300, 2))  # more rows than one comparison block
    assert np.array_equal(front_mask(v), brute_front(v))
    w = np.array([[2.0, np.nan], [1.0, 1.0]])  # NaN counts as +inf
    assert list(dominated(w)) == [True, False]


def test_crowding_boundaries_are_infinite() -> None:
    v = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    c = crowding(v)
    assert np.isinf(c[0]) and np.isinf(c[3]) and np.isfinite(c[1:3]).all()
