"""The FuseMax reproduction grid: 4 models x 6 sequence lengths x 5 configurations, and its summary.

Every number is computed through the model; the paper's figures are only set beside the results
(``PAPER``) for display and for the tests, never read by the code that produces a result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from einsim.mappers.spatial.layer import evaluate_layer
from einsim.mappers.spatial.strategies import STRATEGIES

MODELS = ("bert_base", "trxl_wt103", "t5_small", "xlm")
SEQ_LENS = (1024, 4096, 16384, 65536, 262144, 1048576)
CONFIGS = ("unfused", "flat", "cascade", "architecture", "fusemax")
BATCH = 64

# source: fusemax.md (d.1) paper headline values (arithmetic means over the 24 points; energies are ratios)
PAPER = {
    "attn_speedup_vs_flat": 6.7, "attn_energy_vs_flat": 0.79,
    "attn_speedup_vs_unfused": 10.0, "attn_energy_vs_unfused": 0.77,
    "e2e_speedup_vs_flat": 5.3, "e2e_energy_vs_flat": 0.83,
    "e2e_speedup_vs_unfused": 7.6, "e2e_energy_vs_unfused": 0.82,
    "e2e_speedup_vs_unfused_1M": 10.0, "e2e_speedup_vs_flat_1M": 7.5,
}


@dataclass
class Point:
    model: str
    seq_len: int
    config: str
    attn_latency_s: float
    attn_energy_J: float
    dram_bytes: float
    util_2d: float
    util_1d: float
    e2e_latency_s: float
    e2e_energy_J: float

    def to_dict(self) -> dict:
        return asdict(self)


def run_point(model: str, seq_len: int, config: str, batch: int = BATCH) -> Point:
    r = evaluate_layer(STRATEGIES[config], model, seq_len, batch)
    a = r.attention
    return Point(model, seq_len, config, a.latency_s, a.energy_J, a.dram_bytes, a.utilization["Array2D"],
                 a.utilization["Array1D"], r.latency_s, r.energy_J)


def run_grid(models=MODELS, seq_lens=SEQ_LENS, configs=CONFIGS, batch: int = BATCH,
             progress: Callable[[str], None] | None = None) -> list[Point]:
    points = []
    total = len(models) * len(seq_lens)
    for i, model in enumerate(models):
        for j, n in enumerate(seq_lens):
            if progress:
                progress(f"[{i * len(seq_lens) + j + 1}/{total}] {model} seq {n}")
            points.extend(run_point(model, n, c, batch) for c in configs)
    return points


def summary(points: list[Point]) -> dict[str, float]:
    """Arithmetic means over the (model, seq) points of FuseMax's speedup and energy ratio."""
    by = {(p.model, p.seq_len, p.config): p for p in points}
    keys = sorted({(p.model, p.seq_len) for p in points})
    out: dict[str, float] = {}
    for base in ("flat", "unfused"):
        pairs = [(by[(m, n, "fusemax")], by[(m, n, base)]) for m, n in keys if (m, n, base) in by and (m, n, "fusemax") in by]
        if not pairs:
            continue
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        out[f"attn_speedup_vs_{base}"] = mean([b.attn_latency_s / f.attn_latency_s for f, b in pairs])
        out[f"attn_energy_vs_{base}"] = mean([f.attn_energy_J / b.attn_energy_J for f, b in pairs])
        out[f"e2e_speedup_vs_{base}"] = mean([b.e2e_latency_s / f.e2e_latency_s for f, b in pairs])
        out[f"e2e_energy_vs_{base}"] = mean([f.e2e_energy_J / b.e2e_energy_J for f, b in pairs])
        at_1m = [(f, b) for f, b in pairs if f.seq_len == 2**20]
        if at_1m:
            out[f"e2e_speedup_vs_{base}_1M"] = mean([b.e2e_latency_s / f.e2e_latency_s for f, b in at_1m])
    return out
