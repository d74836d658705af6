"""Linear attention (recurrent, chunked), BASED (Taylor map, sliding window), GLA and MoM workloads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from einsim.einsum import Cascade, execute, load_workload, op_counts, pass_analysis, points, random_inputs, verify
from einsim.einsum.load import resize
from einsim.einsum.references import REFERENCES
from einsim.einsum.references.attention import softmax_attention
from einsim.einsum.references.linear import taylor_features

WORKLOADS = ["linear_attention", "linear_attention_chunked", "based", "based_swa", "gla", "gla_chunked", "mom"]


def _assert_verified(cascade: Cascade, seed: int) -> None:
    result = verify(cascade, seed=seed)
    assert result.verified, result.reason
    assert result.max_error and all(err <= 1.0 for err in result.max_error.values()), result.max_error


def _small(name: str, **sizes: int) -> Cascade:
    cascade = load_workload(name)
    return resize(cascade, {**cascade.check_sizes, **sizes})


def _run(cascade: Cascade, seed: int = 0) -> tuple[dict, dict]:
    ref = REFERENCES[cascade.reference]
    inputs = ref.inputs(cascade, np.random.default_rng(seed)) if ref.inputs else random_inputs(cascade, seed)
    return inputs, execute(cascade, inputs)


@pytest.mark.parametrize("name", WORKLOADS)
@pytest.mark.parametrize("seed", [0, 11])
def test_matches_reference(name: str, seed: int) -> None:
    _assert_verified(load_workload(name), seed)


@pytest.mark.parametrize("name", ["linear_attention_chunked", "gla_chunked"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 6, 12])
def test_chunked_forms_match_for_every_chunk_size(name: str, chunk: int) -> None:
    cascade = load_workload(name)
    assert cascade.check_sizes["T"] == 12
    _assert_verified(dataclasses.replace(cascade, check_sizes={**cascade.check_sizes, "Q": chunk}), seed=chunk)


@pytest.mark.parametrize("name", [n for n in WORKLOADS if n != "based_swa"])
def test_one_pass_over_the_sequence(name: str) -> None:
    assert pass_analysis(load_workload(name), "T").passes == 1


def test_sliding_window_is_three_passes_over_the_window() -> None:
    swa = load_workload("based_swa")
    assert pass_analysis(swa, "M").passes == 3
    h, e, m, w = (swa.ranks[r] for r in ("H", "E", "M", "W"))
    in_window = sum(min(p + 1, w) for p in range(m))
    assert points(swa.einsum("SN")) == h * in_window
    assert op_counts(swa.einsum("QK")) == {"mac": h * e * in_window}


def test_sliding_window_as_wide_as_the_sequence_is_causal_attention() -> None:
    swa = _small("based_swa", W=10)
    assert swa.ranks["M"] == 10
    inputs, got = _run(swa, seed=4)
    want = softmax_attention(inputs["Q"], inputs["K"], inputs["V"], causal=True)
    np.testing.assert_allclose(got["AV"], want, rtol=1e-9, atol=1e-12)


def test_taylor_features_approximate_exp() -> None:
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 16))
    x = q @ k / 4.0
    assert taylor_features(q).shape == (273,)
    assert taylor_features(q) @ taylor_features(k) == pytest.approx(1 + x + x * x / 2, rel=1e-12)


def test_linear_attention_features_are_positive() -> None:
    inputs, _ = _run(_small("linear_attention"))
    assert inputs["PQ"].min() > 0 and inputs["PK"].min() > 0


def test_recurrent_and_chunked_linear_attention_agree() -> None:
    chunked = _small("linear_attention_chunked")
    recurrent = _small("linear_attention", T=12, F=5, DV=3)
    inputs, got = _run(chunked, seed=5)
    again = execute(recurrent, {k: inputs[k] for k in recurrent.inputs})
    np.testing.assert_allclose(got["O"], again["O"], rtol=1e-9, atol=1e-12)


def test_op_counts() -> None:
    la, based, gla, mom = (load_workload(n) for n in ("linear_attention", "based", "gla_chunked", "mom"))
    t, h, f, dv = (la.ranks[r] for r in ("T", "H", "F", "DV"))
    assert op_counts(la.einsum("KV")) == {"add": t * h * f * dv, "mul": t * h * f * dv}
    assert op_counts(la.einsum("NUM")) == {"mac": t * h * f * dv}
    d2 = based.ranks["D2"]
    assert 1 + d2 + d2 * d2 == f
    assert op_counts(based.einsum("S2"))["mul"] == t * based.ranks["H"] * d2 * d2 * based.ranks["DV"]
    c, q, dk = gla.ranks["C"], gla.ranks["Q"], gla.ranks["DK"]
    assert op_counts(gla.einsum("AT"))["exp"] == c * q * (q + 1) // 2 * gla.ranks["H"] * dk
    r, mh, mk, mv = (mom.ranks[x] for x in ("R", "H", "DK", "DV"))
    assert op_counts(mom.einsum("MS"))["mul"] == mom.ranks["T"] * r * mh * mk * mv


def test_mom_updates_only_routed_memories() -> None:
    mom = _small("mom", T=12)
    _, got = _run(mom, seed=6)
    routed = got["RI"]
    assert set(np.unique(routed)) == {0.0, 1.0}
    np.testing.assert_array_equal(routed.sum(axis=1), mom.ranks["TOPK"])
    np.testing.assert_allclose(got["GW"].sum(axis=1), 1.0, rtol=1e-12)
    changed = np.any(got["MS"][1:] != got["MS"][:-1], axis=(2, 3, 4))  # [T, R]
    np.testing.assert_array_equal(changed, routed == 1.0)
    assert routed[:, 0].any() and not routed[:, 0].all()
