"""A phone or laptop as the policies see it: shared DRAM pool, CPU clusters, NPU, flash streams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from einsim.arch import CPU, DRAM, GPU, NPU, Architecture, Flash, load_arch, npu_throughput, read_throughput_Bps
from einsim.arch.load import bundled_dir
from einsim.errors import EinsimError


@dataclass(frozen=True)
class Stream:
    """One stream of flash read requests of one size and pattern, issued from one core class."""

    requests: float
    block_B: float
    pattern: Literal["sequential", "random"] = "random"
    range_B: float | None = None
    core: str | None = None
    threads: int | None = None
    issuers: int = 1  # cores issuing at once into the device's command queue(s)

    @property
    def bytes(self) -> float:
        return self.requests * self.block_B


@dataclass(frozen=True)
class Device:
    arch: Architecture
    dram: DRAM
    flash: Flash
    cpu: CPU
    npu: NPU | None
    gpu: GPU | None

    @property
    def name(self) -> str:
        return self.arch.name

    @property
    def available_B(self) -> float:
        return self.dram.available_B or self.dram.capacity_B or float("inf")

    @property
    def power_W(self) -> float | None:
        return self.arch.power_W

    def bandwidth(self, engines: Iterable[str]) -> float:
        """Achieved shared-DRAM bandwidth while exactly ``engines`` run (the measured engine mix,
        else the DRAM's nominal bandwidth)."""
        want = set(engines)
        for mix in self.dram.bandwidth_by_engines:
            if set(mix.engines) == want:
                return mix.bandwidth_Bps
        return self.dram.bandwidth_Bps

    def cpu_macs_per_s(self, cores: dict[str, int], precision: str) -> float:
        """Peak SIMD MAC/s of ``cores`` (cluster name -> cores used) at ``precision``."""
        total = 0.0
        for name, n in cores.items():
            cl = self.cpu.clusters.get(name)
            if cl is None:
                raise EinsimError(f"{self.name} CPU has no cluster {name!r} (have: {', '.join(self.cpu.clusters)})")
            if n > cl.cores:
                raise EinsimError(f"{self.name} CPU cluster {name!r} has {cl.cores} cores, {n} asked")
            if precision not in cl.macs_per_cycle:
                raise EinsimError(f"{self.name} CPU cluster {name!r} has no {precision} rate")
            total += n * cl.clock_Hz * cl.macs_per_cycle[precision]
        return total

    def npu_ops_per_s(self, batch: float) -> float:
        if self.npu is None:
            raise EinsimError(f"{self.name} has no NPU")
        return npu_throughput(self.npu, batch)

    def stream_time(self, s: Stream) -> float:
        """Seconds to serve a request stream: the measured throughput at its block size, pattern,
        address range, issuing core and thread count; several issuers into a single command queue
        lose the device's multi-issuer degradation."""
        if s.requests <= 0:
            return 0.0
        core = s.core if any(p.core is not None for p in self.flash.read_throughput) else None
        thr = read_throughput_Bps(self.flash, s.pattern, s.block_B, s.range_B, core, s.threads)
        if s.issuers > self.flash.command_queues and self.flash.multi_issuer_degradation:
            thr *= 1.0 - self.flash.multi_issuer_degradation
        return s.bytes / thr


def load_device(name_or_path: str) -> Device:
    """A bundled device by name (``oneplus12``) or an architecture YAML path."""
    path = bundled_dir() / f"{name_or_path}.yaml"
    arch = load_arch(str(path) if path.exists() else name_or_path)
    return Device(arch, _one(arch, DRAM), _one(arch, Flash), _one(arch, CPU), _one(arch, NPU, True),
                  _one(arch, GPU, True))


def _one(arch: Architecture, cls: type, optional: bool = False):
    found = [c for c in arch.components.values() if isinstance(c, cls)]
    if len(found) > 1 or (not found and not optional):
        raise EinsimError(f"{arch.name}: a phone device needs exactly one {cls.__name__} component, found {len(found)}")
    return found[0] if found else None
