"""The reference executor on small cascades whose answers numpy gives directly."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.errors import EinsimError
from einsim.einsum import execute, parse_workload, random_inputs, resize


def run(text: str, seed: int = 0):
    c = parse_workload(text)
    x = random_inputs(c, seed)
    return x, execute(c, x)


def test_iterative_prefix_sum() -> None:
    x, out = run("""
ranks: {I: 7}
tensors: {A: [I], S: [I]}
init: |
  S[0] = 0
einsums: |
  S[i+1] = S[i] + A[i]
stop: i >= I
""")
    assert np.allclose(out["S"], np.concatenate([[0.0], np.cumsum(x["A"])]))


def test_filtered_prefix_sum_without_iteration() -> None:
    x, out = run("""
ranks: {I: 7}
tensors: {A: [I], S: [I]}
einsums: |
  S[i] = A[k: k <= i]
""")
    assert np.allclose(out["S"], np.cumsum(x["A"]))


def test_partition_and_single_coordinates() -> None:
    x, out = run("""
ranks: {M: 12, M0: 4, M1: M / M0}
tensors: {A: [M], B: [M1, M0], L: [M1]}
init: |
  B[m1, m0] = A[m1*M0 + m0]
einsums: |
  L[m1] = B[m1, M0-1]
""")
    assert np.array_equal(out["B"], x["A"].reshape(3, 4))
    assert np.array_equal(out["L"], x["A"].reshape(3, 4)[:, 3])


def test_max_reduction_and_map_functions() -> None:
    x, out = run("""
ranks: {M: 5, P: 3}
params: {scale: 0.5}
tensors: {S: [M, P], G: [P], Y: [M, P]}
einsums: |
  G[p] = max over m: S[m, p]
  Y[m, p] = scale * silu(S[m, p] - G[p]) + sigmoid(S[m, p]) / sqrt(P)
""")
    s = x["S"]
    g = s.max(axis=0)
    d = s - g
    want = 0.5 * d / (1 + np.exp(-d)) + 1 / (1 + np.exp(-s)) / np.sqrt(3)
    assert np.allclose(out["G"], g) and np.allclose(out["Y"], want, rtol=1e-12)


def test_top_k_keeps_the_largest_and_breaks_ties_low() -> None:
    c = parse_workload("""
ranks: {I: 2, M: 4}
tensors: {X: [I, M], R: [I, M]}
einsums: |
  R[i, m] = top 2 over m: X[i, m]
""")
    x = np.array([[1.0, 3.0, 3.0, 3.0], [0.5, -1.0, 2.0, 0.1]])
    assert np.array_equal(execute(c, {"X": x})["R"], [[0, 3, 3, 0], [0.5, 0, 2, 0]])


def test_reduction_over_the_iterative_index_accumulates_across_steps() -> None:
    x, out = run("""
ranks: {I: 6}
tensors: {A: [I], S: [I], T: []}
init: |
  S[0] = 0
einsums: |
  S[i+1] = S[i] + A[i]
  T[] = max over i: S[i+1]
stop: i >= I
""")
    assert np.isclose(out["T"], np.cumsum(x["A"]).max())


def test_input_shape_and_missing_input_are_errors() -> None:
    c = parse_workload("ranks: {M: 3}\ntensors: {A: [M], B: [M]}\neinsums: |\n  B[m] = exp(A[m])\n")
    with pytest.raises(EinsimError, match=r"input A has shape \(4,\), expected \(3,\)"):
        execute(c, {"A": np.zeros(4)})
    with pytest.raises(EinsimError, match="missing input tensor A"):
        execute(c, {})


def test_resize_rebuilds_at_new_sizes() -> None:
    c = parse_workload("ranks: {M: 8, M0: 4, M1: M / M0}\ntensors: {A: [M1, M0], B: [M1]}\neinsums: |\n  B[m1] = A[m1, m0]\n")
    small = resize(c, {"M": 12})
    assert small.ranks == {"M": 12, "M0": 4, "M1": 3}
    assert small.tensors["A"].shape == (3, 4)
