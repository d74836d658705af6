"""A JSON-ready description of an Architecture: SI values, sources, area and peak throughput.

Shape (all numbers SI; every ``*_sources`` value is a string or null)::

    {"name", "description", "technology", "file", "source",
     "clock_Hz", "power_W",                       # top-level numbers (null if unset)
     "sources": {"clock_Hz": "...", ...},         # source of each top-level number
     "components": {NAME: {
         "kind", "inside", "source",
         "spec": {...},                           # every field, SI, sub-entries carry "source"
         "sources": {field: "..."},               # source of each top-level field of the spec
         "derived": {"instances", "area_m2",      # area of all instances (null: no model)
                     "capacity_B" (buffers), "pe_count", "clock_Hz", "peak_per_s" (compute),
                     "ops": {op: {"cycles", "energy_J"}} (compute units with an op table)}}},
     "area": {"total_m2", "breakdown_m2": {NAME: m2 or null}},
     "peak_per_s": {UNIT: {label: per second}}}
"""

from __future__ import annotations

from typing import Any

from einsim.arch.area import area_breakdown, total_area_m2
from einsim.arch.architecture import Architecture, resolve_op
from einsim.arch.peak import peak_throughput
from einsim.arch.compute import ComputeUnit, PEArray
from einsim.arch.spec import Component
from einsim.arch.storage import Buffer

_META = {"kind", "inside", "source", "sources", "description"}


def describe(arch: Architecture) -> dict[str, Any]:
    """The resolved architecture as plain JSON-ready data (see module docstring)."""
    areas = area_breakdown(arch)
    comps = {name: _component(arch, name, c, areas.get(name)) for name, c in arch.components.items()}
    top = ("clock_Hz", "power_W")
    return {
        "name": arch.name,
        "description": arch.description,
        "technology": arch.technology,
        "file": arch.file,
        "source": arch.source,
        **{k: getattr(arch, k) for k in top},
        "sources": {k: arch.source_of(k) for k in top if getattr(arch, k) is not None},
        "components": comps,
        "area": {"total_m2": total_area_m2(arch), "breakdown_m2": areas},
        "peak_per_s": {
            n: c["derived"]["peak_per_s"] for n, c in comps.items() if "peak_per_s" in c["derived"]
        },
    }


def _component(arch: Architecture, name: str, comp: Component, area: float | None) -> dict:
    spec = comp.model_dump(mode="json", exclude=_META)
    _fill_sources(spec, comp.source)
    derived: dict[str, Any] = {"instances": arch.instances(name), "area_m2": area}
    if isinstance(comp, Buffer):
        derived["capacity_B"] = comp.capacity
    if isinstance(comp, PEArray):
        derived["pe_count"] = comp.pe_count
    if isinstance(comp, ComputeUnit):
        clock = comp.clock_Hz or arch.clock_Hz
        if clock is not None:
            derived["clock_Hz"] = clock
        derived["peak_per_s"] = peak_throughput(arch, name)
        if comp.ops:
            derived["ops"] = {op: resolve_op(comp, op)._asdict() for op in comp.ops}
    return {
        "kind": comp.kind,
        "inside": comp.inside,
        "description": comp.description,
        "source": comp.source,
        "spec": spec,
        "sources": {k: comp.source_of(k) for k, v in spec.items() if v is not None},
        "derived": derived,
    }


def _fill_sources(node: Any, default: str | None) -> None:
    """Sub-entries without their own source inherit the component's."""
    if isinstance(node, dict):
        if "source" in node and node["source"] is None:
            node["source"] = default
        for v in node.values():
            _fill_sources(v, default)
    elif isinstance(node, list):
        for v in node:
            _fill_sources(v, default)
