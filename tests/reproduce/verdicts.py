"""Helpers of the --compare tests: the published numbers a paper module holds, and the PASS/MISS
verdicts pinned in a golden file (imported by the test modules beside it)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterator

from einsim.reproduce.compare import CompareRow


def leaves(obj: Any) -> Iterator[float]:
    """The numbers in a published constant (nested dicts, tuples, lists; text is skipped)."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from leaves(v)
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            yield from leaves(v)
    elif not isinstance(obj, str):
        yield float(obj)


def has_row(value: float, rows: list[CompareRow]) -> bool:
    """Whether a published number is a row's paper value, or an end of a published range's row."""
    return any(math.isclose(value, r.paper_value, rel_tol=1e-9) or
               math.isclose(value, r.paper_value * (1 - r.tolerance), rel_tol=1e-9) or
               math.isclose(value, r.paper_value * (1 + r.tolerance), rel_tol=1e-9) for r in rows)


def verdicts(compared: dict[str, list[CompareRow]]) -> list[dict[str, str]]:
    return [{"paper": r.paper, "figure": r.figure, "metric": r.metric, "config": r.config,
             "result": "PASS" if r.within else "MISS"} for rows in compared.values() for r in rows]


def write_golden(path: Path, papers: str, regenerate: str, compared: dict[str, list[CompareRow]]) -> None:
    path.write_text(json.dumps({
        "description": f"PASS/MISS of every published {papers} number (einsim reproduce NAME --compare); "
                       "a regression pin of the model, not a target",
        "regenerate": regenerate,
        "verdicts": verdicts(compared)}, indent=1) + "\n")
