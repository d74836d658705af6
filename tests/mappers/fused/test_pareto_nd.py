"""The n-dimensional Pareto filter of fused stages keeps exactly the rows no other row beats."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.mappers.fused.search import pareto_nd


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda k: st.lists(st.lists(st.integers(0, 3), min_size=k, max_size=k),
                                                      min_size=1, max_size=30)))
def test_pareto_nd_equals_the_definition(rows) -> None:
    cols = np.array(rows, dtype=float)
    want = []
    for i, r in enumerate(cols):
        beaten = any(np.all(cols[j] <= r) and (np.any(cols[j] < r) or j < i) for j in range(len(cols)) if j != i)
        if not beaten:
            want.append(i)
    assert pareto_nd(cols).tolist() == want
