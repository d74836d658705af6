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
