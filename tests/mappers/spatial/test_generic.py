"""Mamba-2 SSD and causal linear attention on the FuseMax hardware, checked against op counts."""

from __future__ import annotations

import pytest

from einsim.einsum import load_workload, ops_per_point, points
from einsim.mappers.spatial.generic import evaluate_cascade

CLOCK = 940e6
SOFTPLUS = {"softplus": {"exp": 1, "add": 1, "mac": 6}}  # estimate: as FuseMax's exp, a 6-MAC series


def test_ssd_exp_mask_bounds_the_1d_array_and_scales_with_the_chunk() -> None:
    for q in (64, 256):
        c = load_workload("mamba2_ssd", {"T": 4096, "Q": q})
        r = evaluate_cascade(c, emulate=SOFTPLUS)
        lm = c.einsum("LM")  # segsum decay mask: C*Q*Q*H exps (dense), 7 cycles each on 256 lanes
        t_lm = next(x.compute_s for x in r.result.costs if x.name == "LM")
        assert t_lm == pytest.approx(lm.dense_points * 7 / 256 / CLOCK)
        assert r.bound == "compute"
        busy_1d = sum(x.busy_pe_s for x in r.result.costs if x.unit == "Array1D")
        assert r.result.utilization["Array1D"] == pytest.approx(busy_1d / (256 * r.result.latency_s))


def test_ssd_dram_traffic_is_inputs_and_output_once() -> None:
    c = load_workload("mamba2_ssd", {"T": 4096, "Q": 256})
    r = evaluate_cascade(c, emulate=SOFTPLUS)
    # every Einsum reads its DRAM operands once (staged per chunk) and the state stays on chip
    reads = {"DT": ["DTc", "DTB"], "DA": ["A"], "DX": ["Xc"], "CB": ["Cc", "Bc"], "SL": ["Bc"], "CS": ["Cc"], "Y": ["Xc", "Dsk"]}
    words = sum(c.tensors[t].elements for ts in reads.values() for t in ts) + c.tensors["Y"].elements
    assert r.result.dram_bytes == 2 * words


def test_linear_attention_state_update_is_1d_bound() -> None:
    c = load_workload("linear_attention", {"T": 1024})
    r = evaluate_cascade(c)
    kv = c.einsum("KV")  # rank-1 update per token: T*H*F*DV points, a mul and an add each, on 256 lanes
    t_kv = next(x.compute_s for x in r.result.costs if x.name == "KV")
    assert sum(ops_per_point(kv).values()) == 2
    assert t_kv == pytest.approx(points(kv) * 2 / 256 / CLOCK, rel=0.01)
    assert r.bound == "compute" and r.result.utilization["Array1D"] > 0.9
