"""Per-component area (on-chip only) and totals.

A PE array's area is its ``area_m2`` if given, else PE count x (sum of the areas of its distinct
op datapaths + ``pe_area_m2``); ops with ``shared_with`` or ``compose`` add nothing. A buffer's is instances x its per-instance
area; per-PE buffers multiply by the parent's PE count. Off-chip memories (DRAM, flash) are not
part of the chip. A component without an area model is reported as None, not as zero.
"""

from __future__ import annotations

from einsim.arch.architecture import Architecture
from einsim.arch.compute import PEArray
from einsim.arch.spec import Component
from einsim.arch.storage import Buffer


def pe_area_m2(unit: PEArray) -> float | None:
    """Area of one PE from its op datapaths; None when no op gives an area."""
    parts = [op.area_m2 for op in unit.ops.values() if op.area_m2 is not None]
    if unit.pe_area_m2 is not None:
        parts.append(unit.pe_area_m2)
    return sum(parts) if parts else None


def component_area_m2(arch: Architecture, name: str) -> float | None:
    """Total area of all instances of a component, or None if it has no area model."""
    comp: Component = arch.component(name)
    if not comp.on_chip:
        return None
    if isinstance(comp, PEArray):
        if comp.area_m2 is not None:
            return comp.area_m2
        per_pe = pe_area_m2(comp)
        return None if per_pe is None else per_pe * comp.pe_count
    if isinstance(comp, Buffer):
        each = comp.instance_area_m2()
        return None if each is None else each * arch.instances(name)
    return comp.area_m2


def area_breakdown(arch: Architecture) -> dict[str, float | None]:
    """{component: m^2 or None} for the on-chip components, in file order."""
    return {n: component_area_m2(arch, n) for n, c in arch.components.items() if c.on_chip}


def total_area_m2(arch: Architecture) -> float:
    """Sum of the known on-chip areas."""
    return sum(a for a in area_breakdown(arch).values() if a is not None)
