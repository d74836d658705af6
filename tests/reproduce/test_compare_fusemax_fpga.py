"""FuseMax's, FlightLLM's and LightMamba's comparison rows: one per published number, PASS only within
tolerance, every MISS naming what the model lacks, and the verdicts pinned (a regression test against
the golden file).

Regenerate the golden verdicts after a deliberate model change (and explain each change in the
commit): ``python tests/reproduce/test_compare_fusemax_fpga.py``
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from einsim.explore.cli import main
from einsim.reproduce import flightllm, fusemax, lightmamba
from einsim.reproduce.compare import CompareRow
from verdicts import has_row, leaves, verdicts, write_golden

MODULES = (fusemax, flightllm, lightmamba)
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "fusemax_fpga_compare_verdicts.json"
KEYS = {"paper", "figure", "metric", "config", "model_value", "paper_value", "unit", "tolerance", "within"}


def published_values(module) -> list[float]:
    """Every published number a paper module holds: the leaves of the constants it names in
    ``PUBLISHED_CONSTANTS`` (or ``PUBLISHED``, a tuple of names), and the values of a ``PUBLISHED``
    dict of (value, tolerance, source). Zeros (the HLS kernels without DSP or BRAM) are left out: a
    relative tolerance cannot score them."""
    names = getattr(module, "PUBLISHED_CONSTANTS", None) or module.PUBLISHED
    values = [v for name in names for v in leaves(getattr(module, name))]
    if isinstance(module.PUBLISHED, dict):
        values += [value for value, _, _ in module.PUBLISHED.values()]
    return [v for v in values if v != 0]


@pytest.fixture(scope="module")
def compared() -> dict[str, list[CompareRow]]:
    return {m.__name__: m.compare() for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_published_value_has_a_row(module, compared):
    rows = compared[module.__name__]
    values = published_values(module)
    assert len(values) >= 20
    for v in values:
        assert has_row(v, rows), f"{module.__name__}: published {v} has no comparison row"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_pass_rows_are_within_and_miss_rows_name_the_missing_mechanism(module, compared):
    rows = compared[module.__name__]
    assert any(r.within for r in rows) and any(not r.within for r in rows)
    for r in rows:
        if r.within:
            assert r.model_value is not None and abs(r.model_value / r.paper_value - 1) <= r.tolerance + 1e-12, r
        else:
            assert r.missing, f"a MISS without its missing mechanism: {r}"
        assert math.isfinite(r.paper_value) and r.paper_value > 0 and r.source
        assert r.paper == module.PAPER_NAME


def test_the_fusemax_rows_agree_with_its_tests(compared):
    """The --compare rows and tests/reproduce/test_fusemax.py see the same model: the headline
    speedups within 3 %, the per-point BERT speedups, and the attention energy against Unfused (a miss
    until the Unfused tilings could bypass the L3 for a tensor it gives no reuse)."""
    rows = {(r.figure, r.metric, r.config): r for r in compared[fusemax.__name__]}
    headline = "headline, paper (mean over 24 points)"
    grid = "4 models x 1K..1M, batch 64"
    assert rows[headline, "attn_speedup_vs_flat", grid].within
    assert rows[headline, "attn_energy_vs_unfused", grid].within
    bert = rows["5.1 per point", "attention speedup vs FLAT", "bert_base, 16K"]
    by, _ = fusemax.cached_grid()
    assert bert.model_value == by["bert_base", 16384, "flat"].attn_latency_s / by["bert_base", 16384, "fusemax"].attn_latency_s
    assert bert.paper_value == 7.37


def test_the_flightllm_check_rows_are_compare_rows(compared):
    """Each published figure of ``einsim reproduce flightllm``'s check rows is a --compare row with the same
    model value and verdict."""
    rows = {r.metric: r for r in compared[flightllm.__name__]}
    got = flightllm.measured()
    for name, (value, tol, _) in flightllm.PUBLISHED.items():
        r = rows[name]
        assert (r.model_value, r.paper_value, r.tolerance) == (pytest.approx(got[name]), value, tol)
        assert r.within == (abs(got[name] / value - 1) <= tol)


def test_cli_compare_json(capsys) -> None:
    assert main(["reproduce", "lightmamba", "--compare", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(KEYS <= set(r) for r in rows)
    assert {r["paper"] for r in rows} == {"LightMamba"}
    assert [r["within"] for r in rows] == [r.within for r in lightmamba.compare()]


def test_verdicts_regression(compared):
    """Pins which published numbers the model reaches today (the MISS rows are recorded here)."""
    golden = json.loads(GOLDEN.read_text())["verdicts"]
    assert verdicts(compared) == golden


if __name__ == "__main__":
    write_golden(GOLDEN, "FuseMax, FlightLLM and LightMamba", "python tests/reproduce/test_compare_fusemax_fpga.py",
                 {m.__name__: m.compare() for m in MODULES})
