"""The bundled attention workloads: verified against numpy, passes over M, and op counts."""

from __future__ import annotations

import numpy as np
import pytest

from einsim.einsum import Cascade, execute, load_workload, op_counts, pass_analysis, random_inputs, resize, verify
from einsim.einsum.references.attention import softmax_attention

PASSES = {
    "attention_1pass": 1, "attention_2pass": 2, "attention_3pass": 3,
    "attention_1pass_causal": 1, "attention_2pass_causal": 2, "attention_3pass_causal": 3,
    "attention_decode": 1,
}


def at_check_sizes(name: str) -> Cascade:
    cascade = load_workload(name)
    return resize(cascade, cascade.check_sizes)


def counts(cascade: Cascade) -> dict[str, dict[str, int]]:
    return {e.name: op_counts(e) for e in cascade.einsums if not e.init}


def total_ops(cascade: Cascade) -> int:
    return sum(sum(c.values()) for c in counts(cascade).values())


def causal_points(m: int) -> int:
    """(m, p) pairs with m <= p when M = P = m."""
    return m * (m + 1) // 2


def causal_block_points(m: int, m0: int) -> int:
    """(m1, p) pairs with m1*M0 <= p: partitions holding at least one visible key."""
    return sum(m - m1 * m0 for m1 in range(m // m0))


@pytest.mark.parametrize("name", sorted(PASSES))
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_reference(name: str, seed: int) -> None:
    result = verify(load_workload(name), seed=seed)
    assert result.verified, result.reason
    assert result.max_error and max(result.max_error.values()) <= 1.0


@pytest.mark.parametrize("name", sorted(PASSES))
def test_check_sizes_take_several_partitions(name: str) -> None:
    small = at_check_sizes(name)
    assert small.ranks["M"] >= 7
    if "M1" in small.ranks:
        assert small.ranks["M1"] >= 3


@pytest.mark.parametrize("name, passes", sorted(PASSES.items()))
def test_passes_over_m(name: str, passes: int) -> None:
    cascade = load_workload(name)
    assert pass_analysis(cascade, "M").passes == passes
    if "P" in cascade.ranks:
        assert pass_analysis(cascade, "P").passes == 1


@pytest.mark.parametrize("name", ["attention_1pass_causal", "attention_2pass_causal", "attention_3pass_causal"])
def test_causal_mask_changes_the_result(name: str) -> None:
    small = at_check_sizes(name)
    inputs = random_inputs(small, 0)
    got = execute(small, inputs)["AV"]
    dense = softmax_attention(inputs["Q"], inputs["K"], inputs["V"])
    assert not np.allclose(got, dense)
    # the last query sees every key, so its column is the unmasked result
    np.testing.assert_allclose(got[:, :, -1], dense[:, :, -1], rtol=1e-9)


def test_cascade5_op_counts() -> None:
    """FuseMax Cascade 5 per Einsum (fusemax.md a.5), per instance times H at the default sizes."""
    c = load_workload("attention_1pass")
    h, e, f, m, m1, p = (c.ranks[r] for r in ("H", "E", "F", "M", "M1", "P"))
    assert counts(c) == {
        "BQK": {"mac": h * e * m * p},
        "LM": {"max": h * m * p},
        "RM": {"max": h * m1 * p},
        "SLN": {"exp": h * m * p},
        "SLD": {"add": h * m * p},
        "SLNV": {"mac": h * f * m * p},
        "PRM": {"exp": h * m1 * p},
        "SPD": {"mul": h * m1 * p},
        "RD": {"add": h * m1 * p},
        "SPNV": {"mul": h * f * m1 * p},
        "RNV": {"add": h * f * m1 * p},
        "AV": {"divide": h * f * p},
    }


def test_decode_op_counts_are_cascade5_with_one_query() -> None:
    c = load_workload("attention_decode")
    h, e, f, m, m1 = (c.ranks[r] for r in ("H", "E", "F", "M", "M1"))
    got = counts(c)
    assert got["BQK"] == {"mac": h * e * m}
    assert got["SLN"] == {"exp": h * m}
    assert got["SLNV"] == {"mac": h * f * m}
    assert got["SPNV"] == {"mul": h * f * m1}
    assert got["AV"] == {"divide": h * f}
    dense = counts(load_workload("attention_1pass", {"H": h, "E": e, "F": f, "M": m, "P": 1}))
    assert got == dense


def test_3pass_causal_op_counts() -> None:
    c = load_workload("attention_3pass_causal")
    h, e, f, m = (c.ranks[r] for r in ("H", "E", "F", "M"))
    mp = h * causal_points(m)
    assert counts(c) == {
        "QK": {"mac": e * mp}, "GM": {"max": mp}, "SN": {"exp": mp},
        "SD": {"add": mp}, "A": {"divide": mp}, "AV": {"mac": f * mp},
    }


def test_2pass_causal_op_counts() -> None:
    c = load_workload("attention_2pass_causal")
    h, e, f, m, m0 = (c.ranks[r] for r in ("H", "E", "F", "M", "M0"))
    mp, bp = h * causal_points(m), h * causal_block_points(m, m0)
    assert counts(c) == {
        "BQK": {"mac": e * mp}, "LM": {"max": mp}, "SLN": {"exp": mp}, "SLD": {"add": mp},
        "SLNV": {"mac": f * mp}, "GM": {"max": bp}, "C": {"exp": bp}, "SD": {"mac": bp},
        "SNV": {"mac": f * bp}, "AV": {"divide": h * f * m},
    }


def test_1pass_causal_op_counts() -> None:
    """Einsums over (m1, m0, p) are masked; the running recurrences over m1 run for every partition."""
    c = load_workload("attention_1pass_causal")
    h, e, f, m, m1 = (c.ranks[r] for r in ("H", "E", "F", "M", "M1"))
    mp, bp = h * causal_points(m), h * m1 * m
    assert counts(c) == {
        "BQK": {"mac": e * mp}, "LM": {"max": mp}, "RM": {"max": bp}, "SLN": {"exp": mp},
        "SLD": {"add": mp}, "SLNV": {"mac": f * mp}, "PRM": {"exp": bp}, "SPD": {"mul": bp},
        "RD": {"add": bp}, "SPNV": {"mul": f * bp}, "RNV": {"add": f * bp}, "AV": {"divide": h * f * m},
    }


@pytest.mark.parametrize("passes", [1, 2, 3])
def test_causal_does_about_half_the_work(passes: int) -> None:
    dense = total_ops(load_workload(f"attention_{passes}pass"))
    causal = total_ops(load_workload(f"attention_{passes}pass_causal"))
    assert 0.5 < causal / dense < 0.51
