"""The PowerInfer-2 timing path's non-byte costs (mappers/phone/overheads.py): NPU graph executions,
their activation copies and the CPU barrier per layer, and the cold rows' CPU GEMV rate."""

from __future__ import annotations

import pytest

import einsim.mappers.phone.powerinfer2 as pi
from einsim.mappers.phone.footprint import footprint
from einsim.mappers.phone.hardware import load_device


@pytest.fixture(scope="module")
def setup():
    fp = footprint("bamboo_7b")
    return load_device("oneplus12"), fp, pi.ffn_offload_budget(fp, 0.5)


def _latency(setup, features=pi.Features(), hot=(0.25,)):
    dev, fp, budget = setup
    return pi.powerinfer2(dev, fp, budget, features, hot_fractions=hot).latency_s


def test_npu_executions_cost_where_the_npu_is_on_the_critical_path(setup, monkeypatch):
    # two executions per layer (attention heads, hot FFN): everything waits for the attention call, while
    # the hot-FFN call runs beside the CPU's cold pipeline, so 1 ms more per call costs 1 ... 2 ms per layer
    base = _latency(setup)
    monkeypatch.setattr(pi, "NPU_INVOCATION_S", pi.NPU_INVOCATION_S + 1e-3)
    per_layer = (_latency(setup) - base) / setup[1].layers
    assert 0.9e-3 < per_layer < 2e-3 + 1e-9


def test_without_the_npu_there_is_no_npu_cost(setup, monkeypatch):
    cpu_only = pi.Features(xpu=False)
    base = _latency(setup, cpu_only, (0.0,))
    monkeypatch.setattr(pi, "NPU_INVOCATION_S", 1.0)
    monkeypatch.setattr(pi, "CPU_BARRIER_S", 1.0)
    assert _latency(setup, cpu_only, (0.0,)) == base


def test_a_slow_cpu_gemv_makes_the_cold_rows_compute_bound(setup, monkeypatch):
    base = _latency(setup)
    monkeypatch.setattr(pi, "INT4_GEMV_EFFICIENCY", pi.INT4_GEMV_EFFICIENCY / 20)
    assert _latency(setup) > base * 1.5


def test_the_chosen_gemv_rate_keeps_the_cold_rows_bandwidth_bound(setup, monkeypatch):
    # at the estimates' whole range (0.25-0.5 dense, 0.6-1.0 sparse) a mid core moves a row's bytes slower
    # than it computes it, except at the lowest corner; the chosen point is bandwidth bound
    base = _latency(setup)
    monkeypatch.setattr(pi, "INT4_GEMV_EFFICIENCY", 1e9)
    assert _latency(setup) == base


def _one_layer_schedule(n_compute=5, xpu=True, clusters=((40.0, 512 * 2048.0, 30.0, 2 * 300 * 2048.0),) * 3):
    from einsim.sim.phone_events import simulate
    dev = load_device("oneplus12")
    plat = pi._platform(dev, n_compute)
    work = pi._Layer(attn_B=4e6, npu_B=20e6, prefetch_dev_s=0.0, pred_in_B=1e5, pred_cols_B=1e5,
                     clusters=clusters, bookkeeping_s=(1e-5,) * len(clusters))
    g = pi._layer_graph(work, pi.Features(xpu=xpu), plat, n_compute, 4e-6, 43.9e9 / n_compute, 8e9, 56e9, 16384.0)
    return g, simulate([g], plat)[0], plat


def test_a_synchronous_npu_call_holds_a_compute_thread():
    g, s, plat = _one_layer_schedule()
    cpu, npu = plat.index("compute"), plat.index("npu")
    assert sum(1 for lab in g.label if lab == "attn") == 4  # the 5th thread makes the NPU call
    for i in (i for i, e in enumerate(g.engine) if e == npu):
        assert g.hold[i] == cpu
        mid = 0.5 * (s.start[i] + s.end[i])  # while the NPU runs, at most 4 compute tasks run
        running = sum(1 for j, e in enumerate(g.engine) if e == cpu and s.start[j] <= mid < s.end[j])
        assert running <= 4


def test_without_the_hold_the_npu_call_leaves_every_thread_to_the_cpu(monkeypatch):
    monkeypatch.setattr(pi, "NPU_CALL_HOLDS_THREAD", False)
    g, _, _ = _one_layer_schedule()
    assert sum(1 for lab in g.label if lab == "attn") == 5 and set(g.hold) == {-1}


def test_the_cold_clusters_predict_stage_carries_the_cache_bookkeeping():
    g, _, _ = _one_layer_schedule()
    stages = [i for i, lab in enumerate(g.label) if lab == "predict" and g.fixed_s[i] > 0]
    assert len(stages) == 3 and all(g.fixed_s[i] == 1e-5 for i in stages)


def test_cache_bookkeeping_by_hand():
    # 512 lookups of which 40 miss: 472 hits x 3 touches + 40 misses x 4 touches, 25 ns a touch
    row_B = 2048.0
    cluster = (40.0, 512 * row_B, 30.0, 60 * row_B)
    empty = ((), 0, 0.0, 0)  # a token without cold clusters
    ((t,), ()) = pi._cold_bookkeeping([((cluster,), 40, 0.0, 40), empty], row_B, True, True)
    assert t == pytest.approx((472 * 3 + 40 * 4) * 25e-9)
    # unbundled, the 40 misses are 120 reads; a fixed resident set is a bitmap lookup per neuron
    ((t3,),) = pi._cold_bookkeeping([(((120.0, 512 * row_B, 0.0, 60 * row_B),), 120, 0.0, 40)], row_B, True, False)
    assert t3 == pytest.approx(t)
    ((t0,),) = pi._cold_bookkeeping([((cluster,), 40, 0.0, 40)], row_B, False, True)
    assert t0 == pytest.approx(512 * 25e-9)


def test_cache_bookkeeping_costs_the_token(setup, monkeypatch):
    base = _latency(setup)
    monkeypatch.setattr(pi, "CACHE_TOUCH_S", 0.0)
    free = _latency(setup)
    monkeypatch.setattr(pi, "CACHE_TOUCH_S", 115e-9)
    assert free < base < _latency(setup)
