"""Energy of one token from each engine's busy time and its active power, DRAM and flash bytes, and
the SoC's baseline (PowerInfer-2 v3 Table 8 is a measured average, not peak power x time).

No paper publishes per-engine power for the Snapdragon 8 Gen 3; every constant is an estimate
with its range (docs/phone.md lists the effect of both ends on Table 8's rows).
"""

from __future__ import annotations

from dataclasses import dataclass

# A compute thread on an A720 mid core at 3.0 GHz streaming INT4 GEMV rows. source: estimate, range 0.7-2.0 W:
# A7xx-class cores near 3 GHz on N4-class nodes draw 1-2 W at full integer load; a memory-bound GEMV
# stalls on DRAM part of the time.
MID_CORE_W = 1.2
# The big core's I/O thread (issuing and reaping 4 KiB reads). source: estimate, range 0.5-3 W; the
# ceiling is well below the 6.27 W platform power of the Cortex-X4 at full clock in SPECint2006
# (Golden Reviewer's Xiaomi 14 Pro measurement, as quoted by meterpreter.org), an I/O loop being
# mostly waits.
IO_CORE_W = 1.0
# The Hexagon NPU running INT4 GEMV graphs. source: estimate, range 1-3 W.
NPU_W = 2.0
# The UFS 4.0 device while it serves reads. source: estimate, range 0.8-2.0 W (vendor figures of
# ~6 MB/s per mA at ~4 GB/s give ~0.7 A on a 1.2-2.5 V rail [U]).
UFS_W = 1.2
# LPDDR5X access energy per byte moved (array + interface). source: estimate, 5 pJ/bit, range 3-8 pJ/bit.
DRAM_J_PER_B = 5e-12 * 8
# SoC uncore, DRAM refresh and rails while the app decodes (display off). source: estimate, range 0.2-0.8 W.
BASELINE_W = 0.4

ENGINE_W = {"compute": MID_CORE_W, "io": IO_CORE_W + UFS_W, "npu": NPU_W}


@dataclass(frozen=True)
class Energy:
    parts: dict[str, float]  # J per token by engine, "dram" and "baseline"

    @property
    def total_J(self) -> float:
        return float(sum(self.parts.values()))


def decode_energy(busy_s: dict[str, float], latency_s: float, dram_B: float, flash_B: float) -> Energy:
    """J of one token: Σ engine busy seconds x its power (the I/O thread's time includes the UFS's),
    DRAM bytes x energy per byte, the baseline over the token's latency. ``flash_B`` lands in DRAM
    once (a write of the same bytes)."""
    parts = {name: busy_s.get(name, 0.0) * w for name, w in ENGINE_W.items()}
    parts["dram"] = (dram_B + flash_B) * DRAM_J_PER_B
    parts["baseline"] = latency_s * BASELINE_W
    return Energy(parts)
