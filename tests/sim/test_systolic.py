"""Systolic cycle model: SCALE-Sim goldens exactly, the numba kernel against the cycle-stepping twin."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from einsim.sim.kernels import policy
from einsim.sim.kernels import systolic as kernel
from einsim.sim.reference.systolic import simulate_gemm
from einsim.sim.systolic import systolic_gemm, systolic_gemm_batch

GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "golden" / "scalesim_gemm.json").read_text())
ENTRIES = GOLDEN["entries"]
ACCESSES = {"sram_ifmap_reads": "ifmap_sram_reads", "sram_filter_reads": "filter_sram_reads",
            "sram_ofmap_writes": "ofmap_sram_writes"}
PERCENTAGES = {"compute_util_pct": "compute_utilization", "mapping_efficiency_pct": "mapping_efficiency",
               "overall_util_pct": "overall_utilization"}


def _id(entry: dict) -> str:
    origin = "rec" if entry["source"].startswith("recorded") else "peers"
    return f"{origin}-{entry['M']}x{entry['K']}x{entry['N']}-{entry['rows']}x{entry['cols']}-{entry['dataflow']}"


def test_golden_file_has_provenance_and_recorded_runs() -> None:
    assert "record_scalesim_goldens.py" in GOLDEN["regenerate"]
    assert all(entry["source"] for entry in ENTRIES)
    assert sum(e["source"].startswith("shared/reference/peers.md") for e in ENTRIES) == 24
    assert sum(e["source"].startswith("recorded with scalesim 3.0.0") for e in ENTRIES) == 48


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_scalesim_golden(entry: dict) -> None:
    result = systolic_gemm(entry["M"], entry["K"], entry["N"], entry["rows"], entry["cols"], entry["dataflow"])
    assert entry.get("stall_cycles", 0) == 0  # the model is stall-free, like SCALE-Sim with CALC bandwidth
    assert result.cycles == entry["cycles"]
    for golden_key, field in ACCESSES.items():
        if golden_key in entry:
            assert getattr(result, field) == entry[golden_key], golden_key
    recorded = entry["source"].startswith("recorded")
    for golden_key, field in PERCENTAGES.items():
        if golden_key in entry:
            percent = 100 * getattr(result, field)
            if recorded:  # full precision in the report; only the summation order differs
                assert math.isclose(percent, entry[golden_key], rel_tol=1e-12), golden_key
            else:  # peers.md quotes one decimal
                assert round(percent, 1) == entry[golden_key], golden_key


def test_peers_md_worked_examples() -> None:
    # peers.md §2: GEMM-256 on 32x32 os has 64 folds of 318 cycles, reported as 20,351.
    result = systolic_gemm(256, 256, 256, 32, 32, "os")
    assert (result.folds, kernel.fold_cycles(256, 32, 32, kernel.OS), result.cycles) == (64, 318, 20351)
    assert systolic_gemm(1024, 1024, 1024, 32, 32, "ws").folds == 1024
    assert systolic_gemm(512, 512, 64, 32, 32, "is").folds == 256


def _matrix(draw, rows: int, cols: int) -> list[list[int]]:
    return draw(st.lists(st.lists(st.integers(-9, 9), min_size=cols, max_size=cols), min_size=rows, max_size=rows))


@st.composite
def gemms(draw):
    M, K, N = (draw(st.integers(1, 9)) for _ in range(3))
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return _matrix(draw, M, K), _matrix(draw, K, N), rows, cols, draw(st.sampled_from(["os", "ws", "is"]))


@settings(max_examples=150, deadline=None)
@given(gemms())
def test_kernel_matches_cycle_stepping_twin(case) -> None:
    A, B, rows, cols, dataflow = case
    M, K, N = len(A), len(B), len(B[0])
    twin = simulate_gemm(A, B, rows, cols, dataflow)
    model = systolic_gemm(M, K, N, rows, cols, dataflow)
    assert twin.product == (np.array(A) @ np.array(B)).tolist()
    for field in ("cycles", "folds", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes"):
        assert getattr(model, field) == getattr(twin, field), field
    for field in ("mapping_efficiency", "compute_utilization", "overall_utilization"):
        assert math.isclose(getattr(model, field), getattr(twin, field), rel_tol=1e-12), field


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 3000), st.integers(1, 3000), st.integers(1, 256), st.integers(1, 256))
def test_closed_forms_quoted_in_peers_md(M: int, K: int, N: int, rows: int, cols: int) -> None:
    c = math.ceil
    assert systolic_gemm(M, K, N, rows, cols, "os").cycles == c(M / rows) * c(N / cols) * (K + rows + cols - 2) - 1
    assert systolic_gemm(M, K, N, rows, cols, "ws").cycles == c(K / rows) * c(N / cols) * (M + 2 * rows + cols - 2) - 1
    assert systolic_gemm(M, K, N, rows, cols, "is").cycles == c(K / rows) * c(M / cols) * (N + 2 * rows + cols - 2) - 1


def test_batch_equals_scalar_and_broadcasts() -> None:
    rng = np.random.default_rng(7)
    M, K, N = (rng.integers(1, 700, size=40) for _ in range(3))
    rows, cols = rng.integers(1, 64, size=40), rng.integers(1, 64, size=40)
    flows = rng.choice(["os", "ws", "is"], size=40)
    batch = systolic_gemm_batch(M, K, N, rows, cols, flows)
    for i in range(40):
        one = systolic_gemm(int(M[i]), int(K[i]), int(N[i]), int(rows[i]), int(cols[i]), str(flows[i]))
        for field in one.__dataclass_fields__:
            assert getattr(batch, field)[i] == getattr(one, field), field
    codes = systolic_gemm_batch(256, 256, 256, 32, 32, [kernel.OS, kernel.WS, kernel.IS])
    assert codes.cycles.tolist() == [20351, 22399, 22399]


@pytest.mark.parametrize(("args", "message"), [
    ((4, 4, 4, 2, 2, "rs"), "unknown dataflow 'rs'; valid: os, ws, is"),
    ((0, 4, 4, 2, 2, "os"), "M must be a positive integer, got 0"),
    ((4, 4, 4, 2, 2.5, "os"), "cols must be a positive integer, got 2.5"),
])
def test_bad_inputs_are_rejected(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        systolic_gemm(*args)


def test_batch_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="rows must be a positive integer, got 0"):
        systolic_gemm_batch([4, 4], 4, 4, [2, 0], 2, "os")
    with pytest.raises(ValueError, match="dataflow codes must be in"):
        systolic_gemm_batch(4, 4, 4, 2, 2, [5])


def test_numba_policy() -> None:
    assert kernel.gemm_batch.targetoptions["nogil"] is True
    assert kernel.gemm_batch.targetoptions["fastmath"] is False
    assert kernel.gemm_batch._cache.__class__.__name__ == "FunctionCache"
    one = np.ones(1, dtype=np.int64)
    assert policy.warm_up(kernel.gemm_batch, one, one, one, one, one, one * 0) >= 0.0
