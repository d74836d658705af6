"""The phone papers' comparison rows: one per published number, PASS only within tolerance, every
MISS naming what the model lacks, and the verdicts pinned (a regression test against the golden file).

Regenerate the golden verdicts after a deliberate model change (and explain each change in the
commit): ``python tests/reproduce/test_phone_compare.py``
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from einsim import jsonout
from einsim.reproduce import compare, llm_in_a_flash, llmcad, powerinfer2
from einsim.reproduce.compare import CompareRow, published_range
from verdicts import has_row, leaves, verdicts, write_golden

MODULES = (powerinfer2, llm_in_a_flash, llmcad)
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "phone_compare_verdicts.json"


@pytest.fixture(scope="module")
def compared() -> dict[str, list[CompareRow]]:
    return {m.__name__: m.compare() for m in MODULES}


def test_a_row_passes_only_within_its_tolerance():
    row = CompareRow("p", "f", "m", "c", 1.25, 1.0, "x")
    assert row.within and row.ratio == 1.25
    assert not CompareRow("p", "f", "m", "c", 1.26, 1.0, "x").within
    assert not CompareRow("p", "f", "m", "c", 0.74, 1.0, "x").within
    assert not CompareRow("p", "f", "m", "c", None, 1.0, "x", missing="no mechanism").within
    value, tol = published_range(3.47, 4.67)
    assert CompareRow("p", "f", "m", "c", 3.48, value, "x", tol).within
    assert CompareRow("p", "f", "m", "c", 4.66, value, "x", tol).within
    assert not CompareRow("p", "f", "m", "c", 3.46, value, "x", tol).within
    assert not CompareRow("p", "f", "m", "c", 4.68, value, "x", tol).within


def test_a_row_of_numpy_values_serialises_as_json():
    row = CompareRow("p", "f", "m", "c", np.float64(1.1), np.float64(1.0), "x")
    assert json.loads(jsonout.dumps(row.to_dict()))["within"] is True


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_published_value_has_a_row(module, compared):
    rows = compared[module.__name__]
    for name in module.PUBLISHED:
        for v in leaves(getattr(module, name)):
            assert has_row(v, rows), f"{module.__name__}.{name}: published {v} has no comparison row"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_pass_rows_are_within_and_miss_rows_name_the_missing_mechanism(module, compared):
    for r in compared[module.__name__]:
        if r.within:
            assert r.model_value is not None and abs(r.model_value / r.paper_value - 1) <= r.tolerance + 1e-12, r
        else:
            assert r.missing, f"a MISS without its missing mechanism: {r}"
        assert math.isfinite(r.paper_value) and r.paper_value > 0 and r.source


def test_llmcad_slow_draft_sensitivity_steps_the_7b_at_the_papers_measured_275_ms():
    from einsim.mappers.phone.footprint import footprint
    from einsim.mappers.phone.formats import INT4_B
    from einsim.mappers.phone.llmcad import forward_time

    nominal, slow = llmcad._device(), llmcad._device(slow_draft=True)
    draft = footprint("llama2_7b")
    assert forward_time(nominal, draft, 1) == pytest.approx(draft.params * INT4_B / 51.2e9)  # bandwidth-bound
    assert forward_time(slow, draft, 1) == pytest.approx(0.275)
    assert slow.available_B == nominal.available_B  # only the DRAM bandwidth differs


def test_fig7_has_every_bar_on_both_phones(compared):
    rows = compared[powerinfer2.__name__]
    assert len([r for r in rows if r.figure == "Fig. 7" and r.unit == "tokens/s"]) == 12
    assert len([r for r in rows if r.figure == "Fig. 7 (Ace 2)" and r.unit == "tokens/s"]) == 12
    assert len([r for r in rows if r.figure.startswith("Fig. 7") and r.unit == "x"]) == 6


def test_verdicts_regression(compared):
    """Pins which published numbers the model reaches today (the MISS rows are recorded here)."""
    golden = json.loads(GOLDEN.read_text())["verdicts"]
    assert verdicts(compared) == golden


def test_the_phone_fraction_within_tolerance_regression(compared):
    rows = [r for rs in compared.values() for r in rs]
    assert compare.fraction_within(rows) == pytest.approx(
        sum(v["result"] == "PASS" for v in json.loads(GOLDEN.read_text())["verdicts"]) / len(rows))


if __name__ == "__main__":
    write_golden(GOLDEN, "PowerInfer-2, LLM in a flash and LLMCad", "python tests/reproduce/test_phone_compare.py",
                 {m.__name__: m.compare() for m in MODULES})
