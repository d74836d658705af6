"""Energy of one LLMCad-style token on a phone CPU: the CPU's busy seconds (the two models' passes), the flash's
busy seconds (the large model's loading), DRAM bytes and the SoC baseline over the token's latency.

LLMCad publishes Table 5's joules but no power figure; every constant here is an estimate with its range
(docs/phone.md, LLMCad, lists the effect of both ends).
"""

from __future__ import annotations

from dataclasses import dataclass

from einsim.mappers.phone.cost import TokenCost


@dataclass(frozen=True)
class CpuPhonePower:
    """Active power of the engines LLMCad's phone runs use (llama.cpp on every CPU core, UFS reads)."""

    cpu_W: float  # every core running a llama.cpp thread
    flash_W: float  # the UFS device while it serves reads
    dram_J_per_B: float
    baseline_W: float  # uncore, rails, DRAM refresh while the app decodes (display off)


# Snapdragon 8 Gen 1 (Xiaomi 11). source: estimates. cpu_W 4 W, range 2.5-7 W: an 8-core Arm SoC of this class
# draws ~7-11 W at peak multi-core load and throttles toward ~4-5 W sustained; a memory-bound GEMV stalls part
# of the time. flash_W 1.0 W, range 0.6-1.5 W (UFS 3.1 read power, vendor figures of a few hundred mA on
# 1.2-2.5 V rails [U]). DRAM 5 pJ/bit, range 3-8 pJ/bit (LPDDR5, as designs' LPDDR5X estimate in power.py).
# baseline 0.5 W, range 0.3-0.8 W.
XIAOMI11_POWER = CpuPhonePower(cpu_W=4.0, flash_W=1.0, dram_J_per_B=5e-12 * 8, baseline_W=0.5)
RANGES = {"cpu_W": (2.5, 7.0), "flash_W": (0.6, 1.5), "dram_J_per_B": (3e-12 * 8, 8e-12 * 8), "baseline_W": (0.3, 0.8)}


def token_energy(cost: TokenCost, power: CpuPhonePower = XIAOMI11_POWER) -> float:
    """J per token: the CPU's and the flash's busy seconds (from the cost's ``cpu_busy_s`` / ``flash_busy_s``,
    else its compute and I/O split) at their power, DRAM bytes (read, and the flash bytes written once) and the
    baseline over the latency."""
    cpu_s = cost.extra.get("cpu_busy_s", cost.compute_s)
    flash_s = cost.extra.get("flash_busy_s", cost.io_s)
    return (cpu_s * power.cpu_W + flash_s * power.flash_W + (cost.dram_B + cost.flash_B) * power.dram_J_per_B
            + cost.latency_s * power.baseline_W)
