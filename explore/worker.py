"""What a worker process runs: score a batch of design points into store rows (never raises).

Consecutive points that differ only in their rank sizes, under a mapper that scores N cascades of
one design at once (``batch_key``), are scored in one call: their rows carry the group's start and
each its share of the group's time (``elapsed_s``). Should that call fail as a whole, its points
are scored one at a time, so each row says what its own point does.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from einsim.errors import EinsimError
from einsim.explore.design import batch_key, evaluate_params, evaluate_params_batch, metrics

Item = tuple[str, dict[str, Any], int]  # (key, params, seed)


def evaluate_batch(root: str, items: list[Item]) -> list[dict[str, Any]]:
    """One row per item: metrics and the full Result on success, the error text on failure."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    rows = []
    for key, group in itertools.groupby(items, key=lambda item: batch_key(item[1])):
        group = list(group)
        if key is None or len(group) == 1 or not _together(root, group, worker, rows):
            rows += [_alone(root, item, worker) for item in group]
    return rows


def _row(key: str, started: float, worker: str, outcome: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "started_at": started, "worker": worker}
    if isinstance(outcome, EinsimError):
        row.update(status="error", error=str(outcome))
    else:
        result, arch = outcome
        row.update(metrics(result, arch), status="ok", result=result.to_dict())
    return row


def _together(root: str, group: list[Item], worker: str, rows: list[dict[str, Any]]) -> bool:
    """Score ``group`` in one call and append its rows; False (nothing appended) if the call failed."""
    started = time.time()
    t0 = time.perf_counter()
    try:
        outcomes = evaluate_params_batch([params for _, params, _ in group], Path(root))
        done = [_row(key, started, worker, outcome) for (key, _, _), outcome in zip(group, outcomes)]
    except Exception:  # the points, one at a time, say what went wrong with each
        return False
    share = (time.perf_counter() - t0) / len(group)
    for row in done:
        row["elapsed_s"] = share
    rows += done
    return True


def _alone(root: str, item: Item, worker: str) -> dict[str, Any]:
    key, params, seed = item
    started = time.time()
    t0 = time.perf_counter()
    try:
        row = _row(key, started, worker, evaluate_params(params, Path(root), seed))
    except EinsimError as exc:
        row = _row(key, started, worker, exc)
    except Exception as exc:  # a bug in a mapper must not stop the sweep: record it with its place
        where = traceback.extract_tb(exc.__traceback__)[-1]
        row = {"key": key, "started_at": started, "worker": worker, "status": "error",
               "error": f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"}
    row["elapsed_s"] = time.perf_counter() - t0
    return row
