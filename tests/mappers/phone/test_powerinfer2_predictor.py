"""PowerInfer-2's predictor stage: per-thread bandwidth, counted in DRAM bytes, only for cold neurons."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.mappers.phone.powerinfer2 import COLD_CLUSTER, Features, _cold_work


def _work(n_ids: int, pred_in_B: float, pred_cols_B: float, pipeline: bool = True):
    # per cluster of COLD_CLUSTER neurons: all resident (no misses, no I/O) and none active (no up/down work)
    sizes = np.diff(np.append(np.arange(0, n_ids, COLD_CLUSTER), n_ids))
    clusters = np.column_stack((sizes, np.zeros((len(sizes), 3), np.int64))).astype(np.int64)
    return _cold_work(clusters, Features(pipeline=pipeline), t_read=1e-5, row_B=0.0, row_s=0.0, per_thread_bw=1e9,
                      n_compute=5, pred_in_B=pred_in_B, pred_cols_B=pred_cols_B)


@pytest.mark.parametrize("pipeline", [True, False])
def test_predictor_streams_at_per_thread_bandwidth(pipeline):
    # 5 clusters on 5 threads: the columns take 1/5 of their bytes each, at 1 GB/s per thread;
    # the input factor runs on all 5 threads first (5 GB/s); nothing streams faster than the CPU's 5 GB/s
    t_cpu, t_no_io, cpu_B, reads = _work(5 * COLD_CLUSTER, pred_in_B=5e6, pred_cols_B=10e6, pipeline=pipeline)
    assert t_cpu == pytest.approx(5e6 / 5e9 + 10e6 / 5 / 1e9)
    assert t_no_io == pytest.approx(t_cpu)
    assert cpu_B == pytest.approx(15e6)  # the predictors count in the shared DRAM pool
    assert reads == 0


def test_one_cluster_predicts_on_one_thread():
    t_cpu, _, _, _ = _work(COLD_CLUSTER, pred_in_B=0.0, pred_cols_B=10e6)
    assert t_cpu == pytest.approx(10e6 / 1e9)
