"""Compute components: PE arrays with op tables, FPGA DSP-chain engines, CPUs, NPUs, GPUs."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from einsim.arch.spec import (
    Area,
    Bytes,
    Component,
    Energy,
    Fraction,
    Frequency,
    OpsPerSecond,
    Power,
    ReferenceProblem,
    Spec,
)
from einsim.errors import did_you_mean


class OpSpec(Spec):
    """One operator of a compute unit's op table.

    Primitive: ``cycles`` per point (default 1: issue slots the PE is busy; a pipelined unit
    accepts a new point every ``cycles``), ``energy_J`` per action, optional ``area_m2`` of its datapath or
    ``shared_with`` naming the op whose hardware it reuses. Composite: ``compose: {mac: 6, add: 1}``
    -- cycles and energy are the sums of the parts.
    """

    cycles: float | None = Field(default=None, gt=0)
    pipelined: bool = True
    energy_J: Energy | None = None
    area_m2: Area | None = None
    shared_with: str | None = None
    compose: dict[str, int] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _composite_is_pure(self) -> "OpSpec":
        if self.compose is not None:
            clash = {"cycles", "energy_J", "area_m2", "shared_with"} & self.model_fields_set
            if clash:
                raise ValueError(
                    f"a composite op (compose) takes its cost from its parts; drop {sorted(clash)}"
                )
            if not self.compose or any(n <= 0 for n in self.compose.values()):
                raise ValueError("compose needs at least one op with a positive count")
        return self


class ComputeUnit(Component):
    """Common to compute components: clock and an optional op table."""

    clock_Hz: Frequency | None = None
    ops: dict[str, OpSpec] = Field(default_factory=dict)
    power_W: Power | None = None

    @model_validator(mode="after")
    def _ops_resolve(self) -> "ComputeUnit":
        for name, op in self.ops.items():
            refs = list(op.compose or {}) + ([op.shared_with] if op.shared_with else [])
            for ref in refs:
                if ref not in self.ops:
                    where = ("compose", ref) if ref in (op.compose or {}) else ("shared_with",)
                    raise ReferenceProblem(
                        f"op {name!r} refers to unknown op {ref!r}" + did_you_mean(ref, self.ops),
                        ("ops", name) + where,
                    )
        for name in self.ops:
            self._check_acyclic(name, ())
        return self

    def _check_acyclic(self, name: str, stack: tuple[str, ...]) -> None:
        if name in stack:
            raise ValueError(f"op {name!r} is defined in terms of itself: {' -> '.join(stack + (name,))}")
        for part in self.ops[name].compose or {}:
            self._check_acyclic(part, stack + (name,))


class PEArray(ComputeUnit):
    """A PE array of any rank (``shape: [256, 256]`` or ``[256]``) with a per-PE op table."""

    kind: Literal["pe_array"]
    shape: list[int] = Field(min_length=1)
    word_bits: int = Field(default=16, gt=0)
    pe_area_m2: Area | None = None

    @field_validator("shape")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(d < 1 for d in v):
            raise ValueError(f"every dimension of shape must be >= 1, got {v}")
        return v

    @property
    def pe_count(self) -> int:
        return math.prod(self.shape)


class SystolicArray(PEArray):
    """A ``rows`` x ``cols`` systolic array with one dataflow: output- (``os``), weight- (``ws``) or
    input-stationary (``is``). GEMM-like Einsums bound to it take the SCALE-Sim cycle counts of
    ``einsim.sim.systolic``; as a PE array it has ``shape = [rows, cols]`` and a per-PE op table.
    """

    kind: Literal["systolic"]  # type: ignore[assignment]
    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    dataflow: Literal["os", "ws", "is"]
    shape: list[int] = Field(default_factory=list, exclude=True)  # derived from rows x cols

    @model_validator(mode="after")
    def _shape_from_rows_cols(self) -> "SystolicArray":
        if "shape" in self.model_fields_set:
            raise ValueError("a systolic array takes rows and cols, not shape")
        self.shape = [self.rows, self.cols]
        return self


_NM = re.compile(r"^(\d+):(\d+)$")


class DSPEngine(ComputeUnit):
    """FPGA engine built from DSP chains (FlightLLM's MPE of CSD-chains), per core.

    ``cores`` cores run in parallel (one per SLR in FlightLLM); ``core_scaling_efficiency`` is
    the fraction of linear speed-up they achieve together.
    """

    kind: Literal["dsp_engine"]
    dsp_count: int | None = Field(default=None, gt=0)
    dsp_group_size: int = Field(default=2, gt=0)
    macs_per_dsp_per_cycle: dict[str, float] = Field(default_factory=dict)
    chain_length: int | None = Field(default=None, gt=0)
    overflow_adjust_max_cascade: int = Field(default=8, gt=0)
    sparsity_patterns: list[str] = Field(default_factory=list)
    mm_parallelism: list[int] | None = None
    mv_parallelism: list[int] | None = None
    sfu_lanes: int | None = Field(default=None, gt=0)
    sfu_passes: dict[str, int] = Field(default_factory=dict)
    slr_count: int = Field(default=1, ge=1)
    cores: int = Field(default=1, ge=1)
    core_scaling_efficiency: Fraction = 1.0

    @field_validator("sparsity_patterns")
    @classmethod
    def _nm(cls, v: list[str]) -> list[str]:
        for p in v:
            m = _NM.match(p)
            if not m:
                raise ValueError(f"sparsity pattern {p!r} is not N:M (e.g. '2:16')")
            n, mm = int(m.group(1)), int(m.group(2))
            if mm < 1 or mm & (mm - 1):
                raise ValueError(f"in {p!r}, M={mm} must be a power of two")
            if n and mm % n:
                raise ValueError(f"in {p!r}, N={n} must divide M={mm}")
        return v

    @field_validator("mm_parallelism", "mv_parallelism")
    @classmethod
    def _three(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (len(v) != 3 or any(p < 1 for p in v)):
            raise ValueError(f"parallelism is [p_M, p_K, p_N], three positive integers; got {v}")
        return v

    def overflow_adjust_needed(self, cascaded_dsps: int) -> bool:
        """FlightLLM's OAU is skipped when at most ``overflow_adjust_max_cascade`` DSPs cascade."""
        return cascaded_dsps > self.overflow_adjust_max_cascade

    @property
    def parallel_speedup(self) -> float:
        """Speed-up of all cores together over one core."""
        return self.cores * self.core_scaling_efficiency

    @property
    def pe_count(self) -> int:
        """MAC lanes of the engine (its "PEs" for an op table): each DSP packs
        ``macs_per_dsp_per_cycle`` MACs; without a DSP count, the MM mode of every core."""
        lanes = int(max(self.macs_per_dsp_per_cycle.values(), default=1))
        if self.dsp_count is not None:
            return self.dsp_count * lanes
        return self.cores * (self.mode_macs_per_cycle("mm") or 1)

    def mode_macs_per_cycle(self, mode: Literal["mm", "mv"]) -> int | None:
        """MACs per cycle of one core in MM or MV mode (p_M x p_K x p_N)."""
        p = self.mm_parallelism if mode == "mm" else self.mv_parallelism
        return None if p is None else math.prod(p)


class CpuCluster(Spec):
    """Cores of one class: count, clock and SIMD MACs per cycle per core by precision."""

    cores: int = Field(ge=1)
    clock_Hz: Frequency
    macs_per_cycle: dict[str, float] = Field(default_factory=dict)
    source: str | None = None


class CPU(ComputeUnit):
    """A CPU as clusters of cores (big / mid / little)."""

    kind: Literal["cpu"]
    clusters: dict[str, CpuCluster] = Field(min_length=1)


class BatchPoint(Spec):
    batch: float = Field(gt=0)
    ops_per_s: OpsPerSecond
    source: str | None = None


class NPU(ComputeUnit):
    """An NPU: dense throughput as a function of batch, static graphs only."""

    kind: Literal["npu"]
    precision: str = "int4"
    throughput_by_batch: list[BatchPoint] = Field(min_length=1)
    static_graph: bool = True
    graph_B: Bytes | None = None

    @field_validator("throughput_by_batch")
    @classmethod
    def _sorted(cls, v: list[BatchPoint]) -> list[BatchPoint]:
        batches = [p.batch for p in v]
        if len(set(batches)) != len(batches):
            raise ValueError("throughput_by_batch repeats a batch size")
        return sorted(v, key=lambda p: p.batch)


class GPU(ComputeUnit):
    """A GPU as a roofline device: peak op/s per precision (memory is a separate dram)."""

    kind: Literal["gpu"]
    peak_ops_per_s: dict[str, OpsPerSecond] = Field(min_length=1)
