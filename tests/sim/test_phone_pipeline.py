"""The numba cluster-pipeline schedule equals its pure-Python twin; basic schedule properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.kernels.phone_pipeline import STAGE_UNIT, pipeline
from einsim.sim.phone import cluster_pipeline
from einsim.sim.reference.phone_pipeline import pipeline as twin


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), min_size=5, max_size=5), min_size=1, max_size=8),
       st.integers(1, 4), st.integers(1, 2))
def test_kernel_equals_twin(durations, n_compute, n_io):
    d = np.array(durations, float)
    start, end = pipeline(d, STAGE_UNIT, n_compute, n_io)
    s2, e2 = twin(durations, STAGE_UNIT.tolist(), n_compute, n_io)
    assert np.array_equal(start, np.array(s2)) and np.array_equal(end, np.array(e2))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.floats(0, 3), min_size=5, max_size=5), min_size=1, max_size=10), st.integers(1, 4))
def test_stage_order_and_bounds(durations, n_compute):
    d = np.array(durations)
    s = cluster_pipeline(d, n_compute)
    assert np.all(s.start[:, 1:] >= s.end[:, :-1] - 1e-12)  # stages of a cluster in order
    io = d[:, STAGE_UNIT == 1].sum()
    assert s.makespan >= io - 1e-9  # one I/O thread serves every read
    assert s.makespan <= d.sum() + 1e-9  # never worse than running everything serially


def test_io_hides_under_compute():
    # each cluster: 1 s of gate I/O and 2 s of compute; with 2 compute threads the reads overlap
    d = np.tile([0.0, 1.0, 1.0, 0.0, 1.0], (4, 1))
    assert cluster_pipeline(d, 2).makespan < d.sum() / 2 + 1.0
