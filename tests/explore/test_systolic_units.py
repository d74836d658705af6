"""`kind: systolic` compute units: GEMM-like Einsums bound to them take SCALE-Sim's exact cycles.

The design is the bundled edge_systolic (32x32, output-stationary, as the SCALE-Sim runs of
tests/golden/scalesim_gemm.json). SCALE-Sim's "Total Cycles" is the 0-based index of the last busy
cycle, so the elapsed time is Total Cycles + 1 per GEMM (peers.md §2: 64 folds x 318 = 20,352,
reported as 20,351).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from einsim.arch import SystolicArray, load_arch
from einsim.einsum import load_workload
from einsim.errors import EinsimError
from einsim.explore.cli import main
from einsim.sim.systolic import GemmShape, gemm_shape

GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "golden" / "scalesim_gemm.json").read_text())
# the 32x32 runs that stay compute-bound on the edge design's 50 GiB/s DRAM
CASES = [e for e in GOLDEN["entries"] if (e["rows"], e["cols"]) == (32, 32) and e["M"] == e["K"] == e["N"] == 256]


def _eval(capsys, *extra: str) -> dict:
    assert main(["eval", "--arch", "edge_systolic", "--workload", "gemm", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("entry", CASES, ids=lambda e: e["dataflow"])
def test_eval_on_a_systolic_unit_gives_scalesim_cycles(capsys, entry: dict) -> None:
    out = _eval(capsys, "--set", "M=256", "--set", "K=256", "--set", "N=256",
                "--set", f"Array2D.dataflow={entry['dataflow']}")
    assert out["cycles"] == pytest.approx(entry["cycles"] + 1, abs=1e-6)
    # busy PE-cycles are the MACs: SCALE-Sim's overall utilization
    assert out["utilization"]["Array2D"] == pytest.approx(256**3 / ((entry["cycles"] + 1) * 1024))


def test_the_os_golden_is_20352_elapsed_cycles(capsys) -> None:
    out = _eval(capsys, "--set", "M=256", "--set", "K=256", "--set", "N=256")
    assert round(out["cycles"]) == 20352


def test_the_bundled_systolic_design() -> None:
    unit = load_arch("edge_systolic").compute_unit("Array2D")
    assert isinstance(unit, SystolicArray)
    assert (unit.rows, unit.cols, unit.dataflow, unit.shape, unit.pe_count) == (32, 32, "os", [32, 32], 1024)


def test_gemm_shapes_of_bundled_einsums() -> None:
    gemm = load_workload("gemm", {"M": 8, "K": 4, "N": 2})
    assert gemm_shape(gemm.einsum("Z")) == GemmShape(batch=1, M=8, K=4, N=2)
    attention = load_workload("attention_3pass")
    qk = next(e for e in attention if set(e.reduced) == {"e"})
    shape = gemm_shape(qk)
    assert shape is not None and shape.K == attention.ranks["E"] and shape.batch == attention.ranks["H"]
    assert {shape.M, shape.N} == {attention.ranks["M"], attention.ranks["P"]}
    # exp/max/divide Einsums are not GEMMs: they run on the 1D array
    assert [e.name for e in attention if gemm_shape(e) is None]


@pytest.mark.parametrize("old, new", [
    ("    dataflow: os\n", "    dataflow: rs\n"),
    ("    rows: 32\n", "    rows: 0\n"),
    ("    cols: 32\n", "    cols: 32\n    shape: [32, 32]\n"),
])
def test_bad_systolic_specs_are_refused(old: str, new: str) -> None:
    text = Path(load_arch("edge_systolic")._src.file).read_text()
    assert old in text
    with pytest.raises(EinsimError, match="Array2D"):
        load_arch(text.replace(old, new), require_sources=False)
