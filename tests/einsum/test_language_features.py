"""Unit tests of individual cascade-language features (executor and analysis)."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.einsum import execute, parse_workload, pass_analysis

_TOP_THEN_READ = """
ranks: {I: 5}
tensors: {A: [I], T: [I], B: [I]}
einsums: |
  T[i] = %s
  B[i] = T[i] * A[i]
"""


@pytest.mark.parametrize("rhs, passes", [("top 2 over i: A[i]", 2), ("A[i] * 2", 1)])
def test_top_k_completes_only_after_a_whole_traversal(rhs: str, passes: int) -> None:
    cascade = parse_workload(_TOP_THEN_READ % rhs)
    report = pass_analysis(cascade, "I")
    assert report.passes == passes
    assert report.pass_of["B"] == passes


def test_top_k_keeps_the_largest_values() -> None:
    cascade = parse_workload(_TOP_THEN_READ % "top 2 over i: A[i]")
    a = np.array([0.5, -1.0, 3.0, 2.0, 1.0])
    out = execute(cascade, {"A": a})
    np.testing.assert_array_equal(out["T"], [0.0, 0.0, 3.0, 2.0, 0.0])
