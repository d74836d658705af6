"""A flash read benchmark on the phone's event simulation: what a microbenchmark (fio-like) would measure.

``read_benchmark`` issues ``requests`` reads of one size and pattern from ``issuers`` threads on one core
class, split evenly, all at once, as a task graph on `einsim.sim.phone_events` (each issuer a server of
an ``io`` engine class, each request ``block / throughput(block, pattern, range, core)`` device-seconds
of the UFS pool from the device's table), and returns bytes / makespan. With more issuers than the
device's command queues the pool delivers ``1 - multi_issuer_degradation`` of a device-second per
second while they overlap, so the multi-issuer loss is a property of the schedule, as in the decode
and prefill graphs.
"""

from __future__ import annotations

from typing import Literal

from einsim.errors import EinsimError
from einsim.mappers.phone.hardware import Device, Stream
from einsim.sim.phone_events import UFS, Platform, TaskGraph, simulate


def read_benchmark(device: Device, pattern: Literal["sequential", "random"], block_B: float, requests: int = 4096,
                   range_B: float | None = None, core: str | None = None, issuers: int = 1) -> float:
    """Achieved read throughput (B/s) of ``requests`` reads of ``block_B`` from ``issuers`` threads."""
    if requests < 1 or issuers < 1 or block_B <= 0:
        raise EinsimError(f"a read benchmark needs >= 1 request and issuer and a block > 0 B "
                          f"(got {requests}, {issuers}, {block_B})")
    flash = device.flash
    per_request_s = device.stream_time(Stream(1, block_B, pattern, range_B=range_B, core=core))
    plat = Platform((("io", issuers, "CPU"),), {frozenset(["CPU"]): device.bandwidth(["CPU"])},
                    flash.command_queues, flash.multi_issuer_degradation or 0.0)
    g = TaskGraph()
    share, extra = divmod(requests, issuers)
    for i in range(issuers):
        n = share + (i < extra)
        if n:
            g.add(plat.index("io"), "io", pool=UFS, volume=n * per_request_s)
    (s,) = simulate([g], plat)
    return requests * block_B / s.makespan


def iops(device: Device, block_B: float = 4096, range_B: float | None = None, core: str | None = None,
         issuers: int = 1) -> float:
    """Random reads per second of ``block_B`` from ``issuers`` threads (`read_benchmark` / block)."""
    return read_benchmark(device, "random", block_B, range_B=range_B, core=core, issuers=issuers) / block_B
