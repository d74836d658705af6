"""One encoder layer end to end: attention under a strategy plus the layer's linear layers.

The linear layers (Q, K, V, output projections and the two FFN GEMMs of the model preset) follow
the FuseMax artifact: their latency is the ideal throughput of the 2D array (MACs / (PEs x clock),
the same for every design), and only their energy depends on the design; it comes from the best-
energy output-stationary tiling of the GEMM on that design's buffers, plus every buffer's leakage
over the GEMM's latency. Element-wise Einsums of the FFN (the activation) are not charged, as in
the artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from einsim.einsum import expand, load_model
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Einsum
from einsim.einsum.models import Plan
from einsim.mappers.spatial.attention import AttentionResult, array_of, design, evaluate_attention, workload
from einsim.mappers.spatial.cost import leakage_energy
from einsim.mappers.spatial.strategies import Strategy
from einsim.mappers.spatial.tiles import search_tiling


@dataclass
class LayerResult:
    attention: AttentionResult
    linear_latency_s: float
    linear_energy_J: float
    gemms: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (latency s, energy J)

    @property
    def latency_s(self) -> float:
        return self.attention.latency_s + self.linear_latency_s

    @property
    def energy_J(self) -> float:
        return self.attention.energy_J + self.linear_energy_J


def is_gemm(e: Einsum) -> bool:
    """A contraction of two operands over one reduced index with one MAC per point."""
    return dict(ops_per_point(e)) == {"mac": 1} and len(e.operands) == 2 and len(e.reduced) == 1 and len(e.kept) == 2


@lru_cache(maxsize=None)
def _gemm_cost(arch_name: str, name: str, bindings: tuple[tuple[str, int], ...], einsum_name: str) -> tuple[float, float]:
    arch = design(arch_name)
    e = workload(name, dict(bindings)).einsum(einsum_name)
    a2 = array_of(arch, "Array2D")
    rows, cols = a2.shape
    macs = 1
    for n in e.space.values():
        macs *= n
    latency = macs / (a2.pe_count * arch.clock_of("Array2D"))
    x, y = e.kept
    if e.space[x] % rows or e.space[y] % cols:
        raise ValueError(f"{einsum_name}: {x}={e.space[x]}, {y}={e.space[y]} must be multiples of the {rows}x{cols} array")
    operands = tuple(o.tensor for o in e.operands)
    cost, _, _ = search_tiling(arch, e, "Array2D", {x: rows, y: cols}, (x, y), {}, {e.reduced[0]: "RF2D"}, {},
                            (*operands, e.output), lambda c: c.energy_J)
    leak = sum(j for _, j in leakage_energy(arch, latency).values())
    return latency, cost.energy_J + leak


@lru_cache(maxsize=None)
def _plan(model: str, seq_len: int, batch: int) -> Plan:
    return expand(load_model(model), "prefill", seq_len=seq_len, batch=batch)


def linear_layers(arch_name: str, model: str, seq_len: int, batch: int) -> dict[str, tuple[float, float]]:
    """(ideal latency s, energy J) of every GEMM of one layer of ``model`` outside attention."""
    out = {}
    for op in _plan(model, seq_len, batch).layer_types[0].ops:
        if op.name == "attention":
            continue
        einsums = workload(op.workload, dict(op.bindings)).einsums
        for e in einsums:
            if is_gemm(e):
                key = op.name if len(einsums) == 1 else f"{op.name}.{e.name}"
                out[key] = _gemm_cost(arch_name, op.workload, tuple(sorted(op.bindings.items())), e.name)
    return out


def attention_dims(model: str, seq_len: int, batch: int) -> dict[str, int]:
    """H (batch x heads), M, P, E, F of the model's attention at ``seq_len``."""
    op = next(op for op in _plan(model, seq_len, batch).layer_types[0].ops if op.name == "attention")
    b = op.bindings
    return {"H": b["H"], "M": b["M"], "P": b["P"], "E": b["E"], "F": b["F"]}


def evaluate_layer(s: Strategy, model: str, seq_len: int, batch: int = 64, fill_drain: bool = False) -> LayerResult:
    """Attention under ``s`` plus the model's linear layers on the strategy's design."""
    att = evaluate_attention(s, **attention_dims(model, seq_len, batch), fill_drain=fill_drain)
    gemms = linear_layers(s.arch, model, seq_len, batch)
    return LayerResult(att, sum(v[0] for v in gemms.values()), sum(v[1] for v in gemms.values()), gemms)
