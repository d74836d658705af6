"""The "ideal" mapper: a roofline lower bound on a cascade's latency and energy.

Every Einsum runs on the compute unit that finishes it soonest (among those with its ops and room
for its data), with every PE it can use busy: its compute time is ceil(points / PEs used) × cycles
per point / clock, where a unit uses at most one PE per point (a 1×1×1 GEMM takes one op's cycles,
whatever the array size); on a systolic array (``kind: systolic``) a GEMM-like Einsum takes the
SCALE-Sim cycles of its dataflow instead (``einsim.sim.systolic``, fill, drain and folds included) and
other Einsums do not run there. Einsums on one unit run one after another; different units overlap.
The bound stages each tensor in the buffer that feeds the unit's PEs, so that buffer must hold at
least one element of every tensor the Einsum touches; a unit whose buffer cannot is not used, and
an Einsum no unit can hold is refused. Beyond that the bound does not depend on capacities. Memory moves each cascade input and output once
between DRAM and the chip (intermediates stay on chip), at the DRAM's peak bandwidth. Latency is
max(compute, memory). Energy is the ops' energy plus the DRAM accesses; on-chip buffer traffic and
leakage are not counted. No real mapping can beat it, so it is a bound, not a prediction.
"""

from __future__ import annotations

import math
from typing import Any

from einsim.arch import Architecture, Buffer, DRAM, DSPEngine, PEArray, SystolicArray
from einsim.einsum import Cascade, Einsum, ops_per_point, points
from einsim.errors import EinsimError
from einsim.mappers.hierarchy import op_cost_per_point, storage_path
from einsim.mappers.registry import register
from einsim.sim.result import Result
from einsim.sim.systolic import einsum_cycles


def _pes(arch: Architecture, unit: str) -> int:
    comp = arch.compute_unit(unit)
    return comp.pe_count if isinstance(comp, (PEArray, DSPEngine)) else 1


def pes_used(arch: Architecture, unit: str, einsum: Einsum) -> int:
    """PEs of ``unit`` that ``einsum`` can keep busy: one point per PE at most."""
    return max(1, min(_pes(arch, unit), points(einsum)))


def _staging_shortfall(arch: Architecture, unit: str, einsum: Einsum) -> str | None:
    """Why the buffer feeding ``unit``'s PEs cannot hold one element of each tensor, or None."""
    shared, _ = storage_path(arch, unit)
    feeder = arch.component(shared[-1])
    if not isinstance(feeder, Buffer):
        return None  # the PEs are fed straight from DRAM: nothing on chip to fill
    comp = arch.compute_unit(unit)
    word_B = (comp.word_bits if isinstance(comp, PEArray) else 16) / 8
    tensors = sorted({op.tensor for op in einsum.operands} | {einsum.output})
    need = len(tensors) * word_B
    if feeder.capacity >= need:
        return None
    return (f"{feeder.name} holds {feeder.capacity:g} B but one element of each of its {len(tensors)} tensors "
            f"({', '.join(tensors)}) on {unit} needs {need:g} B")


def unit_seconds(arch: Architecture, unit: str, einsum: Einsum, cycles_per_point: float) -> float | None:
    """Compute time of ``einsum`` on ``unit``; None where the unit cannot run it (a systolic array
    runs GEMM-like Einsums only, in SCALE-Sim's cycles, which assume one-cycle MACs: a slower MAC
    stretches them by its cycles)."""
    comp = arch.compute_unit(unit)
    if isinstance(comp, SystolicArray):
        cycles = einsum_cycles(einsum, comp.rows, comp.cols, comp.dataflow)
        return None if cycles is None else cycles * cycles_per_point / arch.clock_of(unit)
    steps = -(-points(einsum) // pes_used(arch, unit, einsum))  # points per busiest PE
    return steps * cycles_per_point / arch.clock_of(unit)


def fastest_unit(arch: Architecture, einsum: Einsum) -> tuple[str, float, float]:
    """(unit, seconds, joules) of ``einsum`` on the unit that finishes it soonest."""
    best: tuple[str, float, float] | None = None
    shortfalls: list[str] = []
    n = points(einsum)
    for unit in arch.compute_units():
        try:
            cycles, energy = op_cost_per_point(arch, unit.name, einsum)
        except EinsimError:
            continue  # the unit lacks one of the Einsum's ops
        shortfall = _staging_shortfall(arch, unit.name, einsum)
        if shortfall is not None:
            shortfalls.append(shortfall)
            continue
        seconds = unit_seconds(arch, unit.name, einsum, cycles)
        if seconds is None:
            continue
        if best is None or seconds < best[1]:
            best = (unit.name, seconds, n * energy)
    if best is None:
        if shortfalls:
            raise EinsimError(f"{einsum.name}: no compute unit of {arch.name} has room for it: " + "; ".join(shortfalls),
                              einsum.location)
        ops = ", ".join(sorted(ops_per_point(einsum)))
        raise EinsimError(f"{einsum.name}: no compute unit of {arch.name} has all of its ops ({ops})", einsum.location)
    return best


def _dram(arch: Architecture, unit: str) -> DRAM:
    shared, _ = storage_path(arch, unit)
    outer = arch.component(shared[0])
    if not isinstance(outer, DRAM):
        raise EinsimError(f"the ideal mapper needs a DRAM above {unit}; {shared[0]} is not one")
    return outer


@register("ideal")
def ideal(arch: Architecture, cascade: Cascade, **options: Any) -> Result:
    """Roofline lower bound of ``cascade`` on ``arch`` (see the module docstring); takes no options."""
    if options:
        raise EinsimError(f"the ideal mapper takes no options (got {', '.join(sorted(options))})")
    busy_per_unit: dict[str, float] = {}
    seconds_per_unit: dict[str, float] = {}
    compute_rows: dict[str, dict[str, Any]] = {}
    for einsum in cascade.einsums:
        unit, seconds, joules = fastest_unit(arch, einsum)
        seconds_per_unit[unit] = seconds_per_unit.get(unit, 0.0) + seconds
        # PE-seconds of work: all PEs for the whole time on a PE array, less on a systolic array's fill and drain
        work = points(einsum) * op_cost_per_point(arch, unit, einsum)[0] / arch.clock_of(unit)
        busy_per_unit[unit] = busy_per_unit.get(unit, 0.0) + work
        row = compute_rows.setdefault(unit, {"component": unit, "action": "compute", "count": 0.0, "energy_J": 0.0})
        row["count"] += float(points(einsum))
        row["energy_J"] += joules
    first_unit = next(iter(seconds_per_unit))
    dram = _dram(arch, first_unit)
    read_B = float(sum(cascade.footprint_bytes(t) for t in cascade.inputs))
    write_B = float(sum(cascade.footprint_bytes(t) for t in cascade.outputs))
    memory_s = (read_B + write_B) / dram.bandwidth_Bps
    latency = max(max(seconds_per_unit.values()), memory_s)
    breakdown = list(compute_rows.values())
    per_byte = dram.energy_per_byte_J or 0.0
    access_B = (dram.access_bits or 8) / 8
    for action, nbytes in (("read", read_B), ("write", write_B)):
        if nbytes:
            breakdown.append({"component": dram.name, "action": action, "count": math.ceil(nbytes / access_B),
                              "energy_J": nbytes * per_byte})
    energy = sum(r["energy_J"] for r in breakdown)
    clock = arch.clock_of(first_unit)
    capacity = {u: _pes(arch, u) * latency for u in busy_per_unit}
    return Result(cascade.name, latency, energy, latency * clock, {dram.name: read_B + write_B},
                  busy_per_unit, capacity, breakdown)
