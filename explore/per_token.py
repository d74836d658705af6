"""The per-token view of a sweep's model points: tokens/s, J/token and the bound of each point.

A point that runs a model phase (``model`` and ``phase`` in its parameters) yields ``batch`` tokens
per decode step and ``batch × seq`` per prefill, so tokens/s = tokens / latency and J/token =
energy / tokens (None when the design has no energy model: energy 0). The bound is the busiest
resource of the run (a compute unit, or a DRAM level by its bytes over its peak bandwidth,
``einsim.explore.design.bound``), for which the point's architecture is loaded again from its
stored parameters (bundled names, or files found from ``root``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from einsim.errors import EinsimError
from einsim.explore.design import bound, load_design_arch
from einsim.explore.results import Results


def tokens_of(params: dict[str, Any]) -> int | None:
    """Tokens one evaluation of a model point yields (None: not a model point)."""
    if not params.get("model") or params.get("phase") not in ("prefill", "decode"):
        return None
    batch = int(params.get("batch") or 1)
    return batch if params["phase"] == "decode" else batch * int(params.get("seq") or 1)


def per_token_rows(results: Results, root: Path | None = None) -> list[dict[str, Any]]:
    """One row per successful model point: its axes, ``tokens_per_s``, ``J_per_token``, ``bound``
    (resource name), ``bound_fraction`` and, where the bound cannot be named, ``bound_reason``."""
    rows = []
    for r in results.rows("ok"):
        params = r["params"]
        tokens = tokens_of(params)
        if tokens is None or not r["latency_s"]:
            continue
        res = r["result"]
        row: dict[str, Any] = {**r["axes"], "tokens_per_s": tokens / r["latency_s"],
                               "J_per_token": r["energy_J"] / tokens if r["energy_J"] > 0 else None,
                               "bound": None, "bound_fraction": None, "bound_reason": None}
        overrides = {k[len("arch."):]: v for k, v in params.items() if k.startswith("arch.")}
        try:
            arch = load_design_arch(params["arch"], overrides, root)
        except EinsimError as exc:
            row["bound_reason"] = f"the design does not load here: {exc}"
        else:
            row["bound"], row["bound_fraction"] = bound(res.get("utilization", {}), res.get("bytes_per_level", {}),
                                                        r["latency_s"], arch)
            if row["bound"] is None:
                row["bound_reason"] = "the result reports no busy resource"
        rows.append(row)
    return rows
