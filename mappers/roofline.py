"""The "ideal" mapper: a roofline lower bound on a cascade's latency and energy.

Every Einsum runs on the compute unit that finishes it soonest (among those with its ops), at full
PE utilization: its compute time is points × cycles per point / (PEs × clock). Einsums on one unit
run one after another; different units overlap. Memory moves each cascade input and output once
between DRAM and the chip (intermediates stay on chip), at the DRAM's peak bandwidth. Latency is
max(compute, memory). Energy is the ops' energy plus the DRAM accesses; on-chip buffer traffic and
leakage are not counted. No real mapping can beat it, so it is a bound, not a prediction.
"""

from __future__ import annotations

import math
from typing import Any

from einsim.arch import Architecture, DRAM, DSPEngine, PEArray
from einsim.einsum import Cascade, Einsum, ops_per_point, points
from einsim.errors import EinsimError
from einsim.mappers.hierarchy import op_cost_per_point, storage_path
from einsim.mappers.registry import register
from einsim.sim.result import Result


def _pes(arch: Architecture, unit: str) -> int:
    comp = arch.compute_unit(unit)
    return comp.pe_count if isinstance(comp, (PEArray, DSPEngine)) else 1


def fastest_unit(arch: Architecture, einsum: Einsum) -> tuple[str, float, float]:
    """(unit, seconds, joules) of ``einsum`` on the unit that finishes it soonest."""
    best: tuple[str, float, float] | None = None
    n = points(einsum)
    for unit in arch.compute_units():
        try:
            cycles, energy = op_cost_per_point(arch, unit.name, einsum)
        except EinsimError:
            continue  # the unit lacks one of the Einsum's ops
        seconds = n * cycles / (_pes(arch, unit.name) * arch.clock_of(unit.name))
        if best is None or seconds < best[1]:
            best = (unit.name, seconds, n * energy)
    if best is None:
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
        busy_per_unit[unit] = busy_per_unit.get(unit, 0.0) + seconds * _pes(arch, unit)
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
