"""Storage components: off-chip DRAM/HBM/LPDDR, on-chip SRAM and register files, flash."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from einsim.arch.spec import Area, Bandwidth, Bytes, Capacity, Component, Energy, Fraction, Power, Spec


class ModelChoice(Spec):
    """Which component model ``einsim arch estimate`` evaluates for this component, and with
    which extra attributes (hwcomponents parameter names; the size comes from the spec)."""

    model: str
    attributes: dict[str, int | float | str | bool] = Field(default_factory=dict)
    source: str | None = None


class ChannelEfficiency(Spec):
    """Fraction of a channel's peak bandwidth achieved by a transfer within / across channels."""

    same_channel: Fraction
    cross_channel: Fraction


class EngineMixBandwidth(Spec):
    """Achieved shared-DRAM bandwidth when exactly these compute components are active."""

    engines: list[str] = Field(min_length=1)
    bandwidth_Bps: Bandwidth
    source: str | None = None


class DRAM(Component):
    """Off-chip DRAM / HBM / LPDDR."""

    kind: Literal["dram"]
    technology: str = "DRAM"
    capacity_B: Capacity | None = None
    available_B: Bytes | None = None
    bandwidth_Bps: Bandwidth
    channels: int = Field(default=1, ge=1)
    efficiency: ChannelEfficiency | None = None
    access_bits: int | None = Field(default=None, gt=0)
    access_energy_J: Energy | None = None
    estimate: ModelChoice | None = None
    bandwidth_by_engines: list[EngineMixBandwidth] = Field(default_factory=list)
    on_chip: ClassVar[bool] = False

    @model_validator(mode="after")
    def _access(self) -> "DRAM":
        if self.access_energy_J is not None and self.access_bits is None:
            raise ValueError("access_energy_J needs access_bits (the width of one access)")
        return self

    @property
    def energy_per_byte_J(self) -> float | None:
        if self.access_energy_J is None or self.access_bits is None:
            return None
        return self.access_energy_J * 8 / self.access_bits

    def channel_bandwidth_Bps(self, channels_used: int = 1, cross_channel: bool = False) -> float:
        """Achieved bandwidth of a transfer spread over ``channels_used`` channels."""
        n = max(1, min(channels_used, self.channels))
        eff = 1.0
        if self.efficiency is not None:
            eff = self.efficiency.cross_channel if cross_channel else self.efficiency.same_channel
        return self.bandwidth_Bps / self.channels * n * eff


class Buffer(Component):
    """On-chip SRAM buffer or register file. Give ``capacity_B`` or ``entries`` (of width_bits).

    Area is either ``area_m2`` per instance, or ``area_per_bit_m2`` x bits, so that a capacity
    sweep is priced and the area goes to zero with the capacity (no intercept). ``per_pe`` makes one instance per PE of the parent
    PE array.
    """

    kind: Literal["sram", "regfile"]
    capacity_B: Capacity | None = None
    entries: int | None = Field(default=None, gt=0)
    width_bits: int = Field(gt=0)
    banks: int = Field(default=1, ge=1)
    instances: int = Field(default=1, ge=1)
    per_pe: bool = False
    read_energy_J: Energy | None = None
    write_energy_J: Energy | None = None
    area_per_bit_m2: Area | None = None
    leakage_W: Power | None = None
    estimate: ModelChoice | None = None
    partitions: dict[str, Bytes] = Field(default_factory=dict)
    may_keep: list[str] | None = None  # tensor names this level can hold (None: any), e.g. a weight register

    @model_validator(mode="after")
    def _size(self) -> "Buffer":
        if self.capacity_B is None and self.entries is None:
            raise ValueError("give capacity_B or entries")
        if self.capacity_B is not None and self.entries is not None:
            if not math.isclose(self.capacity_B, self.entries * self.width_bits / 8):
                raise ValueError(
                    f"capacity_B ({self.capacity_B:g}) != entries x width_bits / 8 "
                    f"({self.entries * self.width_bits / 8:g})"
                )
        if self.capacity <= 0:
            raise ValueError("capacity must be positive")
        if self.partitions and sum(self.partitions.values()) > self.capacity + 1e-9:
            raise ValueError(
                f"partitions add up to {sum(self.partitions.values()):g} B, "
                f"more than the capacity {self.capacity:g} B"
            )
        if self.area_m2 is not None and self.area_per_bit_m2 is not None:
            raise ValueError("give area_m2 or area_per_bit_m2, not both")
        return self

    @property
    def capacity(self) -> float:
        """Capacity in bytes (from capacity_B or entries x width_bits)."""
        if self.capacity_B is not None:
            return self.capacity_B
        return self.entries * self.width_bits / 8  # type: ignore[operator]

    @property
    def depth(self) -> float:
        """Number of rows of ``width_bits``."""
        return self.capacity * 8 / self.width_bits

    def instance_area_m2(self) -> float | None:
        if self.area_m2 is not None:
            return self.area_m2
        if self.area_per_bit_m2 is None:
            return None
        return self.area_per_bit_m2 * self.capacity * 8




class FlashPoint(Spec):
    """One measured read throughput; unset axes (range, core, threads) match any query."""

    pattern: Literal["sequential", "random"]
    block_B: Bytes = Field(gt=0)
    range_B: Bytes | None = None
    core: str | None = None
    threads: int | None = Field(default=None, ge=1)
    throughput_Bps: Bandwidth
    source: str | None = None


class Flash(Component):
    """Flash storage: read throughput table, command queues."""

    kind: Literal["flash"]
    technology: str = "flash"
    capacity_B: Capacity | None = None
    command_queues: int = Field(default=1, ge=1)
    multi_issuer_degradation: Annotated[float, Field(ge=0, lt=1)] | None = None
    read_throughput: list[FlashPoint] = Field(min_length=1)
    on_chip: ClassVar[bool] = False

    @field_validator("read_throughput")
    @classmethod
    def _unique(cls, v: list[FlashPoint]) -> list[FlashPoint]:
        seen = set()
        for p in v:
            key = (p.pattern, p.block_B, p.range_B, p.core, p.threads)
            if key in seen:
                raise ValueError(f"read_throughput has two rows for {key}")
            seen.add(key)
        return v
