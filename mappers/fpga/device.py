"""A FlightLLM device: the numbers the mapper needs, read from an architecture spec.

Two ways to run several cores, both from the sources:

- ``artifact``: the way the authors' simulator produced the VHK158 numbers. The whole model is one
  instruction stream on one core with the HBM channels an LD spreads over, and every instruction
  time (LD and ST included) is divided by ``cores × core_scaling_efficiency`` (the artifact's
  ``correction_factor = 3.2``). Dividing the LD time too gives an aggregate HBM bandwidth that can
  exceed the device's peak; :func:`FPGADevice.hbm_speedup_exceeds_peak` says when.
- ``board``: the cores are simulated explicitly. Each core runs its share of every operator with
  its own HBM channels (``HBM.channels // cores``), so the cores never share bandwidth, and no
  factor divides anything. This is how the U280 board is modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from einsim.arch import DRAM, Architecture, DSPEngine
from einsim.mappers.fpga.csd import CSDChain

Semantics = Literal["artifact", "board"]


@dataclass(frozen=True)
class FPGADevice:
    name: str
    clock_Hz: float
    cores: int  # cores that run in parallel
    semantics: Semantics
    speedup: float  # divides every instruction time (artifact semantics), else 1
    mm_macs: int  # MACs per cycle of one core in MM mode
    mm_pm: int  # p_M: activation rows an MM instruction covers per pass
    mv_pk: int  # p_K in MV mode: the chain length (one 16-wide K block per cycle)
    mv_pn_max: int  # chains available in MV mode (p_N); the mapper may re-tile to fewer
    sfu_lanes: int
    sfu_passes: dict[str, int]
    channel_Bps: float  # peak bandwidth of one HBM channel
    channels: int  # HBM channels on the device
    ld_channels: int  # channels one core's LD stream spreads over
    same_eff: float
    cross_eff: float
    hbm_capacity_B: float
    power_W: float | None
    chain: CSDChain  # the CSD-chain every MV/MM instruction runs on

    def ld_Bps(self, cross_channel: bool = False) -> float:
        """Bandwidth of one core's LD/ST stream (before the artifact's speed-up)."""
        eff = self.cross_eff if cross_channel else self.same_eff
        return self.channel_Bps * self.ld_channels * eff

    @property
    def peak_hbm_Bps(self) -> float:
        return self.channel_Bps * self.channels

    def hbm_speedup_exceeds_peak(self) -> bool:
        """True when the artifact's division of LD time implies more than the HBM's peak bandwidth."""
        return self.ld_Bps() * self.speedup > self.peak_hbm_Bps

    def with_(self, **changes) -> "FPGADevice":
        return replace(self, **changes)


def device_from_arch(arch: Architecture, semantics: Semantics, ld_channels: int | None = None,
                     engine: str | None = None, hbm: str | None = None) -> FPGADevice:
    """Read a FlightLLM device from an architecture with a ``dsp_engine`` and a ``dram`` with
    channel efficiencies (by default the first of each in the file).

    ``ld_channels`` (artifact semantics) is how many channels one LD spreads over; in board
    semantics each core owns ``channels // cores`` of them.
    """
    if engine is None:
        engine = next((c.name for c in arch.components.values() if isinstance(c, DSPEngine)), "MPE")
    if hbm is None:
        hbm = next((c.name for c in arch.components.values() if isinstance(c, DRAM) and c.efficiency), "HBM")
    mpe = arch.component(engine)
    mem = arch.component(hbm)
    if not isinstance(mpe, DSPEngine) or not isinstance(mem, DRAM):
        raise TypeError(f"{arch.name}: {engine} must be a dsp_engine and {hbm} a dram")
    if mpe.mm_parallelism is None or mpe.mv_parallelism is None or mpe.sfu_lanes is None:
        raise ValueError(f"{arch.name}: {engine} needs mm_parallelism, mv_parallelism and sfu_lanes")
    if mem.efficiency is None:
        raise ValueError(f"{arch.name}: {hbm} needs same-/cross-channel efficiencies")
    if semantics == "artifact":
        if ld_channels is None:
            raise ValueError("artifact semantics needs ld_channels (channels one LD spreads over)")
        cores, speedup, per_core = 1, mpe.parallel_speedup, ld_channels
    else:
        cores, speedup, per_core = mpe.cores, 1.0, mem.channels // mpe.cores
    _, pk, pn = mpe.mv_parallelism
    lanes = int(max(mpe.macs_per_dsp_per_cycle.values(), default=1))
    chain = CSDChain(length=pk, group=min(mpe.dsp_group_size, pk), lanes=lanes,
                     oau_max_cascade=mpe.overflow_adjust_max_cascade)
    mm_macs = math.prod(mpe.mm_parallelism)
    dsps = max(chain.dsps(mm_macs, lanes), chain.dsps(pk * pn, 1)) * mpe.cores
    if mpe.dsp_count is not None and dsps > mpe.dsp_count:
        raise ValueError(f"{arch.name}: {mpe.cores} core(s) of MM {mpe.mm_parallelism} / MV {mpe.mv_parallelism} "
                         f"need {dsps} DSPs in CSD-chains of {pk}; {engine} has {mpe.dsp_count}")
    return FPGADevice(
        name=arch.name, clock_Hz=arch.clock_of(engine), cores=cores, semantics=semantics, speedup=speedup,
        mm_macs=mm_macs, mm_pm=mpe.mm_parallelism[0], mv_pk=pk, mv_pn_max=pn, sfu_lanes=mpe.sfu_lanes,
        sfu_passes=dict(mpe.sfu_passes), channel_Bps=mem.bandwidth_Bps / mem.channels, channels=mem.channels,
        ld_channels=per_core, same_eff=mem.efficiency.same_channel, cross_eff=mem.efficiency.cross_channel,
        hbm_capacity_B=mem.capacity_B or math.inf, power_W=arch.power_W, chain=chain,
    )
