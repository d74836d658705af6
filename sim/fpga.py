"""Run an FPGA instruction Program through the queue simulator.

``simulate(program, peak_hbm_Bps, hbm_bytes)`` gives the latency (the last instruction's end),
the busy time of each queue, HBM bytes and two HBM utilizations: over the whole run, and while the
LD queue is transferring (what a per-kernel measurement sees). ``hbm_bytes`` is what the whole
device moves (a lowering that simulates the busiest of several cores knows it); by default it is
the program's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from einsim.sim.fpga_program import MISC, MM, QUEUES, Program
from einsim.sim.kernels.fpga_queues import run_queues, run_queues_batch


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


def simulate(program: Program, peak_hbm_Bps: float, hbm_bytes: float | None = None) -> QueueRun:
    queue, seconds, wait, release = program.arrays()
    start, end, ok = run_queues(queue, seconds, wait, release)
    if not ok:
        raise RuntimeError("the instruction stream deadlocked: a token is never released")
    return summarise(program, queue, seconds, end, peak_hbm_Bps, hbm_bytes)


def latencies(program: Program, seconds: np.ndarray) -> np.ndarray:
    """The program's latency at each row of ``seconds[b, i]`` (same instructions, other times), in one kernel call."""
    queue, _, wait, release = program.arrays()
    latency, ok = run_queues_batch(queue, np.ascontiguousarray(seconds, dtype=np.float64), wait, release)
    if not ok.all():
        raise RuntimeError("the instruction stream deadlocked: a token is never released")
    return latency


def summarise(program: Program, queue: np.ndarray, seconds: np.ndarray, end: np.ndarray, peak_hbm_Bps: float,
              hbm_bytes: float | None = None) -> QueueRun:
    """The QueueRun of a program whose instruction end times are known."""
    busy = {name: float(seconds[queue == q].sum()) for q, name in enumerate(QUEUES)}
    compute = (queue >= MM) & (queue <= MISC)  # MM, MV, MISC are consecutive queue numbers
    names, codes = program.operators()
    codes = codes[compute]
    sums = np.bincount(codes, weights=seconds[compute], minlength=len(names))
    present = np.bincount(codes, minlength=len(names)) > 0
    tags = {n: float(v) for n, v, p in zip(names, sums, present) if p}
    moved = float(sum(program.hbm_bytes)) if hbm_bytes is None else hbm_bytes
    return QueueRun(float(end.max()) if len(end) else 0.0, busy, tags, moved, peak_hbm_Bps,
                    busy["LD"] + busy["ST"], len(queue))
