"""HBM traffic of FlightLLM: weight formats (mixed precision, N:M metadata), LD time, MV re-tiling.

A weight format says how many bytes a dense-equivalent weight costs in HBM and, per operator, the
N:M pattern of its sparse blocks (a :class:`~einsim.mappers.fpga.csd.BlockMix`: the CSD chain
prices the MACs from it block by block; its mean kept fraction sets the bytes). Sparse blocks store their nonzeros plus a 4-bit index per
nonzero (the artifact's FSB encoding); a measured average bits/param (the U280 case files)
replaces the per-value accounting when given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from einsim.mappers.fpga.csd import BlockMix
from einsim.mappers.fpga.device import FPGADevice

INDEX_BITS = 4  # source: fpga_phone.md 1(a): "Metadata is a 4-bit index per INT8 value" [A IR_linear_mv.py]


@dataclass(frozen=True)
class WeightFormat:
    name: str
    value_bits: float = 8.0  # bits of one stored weight value
    sparsity: dict[str, BlockMix] = field(default_factory=dict)  # operator -> its N:M blocks; default dense
    bits_per_param: float | None = None  # measured average incl. metadata; overrides value_bits
    source: str = ""

    def pattern(self, op: str) -> BlockMix | None:
        """The N:M blocks of operator ``op``'s weight (None: dense)."""
        return self.sparsity.get(op)

    def kept(self, op: str) -> float:
        """Mean kept fraction of ``op``'s weights (1 dense)."""
        mix = self.sparsity.get(op)
        return 1.0 if mix is None else mix.kept

    def bytes_per_weight(self, op: str) -> float:
        """HBM bytes per dense-equivalent weight of operator ``op``."""
        if self.bits_per_param is not None:
            return self.bits_per_param / 8
        d = self.kept(op)
        if d >= 1:
            return self.value_bits / 8
        return d * (self.value_bits + INDEX_BITS) / 8


def ld_seconds(nbytes: float, device: FPGADevice, cross_channel: bool = False) -> float:
    """The artifact's LD/ST time: bytes / (BW/32 · channels in parallel · efficiency), over its speed-up."""
    return nbytes / device.ld_Bps(cross_channel) / device.speedup


def mv_chains(device: FPGADevice, bytes_per_weight: float, density: float) -> int:
    """Chains (p_N') the MV mode is re-tiled to, FlightLLM Eq. 3 with M = 1, p_M = 1.

    Double buffering hides a weight tile's LD only if T_mem < T_cmp; among power-of-two chain
    counts up to the hardware's, take the largest that keeps compute slower than memory, which is
    as close to saturating HBM as the constraint allows. Per dense weight,
    T_mem = bytes_per_weight / LD bandwidth and T_cmp = density / (p_K · p_N' · f).
    """
    weights_per_cycle = device.ld_Bps() / device.clock_Hz / bytes_per_weight
    limit = density * weights_per_cycle / device.mv_pk  # p_N' must stay below this
    pn = 1 << max(0, math.ceil(math.log2(limit)) - 1) if limit > 1 else 1
    return min(device.mv_pn_max, pn)
