"""The schedule grammar: parsing, evaluation, and located errors (never eval)."""

from __future__ import annotations

import pytest

from einsim.errors import EinsimError
from einsim.mappers.spatial.schedule import evaluate_schedule, parse_schedule

TIMES = {"QK": 10.0, "LM": 1.0, "RD": 2.0, "RNV": 8.0, "AV": 3.0, "RM": 1.0, "SLN": 7.0, "SLD": 1.0,
         "PRM": 7.0, "SPD": 1.0, "SLNV": 10.0, "SPNV": 9.0}


def ev(text: str, mem: float = 0.0, params=None) -> float:
    return evaluate_schedule(parse_schedule(text), TIMES, params or {}, lambda names: mem)


def test_fusemax_binding() -> None:
    text = "seq(par(QK+LM, RD+RNV+AV), RM, par(SLN+SLD, PRM+SPD), par(SLNV, SPNV))"
    assert ev(text) == max(11, 13) + 1 + max(8, 8) + max(10, 9)
    assert ev(f"par({text}, mem)", mem=100.0) == 100.0


def test_parameters_scale_and_parentheses() -> None:
    assert ev("M0*LM + (RM + 1) * 2", params={"M0": 256}) == 256 + 4


def test_mem_of_named_einsums() -> None:
    seen = []
    value = evaluate_schedule(parse_schedule("seq(par(QK, mem(QK)), par(AV, mem(AV, RM)))"), TIMES, {},
                              lambda names: seen.append(names) or 50.0)
    assert value == 100.0 and seen == [("QK",), ("AV", "RM")]


@pytest.mark.parametrize("text, fragment", [
    ("seq(QK,", "unexpected end"),
    ("par()", "at least one"),
    ("QK + __import__('os')", "unexpected character"),
    ("QK $ LM", "column 4"),
    ("mem(QK+LM)", "Einsum names"),
])
def test_errors_are_located(text: str, fragment: str) -> None:
    with pytest.raises(EinsimError, match=fragment.replace("(", r"\(")):
        ev(text)


def test_unknown_name_suggests() -> None:
    with pytest.raises(EinsimError, match="did you mean"):
        ev("seq(QKK, LM)")
