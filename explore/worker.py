"""What a worker process runs: score a batch of design points into store rows (never raises)."""

from __future__ import annotations

import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from einsim.errors import EinsimError
from einsim.explore.design import evaluate_params, metrics

Item = tuple[str, dict[str, Any], int]  # (key, params, seed)


def evaluate_batch(root: str, items: list[Item]) -> list[dict[str, Any]]:
    """One row per item: metrics and the full Result on success, the error text on failure."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    rows = []
    for key, params, seed in items:
        started = time.time()
        t0 = time.perf_counter()
        row: dict[str, Any] = {"key": key, "started_at": started, "worker": worker}
        try:
            result, arch = evaluate_params(params, Path(root), seed)
            row.update(metrics(result, arch), status="ok", result=result.to_dict())
        except EinsimError as exc:
            row.update(status="error", error=str(exc))
        except Exception as exc:  # a bug in a mapper must not stop the sweep: record it with its place
            where = traceback.extract_tb(exc.__traceback__)[-1]
            row.update(status="error", error=f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})")
        row["elapsed_s"] = time.perf_counter() - t0
        rows.append(row)
    return rows
