"""The storage path from DRAM down to a compute unit of an Architecture, as the cost model sees it.

The path is the unit's ancestors (outermost first) followed by its per-PE buffers; the level just
above the per-PE buffers (or above the unit) fans out to every PE, along the array's axes
(``shape: [256, 256]`` gives two axes of 256). Sizes are in words of the
unit's datatype; energies are per access of a level's width.
"""

from __future__ import annotations

from einsim.arch import Architecture, Buffer, DRAM, PEArray
from einsim.errors import EinsimError
from einsim.memo import by_identity
from einsim.einsum.analysis import ops_per_point
from einsim.einsum.cascade import Einsum
from einsim.sim.nest import Hierarchy, Level


@by_identity()
def storage_path(arch: Architecture, unit_name: str) -> tuple[list[str], list[str]]:
    """(shared levels outermost first, per-PE levels) on the way to ``unit_name``."""
    unit = arch.compute_unit(unit_name)
    shared: list[str] = []
    parent = unit.inside
    while parent is not None:
        comp = arch.component(parent)
        if isinstance(comp, (Buffer, DRAM)):
            shared.append(parent)
        parent = comp.inside
    per_pe = [c.name for c in arch.children(unit_name) if isinstance(c, Buffer)]
    if not shared:
        raise EinsimError(f"compute unit {unit_name} has no storage level above it (set 'inside:')")
    return shared[::-1], per_pe


def op_cost_per_point(arch: Architecture, unit_name: str, einsum: Einsum) -> tuple[float, float]:
    """(cycles, energy J) of one iteration-space point of ``einsum`` on one PE of ``unit_name``.

    The op table's cycles are used as given: 0.5 means a PE takes two such ops per cycle (e.g.
    two 8-bit MACs packed in a 16-bit lane). A point with no op (a copy) takes one cycle: it
    still occupies an issue slot to move its value."""
    ops = ops_per_point(einsum)
    arch.require_ops(unit_name, ops)
    cycles = energy = 0.0
    for op, count in ops.items():
        cost = arch.op_cost(unit_name, op)
        cycles += count * cost.cycles
        energy += count * (cost.energy_J or 0.0)
    return (cycles if ops else 1.0), energy


@by_identity()
def hierarchy_for(arch: Architecture, unit_name: str, einsum: Einsum | None = None) -> Hierarchy:
    """The Hierarchy of ``unit_name``; with an Einsum, its per-point op cycles and energy."""
    unit = arch.compute_unit(unit_name)
    word_bits = unit.word_bits if isinstance(unit, PEArray) else 16
    pes = unit.pe_count if isinstance(unit, PEArray) else 1
    axes = tuple(unit.shape) if isinstance(unit, PEArray) else ()
    clock = arch.clock_of(unit_name)
    shared, per_pe = storage_path(arch, unit_name)
    names = shared + per_pe
    levels = []
    for name in names:
        comp = arch.component(name)
        fanout, fan_axes = (pes, axes) if name == shared[-1] else (1, ())
        if isinstance(comp, DRAM):
            bits = comp.access_bits or word_bits
            block = max(1, bits // word_bits)
            energy = comp.access_energy_J or 0.0
            levels.append(Level(name, fanout=fanout, axes=fan_axes, block_words=block, read_J=energy, write_J=energy,
                                update_J=energy, read_bw_words=comp.bandwidth_Bps * 8 / word_bits / clock,
                                write_bw_words=comp.bandwidth_Bps * 8 / word_bits / clock))
        else:
            assert isinstance(comp, Buffer)
            block = max(1, comp.width_bits // word_bits)
            capacity = comp.capacity * 8 / word_bits  # per instance
            levels.append(Level(name, fanout=fanout, axes=fan_axes, capacity_words=capacity, block_words=block,
                                read_J=comp.read_energy_J or 0.0, write_J=comp.write_energy_J or 0.0,
                                update_J=comp.write_energy_J or 0.0,
                                may_keep=tuple(comp.may_keep) if comp.may_keep is not None else None,
                                leak_J_per_cycle=(comp.leakage_W or 0.0) / clock))
    cycles, energy = op_cost_per_point(arch, unit_name, einsum) if einsum is not None else (1.0, 0.0)
    return Hierarchy(tuple(levels), unit_name, energy, cycles, clock, word_bits / 8)
