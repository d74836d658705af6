"""Per-token cost of a policy: latency split into compute, flash I/O and memory management."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from einsim.sim.result import Result


@dataclass(frozen=True)
class TokenCost:
    """Mean per-token decode cost. ``latency_s`` is what the policy's overlap makes of the three
    parts (their sum when nothing overlaps); ``io_s`` counts flash time on the critical path."""

    policy: str
    model: str
    device: str
    latency_s: float
    compute_s: float
    io_s: float
    mem_s: float
    flash_B: float  # bytes read from flash per token
    dram_B: float  # bytes read from DRAM by compute per token
    energy_J: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        return 1.0 / self.latency_s

    def to_result(self) -> Result:
        """The same numbers as an einsim Result (bytes per level: DRAM, flash)."""
        from einsim.sim.result import Result  # the cost model's Result: loaded by the clients that convert

        return Result(f"{self.policy}:{self.model}@{self.device}", self.latency_s, self.energy_J or 0.0, 0.0,
                      {"DRAM": self.dram_B, "flash": self.flash_B})

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "model": self.model, "device": self.device,
                "tokens_per_s": self.tokens_per_s, "latency_s": self.latency_s, "compute_s": self.compute_s,
                "io_s": self.io_s, "mem_s": self.mem_s, "flash_B": self.flash_B, "dram_B": self.dram_B,
                "energy_J": self.energy_J, **self.extra}


def device_energy(power_W: float | None, latency_s: float) -> float | None:
    """Energy of one token from the device's power while decoding (None without a power figure)."""
    return None if power_W is None else power_W * latency_s
