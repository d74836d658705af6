"""The bundled dense workloads (GEMM, GEMV, FFNs, MoE): verified against numpy, op counts, passes."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.einsum import Cascade, execute, load_workload, op_counts, pass_analysis, random_inputs, resize, verify

NAMES = ["gemm", "gemv", "ffn", "ffn_gated", "moe_ffn"]


def counts(cascade: Cascade) -> dict[str, dict[str, int]]:
    return {e.name: op_counts(e) for e in cascade.einsums}


def sizes(cascade: Cascade, *ranks: str) -> tuple[int, ...]:
    return tuple(cascade.ranks[r] for r in ranks)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_reference(name: str, seed: int) -> None:
    result = verify(load_workload(name), seed=seed)
    assert result.verified, result.reason
    assert result.max_error and max(result.max_error.values()) <= 1.0


@pytest.mark.parametrize("name", NAMES)
def test_check_sizes_are_distinct(name: str) -> None:
    cascade = load_workload(name)
    values = list(cascade.check_sizes.values())
    assert len(set(values)) == len(values)


def test_gemm_and_gemv_op_counts() -> None:
    gemm = load_workload("gemm")
    m, k, n = sizes(gemm, "M", "K", "N")
    assert counts(gemm) == {"Z": {"mac": m * k * n}}
    assert pass_analysis(gemm, "K").passes == 1
    gemv = load_workload("gemv")
    k, n = sizes(gemv, "K", "N")
    assert counts(gemv) == {"Y": {"mac": k * n}}


def test_ffn_op_counts() -> None:
    c = load_workload("ffn")
    m, d, i = sizes(c, "M", "D", "I")
    assert counts(c) == {"XW1": {"mac": m * d * i}, "ACT": {"gelu": m * i}, "Y": {"mac": m * i * d}}


def test_ffn_gated_op_counts() -> None:
    c = load_workload("ffn_gated")
    m, d, i = sizes(c, "M", "D", "I")
    assert counts(c) == {
        "G": {"mac": m * d * i}, "U": {"mac": m * d * i}, "GU": {"silu": m * i, "mul": m * i}, "Y": {"mac": m * i * d},
    }


@pytest.mark.parametrize("name", ["ffn", "ffn_gated", "moe_ffn"])
def test_ffn_streams_its_hidden_rank(name: str) -> None:
    """The hidden activations need one pass over I: the two matmuls fuse along it."""
    assert pass_analysis(load_workload(name), "I").passes == 1


def test_moe_op_counts_are_dense_over_experts() -> None:
    c = load_workload("moe_ffn")
    m, d, i, r = sizes(c, "M", "D", "I", "R")
    got = counts(c)
    assert got["RL"] == {"mac": m * d * r}
    assert got["TP"] == {"max": m * r}
    for expert_einsum in ("G", "U", "EY"):
        assert got[expert_einsum] == {"mac": m * r * d * i}
    assert got["Y"] == {"mac": m * r * d}


def test_moe_router_passes_over_experts() -> None:
    """max, sum, top-k and the renormalising sum each need every expert before the next step."""
    report = pass_analysis(load_workload("moe_ffn"), "R")
    assert report.passes == 5
    assert report.pass_of["G"] == 1
    assert report.pass_of["GW"] == 5


@pytest.mark.parametrize("topk", [1, 2, 4])
def test_moe_weights_are_renormalised_over_topk_experts(topk: int) -> None:
    base = load_workload("moe_ffn")
    small = resize(base, {**base.check_sizes, "TOPK": topk})
    out = execute(small, random_inputs(small, 2))
    assert np.all(np.count_nonzero(out["GW"], axis=1) == topk)
    np.testing.assert_allclose(out["GW"].sum(axis=1), 1.0, rtol=1e-12)
    result = verify(resize(base, {"TOPK": topk}), seed=2)
    assert result.verified, result.reason
