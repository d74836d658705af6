"""The five attention configurations of the FuseMax paper as mapping strategies (data, not code).

A strategy names a design, a cascade, the unit each Einsum is bound to, where each intermediate
lives, which DRAM tensors are staged in the global buffer, the schedule, and the tiling family
(``fused``: Cascade 5 with the P1 rule; ``flat``: FLAT's row-block fusion of the 3-pass softmax;
``unfused``: one phase per Einsum group with DRAM round trips).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping as TMapping

from einsim.errors import EinsimError, did_you_mean


@dataclass(frozen=True)
class Strategy:
    name: str
    label: str
    arch: str  # bundled design under designs/arch
    workload: str
    tiling: str  # "fused" | "flat" | "unfused" | "generic"
    on_2d: tuple[str, ...]  # Einsums bound to Array2D; the rest run on Array1D
    schedule: str
    homes: TMapping[str, str] = field(default_factory=dict)
    staged: tuple[str, ...] = ()
    extra_ops: TMapping[str, TMapping[str, int]] = field(default_factory=dict)
    max_row_block: int | None = None  # FLAT: the largest block of query rows its dataflow fuses
    source: str = ""

    def unit_of(self, einsum: str) -> str:
        return "Array2D" if einsum in self.on_2d else "Array1D"


_C5_2D = ("BQK", "LM", "SLN", "SLD", "SLNV")
_C5_HOMES = {  # fusemax.md a.7 / Fig. 5: BQK and SLN stay in the 2D PEs, the 2D->1D results go through
    # the staging register file, the running values live in L3 with Q, the per-row corrections in the 1D PEs
    "BQK": "RF2D", "SLN": "RF2D", "LM": "StageRF", "SLD": "StageRF", "SLNV": "StageRF",
    "RM": "GlobalBuffer", "RD": "GlobalBuffer", "RNV": "GlobalBuffer",
    "PRM": "RF1D", "SPD": "RF1D", "SPNV": "RF1D",
}

FUSEMAX = Strategy(
    "fusemax", "+Binding (FuseMax)", "fusemax.yaml", "attention_1pass", "fused", _C5_2D,
    "par(seq(par(BQK+LM, RD+RNV+AV), RM, par(SLN+SLD, PRM+SPD), par(SLNV, SPNV)), mem)",
    _C5_HOMES, ("Q", "BK", "BV"),
    source="fusemax.md a.5 binding table and (e) proposal.py: comp = max(QK+LM, RD+RNV+AV) + RM + "
           "max(SLN+SLD, PRM+SPD) + max(SLNV, SPNV); latency = max(comp, mem)",
)

ARCHITECTURE = Strategy(
    "architecture", "+Architecture", "fusemax.yaml", "attention_1pass", "fused", _C5_2D,
    "par(seq(par(BQK+LM, RD+AV), M0*LM, RM, par(SLN+SLD, PRM+SPD), par(SLNV, SPNV+RNV)), mem)",
    _C5_HOMES, ("Q", "BK", "BV"),
    source="fusemax.md (e) stall_proposal.py: one M0xP0 BQK tile finishes before the next starts, so the "
           "array waits M0 x LM for RM; RNV no longer overlaps BQK",
)

CASCADE = Strategy(
    "cascade", "+Cascade", "flat.yaml", "attention_1pass", "fused", ("BQK", "SLNV"),
    "par(mem, BQK+SLNV, LM+RM+SLN+SLD+PRM+SPD+RD+SPNV+RNV+AV)",
    {"BQK": "GlobalBuffer", "SLN": "GlobalBuffer", "LM": "GlobalBuffer", "SLD": "GlobalBuffer",
     "SLNV": "GlobalBuffer", "RM": "GlobalBuffer", "RD": "GlobalBuffer", "RNV": "GlobalBuffer",
     "PRM": "RF1D", "SPD": "RF1D", "SPNV": "RF1D"},
    ("Q", "BK", "BV"),
    extra_ops={"exp": {"add": 1}},
    source="fusemax.md (c) ablations and (e) flat_pe_proposal.py: only QK and SLNV on the 2D array, exp on the "
           "1D exp unit with the subtract as a separate add (cost 2); latency = max(mem, comp_2d, comp_1d)",
)

FLAT = Strategy(
    "flat", "FLAT", "flat.yaml", "attention_3pass", "flat", ("QK", "AV"),
    "par(mem, QK+AV, GM+SN+SD+A)",
    max_row_block=1024,
    source="fusemax.md (e) flat.py + stable_softmax.py: QK/AV on the 2D array, the 3-pass softmax on 256 1D "
           "PEs at one cycle per element per Einsum, fully overlapped: latency = max(mem, comp_2d, comp_1d); "
           "row blocks of at most 1024 queries: fusemax.md (c), FLAT's dataflow (flat_validation.csv) at >= 256K "
           "tokens is row granularity with P1 = 1024",
)

UNFUSED = Strategy(
    "unfused", "Unfused", "unfused.yaml", "attention_3pass", "unfused", ("QK", "AV"),
    "seq(par(QK, mem(QK)), par(GM+SN+SD+A, mem(GM, SN, SD, A)), par(AV, mem(AV)))",
    source="fusemax.md (e) unfused.py: QK (mapper), the 3-pass softmax, AV in sequence with DRAM round trips; "
           "latency = sum over phases of max(mem, comp)",
)

STRATEGIES: dict[str, Strategy] = {s.name: s for s in (UNFUSED, FLAT, CASCADE, ARCHITECTURE, FUSEMAX)}


def strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise EinsimError(f"unknown attention configuration {name!r}" + did_you_mean(name, list(STRATEGIES)))
    return STRATEGIES[name]
