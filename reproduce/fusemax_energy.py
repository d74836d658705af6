"""Which components move FuseMax's energy ratios: per point and per component, leakage included.

``einsim reproduce fusemax-energy [--json]`` evaluates FuseMax, FLAT and Unfused at every point of
the FuseMax grid and splits each energy ratio (attention alone, and the encoder layer end to end)
by component. With F_c and B_c FuseMax's and the baseline's energy in component c,

    ratio = sum(F_c) / sum(B_c) = 1 - sum_c (B_c - F_c) / sum(B_c),

so each column is component c's share of the saving, in percentage points of the baseline's
energy: the columns of a row add up to 100 x (1 - ratio). A negative entry is a component where
FuseMax spends more (its 16-entry 2D register files, its exp as 6 MACs + 1 add on the 2D array).
Leakage is one column (every buffer's leakage over the latency); ``linear`` is the six GEMMs of
the layer (end to end only; their per-component split is not reported by the layer model).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from einsim.mappers.spatial import STRATEGIES, LayerResult, evaluate_layer
from einsim.reproduce.fusemax import BATCH, MODELS, SEQ_LENS  # the reproduction's grid

BASELINES = ("flat", "unfused")
COMPONENTS = ("Array2D", "Array1D", "GlobalBuffer", "DRAM", "RF2D", "RF1D", "StageRF")
LEAKAGE, LINEAR = "leakage", "linear"


def components_J(result: LayerResult, end_to_end: bool) -> dict[str, float]:
    """Energy per component of one layer (attention alone unless ``end_to_end``), J."""
    out = dict.fromkeys((*COMPONENTS, LEAKAGE), 0.0)
    for (comp, action), (_, joules) in result.attention.energy.items():
        key = LEAKAGE if action == "leakage" else comp
        out[key] = out.get(key, 0.0) + joules
    if end_to_end:
        out[LINEAR] = result.linear_energy_J
    return out


def saving_shares(fusemax: dict[str, float], base: dict[str, float]) -> dict[str, float]:
    """Each component's (B_c - F_c) / sum(B) in percentage points; they add up to 100 (1 - ratio)."""
    total = sum(base.values())
    return {c: 100 * (base.get(c, 0.0) - fusemax.get(c, 0.0)) / total for c in dict.fromkeys([*base, *fusemax])}


@lru_cache(maxsize=None)
def _layers(model: str, seq_len: int, batch: int) -> dict[str, LayerResult]:
    return {c: evaluate_layer(STRATEGIES[c], model, seq_len, batch) for c in ("fusemax", *BASELINES)}


def point_rows(model: str, seq_len: int, batch: int = BATCH) -> list[dict[str, Any]]:
    """One row per (scope, baseline) at one point: the ratio and every component's share."""
    layers = _layers(model, seq_len, batch)
    rows = []
    for scope, e2e in (("attention", False), ("end to end", True)):
        mine = components_J(layers["fusemax"], e2e)
        for base in BASELINES:
            theirs = components_J(layers[base], e2e)
            rows.append({"kind": f"FuseMax {scope} energy vs {base}: share of the saving by component (pp)",
                         "model": model, "seq_len": seq_len, "ratio": sum(mine.values()) / sum(theirs.values()),
                         **saving_shares(mine, theirs)})
    return rows


def run(name: str = "fusemax-energy") -> list[dict[str, Any]]:
    """The rows of ``einsim reproduce fusemax-energy --json``: 24 points x 2 scopes x 2 baselines."""
    rows = [r for m in MODELS for n in SEQ_LENS for r in point_rows(m, n)]
    return sorted(rows, key=lambda r: r["kind"])


def means(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per kind, the mean over the points of the ratio and of every share (means stay additive)."""
    out: dict[str, dict[str, float]] = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        group = [r for r in rows if r["kind"] == kind]
        keys = [k for k in group[0] if k not in ("kind", "model", "seq_len")]
        out[kind] = {k: sum(r[k] for r in group) / len(group) for k in keys}
    return out


def notes() -> list[str]:
    lines = []
    for kind, m in means(run()).items():
        parts = ", ".join(f"{k} {v:+.2f}" for k, v in m.items() if k != "ratio" and abs(v) >= 0.005)
        lines.append(f"{kind.split(':')[0]}: mean ratio {m['ratio']:.3f}; mean shares (pp) {parts}")
    return lines
