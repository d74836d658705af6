"""Mamba-2 SSD and causal linear attention on the FuseMax hardware, checked against op counts."""

from __future__ import annotations

import pytest

from einsim.arch import load_arch
from einsim.arch.load import bundled_dir
from einsim.einsum import load_workload, ops_per_point, points
from einsim.errors import EinsimError
from einsim.mappers import registry
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


def fusemax_with_buffer(capacity: str):
    return load_arch(bundled_dir() / "fusemax.yaml", overrides=[f"GlobalBuffer.capacity_B={capacity}"])


def ssd_dram_words_once(c) -> int:
    # every Einsum reads its DRAM operands once (staged per chunk) and the state stays on chip
    reads = {"DT": ["DTc", "DTB"], "DA": ["A"], "DX": ["Xc"], "CB": ["Cc", "Bc"], "SL": ["Bc"], "CS": ["Cc"], "Y": ["Xc", "Dsk"]}
    return sum(c.tensors[t].elements for ts in reads.values() for t in ts) + c.tensors["Y"].elements


def test_ssd_dram_traffic_is_inputs_and_output_once_when_a_chunk_fits() -> None:
    c = load_workload("mamba2_ssd", {"T": 4096, "Q": 64})
    r = evaluate_cascade(c, emulate=SOFTPLUS)
    assert r.footprint_B < 16 * 2**20 and r.spill == 0
    assert r.result.dram_bytes == 2 * ssd_dram_words_once(c)


def test_ssd_chunk_larger_than_the_buffer_spills_intermediates() -> None:
    # a 256-position chunk of all 80 heads needs ~42 MB of intermediates (the L x S x H decay mask
    # and its weighted copy alone are 2 x 10.5 MB): the part beyond 16 MiB round-trips DRAM
    c = load_workload("mamba2_ssd", {"T": 4096, "Q": 256})
    small = evaluate_cascade(c, fusemax_with_buffer("16MiB"), emulate=SOFTPLUS)
    big = evaluate_cascade(c, fusemax_with_buffer("64MiB"), emulate=SOFTPLUS)
    assert small.footprint_B == big.footprint_B > 16 * 2**20
    assert 0 < small.spill < 1 and big.spill == 0
    assert big.result.dram_bytes == 2 * ssd_dram_words_once(c)
    assert small.result.dram_bytes > big.result.dram_bytes


def test_step_inputs_larger_than_the_buffer_is_an_error() -> None:
    # X and Y of one chunk (2 x 512 x 80 x 64 words) plus its B, C and dt: 5.415e6 words, in 1 MiB
    c = load_workload("mamba2_ssd", {"T": 4096, "Q": 512})
    with pytest.raises(EinsimError, match="one step of c needs 5.415e\\+06 words of inputs and outputs in the global buffer, which holds 5.243e\\+05"):
        evaluate_cascade(c, fusemax_with_buffer("1MiB"), emulate=SOFTPLUS)


def test_linear_attention_state_update_is_1d_bound() -> None:
    c = load_workload("linear_attention", {"T": 1024})
    r = evaluate_cascade(c)
    kv = c.einsum("KV")  # rank-1 update per token: T*H*F*DV points, a mul and an add each, on 256 lanes
    t_kv = next(x.compute_s for x in r.result.costs if x.name == "KV")
    assert sum(ops_per_point(kv).values()) == 2
    assert t_kv == pytest.approx(points(kv) * 2 / 256 / CLOCK, rel=0.01)
    # the token is the step loop, so each Einsum gets one token's work at a time; KV dominates
    assert r.bound == "compute" and t_kv / r.result.latency_s > 0.7


def test_registry_mapper_fused_matches_the_evaluator() -> None:
    arch = fusemax_with_buffer("16MiB")
    c = load_workload("linear_attention", {"T": 256})
    result = registry.get("fused")(arch, c)
    direct = evaluate_cascade(c, arch).result
    assert result.latency_s == direct.latency_s and result.energy_J == direct.energy_J
    assert result.bytes_per_level["DRAM"] == direct.dram_bytes


def test_fused_mapper_needs_an_iterative_rank_when_the_problem_outgrows_the_buffer() -> None:
    c = load_workload("gemm", {"M": 4096, "N": 4096, "K": 4096})
    with pytest.raises(EinsimError, match="gemm has no iterative rank to step through"):
        registry.get("fused")(fusemax_with_buffer("16MiB"), c)
