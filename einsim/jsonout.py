"""The one JSON writer for machine-readable output: strict JSON, never ``Infinity`` or ``NaN``.

Python's json module writes non-finite floats as ``Infinity``/``NaN``, which no JSON parser
accepts. Every writer goes through ``dumps``/``dump`` here; a non-finite value is an EinsimError
naming where in the object it is, so a wrong number is never printed.
"""

from __future__ import annotations

import json
import math
from typing import Any, IO


def _first_non_finite(obj: Any, path: str) -> str | None:
    stack: list[tuple[Any, str]] = [(obj, path)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{at} = {value}"
        if isinstance(value, dict):
            stack.extend((v, f"{at}.{k}") for k, v in reversed(list(value.items())))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{at}[{i}]") for i, v in reversed(list(enumerate(value))))
    return None


def _refuse(obj: Any) -> None:
    from einsim.errors import EinsimError

    bad = _first_non_finite(obj, "output")
    raise EinsimError(f"{bad or 'a value'} is not a finite number and cannot be written as JSON")


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` with ``allow_nan=False``; a non-finite number is an EinsimError."""
    try:
        return json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError:
        _refuse(obj)
        raise


def dump(obj: Any, fp: IO[str], **kwargs: Any) -> None:
    """``json.dump`` of ``dumps``'s text (nothing is written when a value is not finite)."""
    fp.write(dumps(obj, **kwargs))
