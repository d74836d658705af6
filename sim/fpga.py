"""Run a lowered FlightLLM instruction stream through the queue simulator.

``simulate(lowered, device)`` gives the latency (the last instruction's end), the busy time of each
queue, HBM bytes and two HBM utilizations: over the whole run, and while the LD queue is
transferring (what a per-kernel measurement sees).
"""

from __future__ import annotations

from dataclasses import dataclass

from einsim.mappers.fpga.device import FPGADevice
from einsim.mappers.fpga.isa import QUEUES
from einsim.mappers.fpga.lower import Lowered
from einsim.sim.kernels.fpga_queues import run_queues


@dataclass(frozen=True)
class QueueRun:
    latency_s: float
    busy_s: dict[str, float]  # per queue
    by_tag_s: dict[str, float]  # busy time of compute/SFU queues per operator
    hbm_bytes: float  # whole device
    peak_hbm_Bps: float
    ld_busy_s: float
    instructions: int

    @property
    def hbm_utilization(self) -> float:
        """Device HBM bytes over (latency × peak): the whole-run figure."""
        return self.hbm_bytes / (self.latency_s * self.peak_hbm_Bps)

    @property
    def hbm_utilization_while_loading(self) -> float:
        """HBM bytes over (LD busy time × peak): the bandwidth achieved while transfers are in flight.

        Above 1 under the artifact's timing, whose speed-up divides load times too: then it is the
        implied bandwidth over the peak (``FPGADevice.hbm_speedup_exceeds_peak``).
        """
        return self.hbm_bytes / (self.ld_busy_s * self.peak_hbm_Bps) if self.ld_busy_s else 0.0


def simulate(lowered: Lowered, device: FPGADevice) -> QueueRun:
    queue, seconds, wait, release = lowered.program.arrays()
    start, end, ok = run_queues(queue, seconds, wait, release)
    if not ok:
        raise RuntimeError("the instruction stream deadlocked: a token is never released")
    busy = {name: float(seconds[queue == q].sum()) for q, name in enumerate(QUEUES)}
    tags: dict[str, float] = {}
    for tag, q, s in zip(lowered.program.tag, queue, seconds):
        if QUEUES[q] in ("MM", "MV", "MISC"):
            key = tag.split(".")[0]
            tags[key] = tags.get(key, 0.0) + float(s)
    ld_busy = busy["LD"] + busy["ST"]
    return QueueRun(float(end.max()) if len(end) else 0.0, busy, tags, lowered.device_hbm_bytes,
                    device.peak_hbm_Bps, ld_busy, len(queue))
