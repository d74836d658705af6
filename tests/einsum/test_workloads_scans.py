"""Mamba-1 (S6) and Mamba-2 (SSD) workloads against sequential per-token references."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from einsim.einsum import Cascade, execute, load_workload, op_counts, pass_analysis, verify
from einsim.einsum.load import resize
from einsim.einsum.references import REFERENCES
from einsim.einsum.references.scans import mamba2_recurrence


def _assert_verified(cascade: Cascade, seed: int) -> None:
    result = verify(cascade, seed=seed)
    assert result.verified, result.reason
    assert result.max_error and all(err <= 1.0 for err in result.max_error.values()), result.max_error


@pytest.mark.parametrize("name", ["mamba1_s6", "mamba2_ssd"])
@pytest.mark.parametrize("seed", [0, 7])
def test_matches_sequential_reference(name: str, seed: int) -> None:
    _assert_verified(load_workload(name), seed)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 6, 12])
def test_ssd_matches_recurrence_for_every_chunk_size(chunk: int) -> None:
    ssd = load_workload("mamba2_ssd")
    assert ssd.check_sizes["T"] == 12
    _assert_verified(dataclasses.replace(ssd, check_sizes={**ssd.check_sizes, "Q": chunk}), seed=chunk)


@pytest.mark.parametrize("chunk", [1, 4, 12])
def test_ssd_final_chunk_state_is_the_recurrent_state(chunk: int) -> None:
    ssd = load_workload("mamba2_ssd")
    ssd = resize(ssd, {**ssd.check_sizes, "Q": chunk})
    inputs = REFERENCES["mamba2_ssd"].inputs(ssd, np.random.default_rng(3))
    got = execute(ssd, inputs)["SP"]
    _, state = mamba2_recurrence(*(inputs[k] for k in ("X", "DTR", "DTB", "A", "Bm", "Cm", "Dsk")))
    np.testing.assert_allclose(got[ssd.ranks["C"]], state, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sizes", [{}, {"T": 12, "Q": 4, "H": 2, "P": 3, "N": 5}, {"T": 12, "Q": 12}])
def test_ssd_is_one_pass_over_the_sequence(sizes: dict) -> None:
    report = pass_analysis(load_workload("mamba2_ssd", sizes), "T")
    assert report.passes == 1
    assert report.live_elements == 0


def test_s6_is_one_pass_over_the_sequence() -> None:
    assert pass_analysis(load_workload("mamba1_s6"), "T").passes == 1


def test_ssd_op_counts_scale_with_the_chunk() -> None:
    ssd = load_workload("mamba2_ssd", {"T": 2048, "Q": 256, "H": 80, "P": 64, "N": 128})
    chunks, q, h, p, n = 8, 256, 80, 64, 128
    triangle = q * (q + 1) // 2
    assert op_counts(ssd.einsum("LM"))["exp"] == chunks * triangle * h  # about Q*H/2 exps a token
    assert op_counts(ssd.einsum("CB"))["mac"] == chunks * triangle * n
    assert op_counts(ssd.einsum("YD"))["mac"] == chunks * triangle * h * p
    assert op_counts(ssd.einsum("SL"))["mac"] == chunks * q * h * p * n
    assert op_counts(ssd.einsum("SP")) == {"add": chunks * h * p * n, "mul": chunks * h * p * n}
    assert op_counts(ssd.einsum("DT"))["softplus"] == 2048 * h


def test_s6_needs_e_times_n_exps_a_token() -> None:
    s6 = load_workload("mamba1_s6")
    t, e, n = (s6.ranks[r] for r in ("T", "E", "N"))
    assert (t, e, n) == (2048, 5120, 16)
    assert op_counts(s6.einsum("DA"))["exp"] == t * e * n
    assert op_counts(s6.einsum("HS")) == {"add": t * e * n, "mul": t * e * n}
    assert op_counts(s6.einsum("YC"))["mac"] == t * e * n


@pytest.mark.parametrize("name", ["mamba1_s6", "mamba2_ssd"])
def test_decay_matters(name: str) -> None:
    """The check sizes are non-trivial: dropping the decay changes the output well beyond tolerance."""
    cascade = load_workload(name)
    cascade = resize(cascade, cascade.check_sizes)
    ref = REFERENCES[name]
    inputs = ref.inputs(cascade, np.random.default_rng(0))
    assert np.all(inputs["A"] < 0)
    with_decay = ref.expected(inputs, cascade)["Y"]
    without = ref.expected({**inputs, "A": np.zeros_like(inputs["A"])}, cascade)["Y"]
    assert np.max(np.abs(with_decay - without)) > 1e-2
