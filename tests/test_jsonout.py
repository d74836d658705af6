"""The one JSON writer refuses non-finite numbers instead of writing Infinity/NaN (invalid JSON)."""

from __future__ import annotations

import io
import json

import pytest

from einsim import jsonout
from einsim.errors import EinsimError


def test_finite_values_round_trip() -> None:
    obj = {"latency_s": 1.5e-3, "levels": [{"bytes": 10**30}], "name": "x"}
    assert json.loads(jsonout.dumps(obj)) == obj


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_value_is_an_error_naming_its_path(bad: float) -> None:
    out = io.StringIO()
    with pytest.raises(EinsimError, match=r"output\.levels\[1\]\.bytes = (inf|-inf|nan) is not a finite number"):
        jsonout.dump({"levels": [{"bytes": 1.0}, {"bytes": bad}]}, out)
    assert out.getvalue() == ""  # nothing half-written
