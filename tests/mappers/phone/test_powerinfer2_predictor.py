"""PowerInfer-2's predictor stage in the layer's task graph: per-thread bandwidth, input factors on
every compute thread before the clusters' predict stages, only for cold neurons."""

from __future__ import annotations

import pytest

from einsim.mappers.phone.powerinfer2 import Features, _Layer, _layer_graph
from einsim.sim.phone_events import Platform, simulate

PLAT = Platform((("compute", 5, "CPU"), ("io", 1, "CPU")), {frozenset({"CPU"}): 43.9e9})


def _makespan(n_clusters: int, pred_in_B: float, pred_cols_B: float, pipeline: bool = True) -> float:
    clusters = [(0, 0.0, 0, 0.0)] * n_clusters  # all resident, no rows: only the predictor runs
    work = _Layer(0.0, 0.0, 0.0, pred_in_B, pred_cols_B, clusters)
    g = _layer_graph(work, Features(pipeline=pipeline, xpu=False), PLAT, 5, t_read_dev=1e-5, per_thread_bw=1e9,
                     row_cap=1e9, bw_npu=1e9, act_copy_B=0.0)
    return simulate([g], PLAT)[0].makespan


@pytest.mark.parametrize("pipeline", [True, False])
def test_predictor_streams_at_per_thread_bandwidth(pipeline):
    # 5 clusters on 5 threads: the columns take 1/5 of their bytes each, at 1 GB/s per thread;
    # the input factor runs on all 5 threads first (5 GB/s)
    assert _makespan(5, 5e6, 10e6, pipeline) == pytest.approx(5e6 / 5e9 + 10e6 / 5 / 1e9)


def test_one_cluster_predicts_on_one_thread():
    assert _makespan(1, 0.0, 10e6) == pytest.approx(10e6 / 1e9)


def test_more_clusters_than_threads_queue_for_them():
    # 10 clusters of 1 MB on 5 threads: two rounds
    assert _makespan(10, 0.0, 10e6) == pytest.approx(2e-3)
