"""Malformed workloads: each must raise EinsimError naming the place and what was expected."""

from __future__ import annotations

import textwrap

import pytest

from einsim.errors import EinsimError
from einsim.einsum import parse_workload, verify

HEADER = """\
name: t
ranks:
  M: 4
  K: 3
  N: 5
tensors:
  A: [M, K]
  B: [K, N]
  Z: [M, N]
einsums: |
"""
GEMM = "  Z[m, n] = A[m, k] * B[k, n]\n"  # line 11 of HEADER + GEMM


def gemm_with(line: str, extra_tensors: str = "") -> str:
    """The GEMM workload with its Einsum line replaced (line 11, column 3 starts the statement)."""
    text = HEADER.replace("  Z: [M, N]\n", "  Z: [M, N]\n" + extra_tensors)
    return text + "  " + line + "\n"


ITERATIVE = """\
ranks:
  I: 4
tensors:
  A: [I]
  X: [I]
init: |
  X[0] = 0
einsums: |
  X[i+1] = X[i] + A[i]
stop: i >= I
"""

CASES = {
    # id: (text, substrings that must appear, line, column or None)
    "unknown rank in a tensor": (HEADER.replace("A: [M, K]", "A: [M, Q]") + GEMM, ["unknown rank 'Q'", "valid: K, M, N"], 7, None),
    "unknown tensor": (gemm_with("Z[m, n] = A[m, k] * C[k, n]"), ["unknown tensor 'C'", "valid: A, B, Z"], 11, 23),
    "tensor name typo": (gemm_with("Z[m, n] = AA[m, k] * B[k, n]"), ["unknown tensor 'AA'", "did you mean A"], 11, 13),
    "index with two sizes": (gemm_with("Z[m, n] = A[m, k] * B[m, n]"), ["index 'm'", "one index cannot have two sizes"], 11, 3),
    "wrong number of indices": (gemm_with("Z[m, n] = A[m] * B[k, n]"), ["A has 2 rank(s) [M, K]", "indexed with 1"], 11, 13),
    "reduction over a kept rank": (gemm_with("Z[m, n] = max over m: A[m, k] * B[k, n]"), ["reduces 'm'", "output Z keeps"], 11, 13),
    "reduction list incomplete": (
        gemm_with("W[m] = max over k: A[m, k] * B[k, n]", "  W: [M]\n").replace("  Z: [M, N]\n", ""),
        ["index 'n' is absent from the output", "does not list it"], 11, 10),
    "unknown operator": (gemm_with("Z[m, n] = expp(A[m, k]) * B[k, n]"), ["unknown operator expp()", "did you mean exp"], 11, 13),
    "wrong arity": (gemm_with("Z[m, n] = max(A[m, k]) * B[k, n]"), ["max() takes 2 argument(s), got 1"], 11, 13),
    "unterminated bracket": (gemm_with("Z[m, n] = A[m, k * B[k, n]"), ["expected ',' or ']' to close the '[' of A"], 11, None),
    "unterminated parenthesis": (gemm_with("Z[m, n] = exp(A[m, k] * B[k, n]"), ["to close the '(' of exp("], 11, None),
    "unexpected character": (gemm_with("Z[m, n] = A[m, k] @ B[k, n]"), ["unexpected character '@'"], 11, 21),
    "missing equals": (gemm_with("Z[m, n] A[m, k]"), ["expected '='"], 11, 11),
    "missing output bracket": (gemm_with("Z = A[m, k]"), ["expected '[' after tensor Z"], 11, None),
    "dangling operator": (gemm_with("Z[m, n] = A[m, k] *"), ["expected an expression, found end of line"], 11, None),
    "missing init": (ITERATIVE.replace("init: |\n  X[0] = 0\n", ""), ["X is iterative over i", "no initial value"], 7, None),
    "missing stop": (ITERATIVE.replace("stop: i >= I\n", ""), ["iterative index 'i' has no stop condition"], 9, None),
    "stop on a standard index": (ITERATIVE.replace("stop: i >= I", "stop: k >= I"), ["'k', which is not iterative"], 10, None),
    "stop bound disagrees": (ITERATIVE.replace("stop: i >= I", "stop: i >= 3"), ["disagrees with the range of i (4)"], 10, None),
    "stop not a comparison": (ITERATIVE.replace("stop: i >= I", "stop: i"), ["expected a comparison"], 10, None),
    "cycle": (
        gemm_with("Z[m, n] = A[m, k] * B[k, n] + W[m, n]", "  W: [M, N]\n") + "  W[m, n] = Z[m, n]\n",
        ["form a cycle", "Z -> W -> Z"], None, None),
    "tensor written twice": (HEADER + GEMM + "  Z2: Z[m, n] = A[m, k] * B[k, n]\n", ["Z is written by Z and Z2", "one writer"], 12, 3),
    "duplicate einsum names": (
        gemm_with("Z[m, n] = A[m, k] * B[k, n]", "  W: [M, N]\n") + "  Z: W[m, n] = Z[m, n]\n",
        ["two Einsums are named 'Z'", "the other at line 12"], 13, 3),
    "unused tensor": (HEADER.replace("  Z: [M, N]\n", "  Z: [M, N]\n  Y: [M]\n") + GEMM, ["tensor Y is declared but never used"], 10, None),
    "unknown top-level key": (HEADER.replace("einsums:", "einsum:") + GEMM, ["unknown key 'einsum'", "did you mean einsums"], 10, 1),
    "missing ranks": ("tensors: {A: [M]}\neinsums: |\n  A[m] = 1\n", ["missing required key 'ranks'"], 1, None),
    "rank size not whole": (HEADER.replace("  N: 5\n", "  N: M / 3\n") + GEMM, ["rank N must have a positive whole size"], 5, None),
    "unknown size in a rank expression": (HEADER.replace("  N: 5\n", "  N: Q * 2\n") + GEMM, ["unknown size 'Q'"], 5, None),
    "circular sizes": (HEADER.replace("  M: 4\n", "  M: N\n").replace("  N: 5\n", "  N: M\n") + GEMM, ["in a circle"], None, None),
    "unbound symbolic size": (HEADER.replace("  N: 5\n", "  N: null\n") + GEMM, ["N has no size", "--set N="], 5, None),
    "index out of range": (
        HEADER.replace("  N: 5\n", "  N: 5\n  M1: 3\n  M0: 2\n").replace("  Z: [M, N]\n", "  Z: [M, N]\n  BA: [M1, M0, K]\n")
        + GEMM + "  BA[m1, m0, k] = A[m1*M0 + m0, k]\n",
        ["A[...m0+2*m1...] reaches coordinates 0..5 of rank M", "extent is 4"], 15, 3),
    "non-affine index": (gemm_with("Z[m, n] = A[m*k, k] * B[k, n]"), ["must be affine"], 11, None),
    "index used as a value": (gemm_with("Z[m, n] = A[m, k] * B[k, n] * k"), ["index 'k' used as a value"], 11, 33),
    "unknown name": (gemm_with("Z[m, n] = A[m, k] * B[k, n] * alpha"), ["unknown name 'alpha'"], 11, 33),
    "YAML syntax error": (HEADER.replace("  A: [M, K]", "  A: [M, K") + GEMM, ["YAML syntax error"], None, None),
    "filter uses an unbound index": (gemm_with("Z[m, n] = A[m, k: k <= j] * B[k, n]"), ["uses index 'j', which no tensor access uses"], 11, None),
    "top over a reduced index": (gemm_with("Z[m, n] = top 2 over k: A[m, k] * B[k, n]"), ["must index the output"], 11, 13),
    "tensor ranks not a list": (HEADER.replace("A: [M, K]", "A: M") + GEMM, ["give its ranks as a list"], 7, None),
    "empty einsums": (HEADER.replace("einsums: |\n", "einsums: ''\n"), ["einsums: is empty"], None, None),
    "range cannot be inferred": (
        gemm_with("Z[m, n] = A[m, x + y] * B[x, n]"), ["cannot tell the range of index 'y'"], 11, None),
    "duplicate YAML key": (HEADER.replace("  N: 5\n", "  N: 5\n  N: 6\n") + GEMM, ["duplicate key 'N'"], 6, 3),
    "filter on the output": (gemm_with("Z[m: m < 2, n] = A[m, k] * B[k, n]"), ["filters belong on right-hand-side operands"], 11, None),
    "lower-case rank": (HEADER.replace("  N: 5\n", "  n: 5\n") + GEMM, ["rank names start with an upper-case letter"], 5, None),
    "top with an unknown size": (gemm_with("Z[m, n] = top KK over n: A[m, k] * B[k, n]"), ["'top KK'", "declared positive whole size"], 11, 13),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_malformed_workload_is_reported_with_its_place(case: str) -> None:
    text, needles, line, column = CASES[case]
    with pytest.raises(EinsimError) as info:
        parse_workload(textwrap.dedent(text), file="w.yaml")
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    loc = info.value.location
    if line is not None:
        assert loc is not None and loc.file == "w.yaml" and loc.line == line, message
    if column is not None:
        assert loc.column == column, message


def test_at_least_25_distinct_malformed_inputs() -> None:
    assert len({text for text, *_ in CASES.values()}) >= 25


def test_unknown_override_lists_valid_names() -> None:
    with pytest.raises(EinsimError, match=r"--set Q: no rank or parameter .*valid: K, M, N"):
        parse_workload(HEADER + GEMM, {"Q": 3})


def test_unknown_reference_is_reported() -> None:
    cascade = parse_workload(HEADER + GEMM + "reference: no_such_reference\n", file="w.yaml")
    with pytest.raises(EinsimError, match="unknown reference 'no_such_reference'"):
        verify(cascade)


def test_errors_point_at_the_offending_token() -> None:
    """The reported column, read back from the text, lands on the bad token."""
    text = gemm_with("Z[m, n] = A[m, k] * Bq[k, n]")
    with pytest.raises(EinsimError) as info:
        parse_workload(text, file="w.yaml")
    loc = info.value.location
    assert text.splitlines()[loc.line - 1][loc.column - 1:].startswith("Bq[")
