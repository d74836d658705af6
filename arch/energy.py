"""Per-action energy tables and energy breakdowns (action counts x energy per action)."""

from __future__ import annotations

from typing import Mapping

from einsim.arch.architecture import Architecture, resolve_op
from einsim.arch.compute import ComputeUnit
from einsim.arch.storage import DRAM, Buffer
from einsim.errors import EinsimError, did_you_mean


def energy_table(arch: Architecture) -> dict[str, dict[str, float]]:
    """{component: {action: J per action}} for every action with a known energy.

    DRAM: ``access`` (one ``access_bits`` transfer) and ``byte``; buffers: ``read``/``write``
    (one ``width_bits`` row); compute units: each op of the op table, composites resolved.
    """
    table: dict[str, dict[str, float]] = {}
    for name, comp in arch.components.items():
        actions: dict[str, float | None] = {}
        if isinstance(comp, DRAM):
            actions = {"access": comp.access_energy_J, "byte": comp.energy_per_byte_J}
        elif isinstance(comp, Buffer):
            actions = {"read": comp.read_energy_J, "write": comp.write_energy_J}
        elif isinstance(comp, ComputeUnit):
            actions = {op: resolve_op(comp, op).energy_J for op in comp.ops}
        known = {a: e for a, e in actions.items() if e is not None}
        if known:
            table[name] = known
    return table


def energy_breakdown(
    arch: Architecture, counts: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """{component: {action: J}} for action ``counts`` {component: {action: count}}."""
    table = energy_table(arch)
    out: dict[str, dict[str, float]] = {}
    for name, actions in counts.items():
        arch.component(name)
        known = table.get(name, {})
        for action, n in actions.items():
            if action not in known:
                raise EinsimError(
                    f"no energy for action {action!r} of {name!r}" + did_you_mean(action, known)
                )
            out.setdefault(name, {})[action] = n * known[action]
    return out


def total_energy_J(breakdown: Mapping[str, Mapping[str, float]]) -> float:
    """Sum of an energy breakdown."""
    return sum(sum(actions.values()) for actions in breakdown.values())
