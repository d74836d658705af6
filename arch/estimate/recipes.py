"""The FuseMax artifact's Accelergy compound components, rebuilt from hwcomponents primitives.

Each recipe turns one spec component into hwcomponents model requests and combines their
results into the spec's fields, exactly as the artifact's compound-component files
(``area_energy/architecture/components/*.yaml``) combine their subcomponents:

- ``smartbuffer_SRAM``: CACTI ``SRAM`` of at least 32 b x 64 rows, area x (width/32) x
  (depth/64) when smaller, dynamic energy x (width/32) x (depth/64)^0.78, plus two address
  adders (NeuroSim ``Adder`` of ceil(log2 depth) bits), one per read or write.
- ``smartbuffer_RF``: the same padding and scaling around the artifact's ``regfile``: one
  ``AladdinRegister`` bit per stored bit and one 32-bit ``AladdinComparator`` per row (the
  artifact's ``n_bits`` is not a parameter of hwcomponents' comparator); a read or write touches
  one row of registers and every comparator.
- ``DRAM``: hwcomponents' DRAM table (``type`` = the spec's technology) per ``access_bits``.

Attributes the spec's ``estimate.attributes`` gives go to the storage model (hwcomponents names,
e.g. ``n_rw_ports``). Sizes, width and the cycle period come from the spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from einsim.arch.architecture import Architecture
from einsim.arch.spec import Component
from einsim.arch.storage import DRAM, Buffer
from einsim.errors import EinsimError, did_you_mean

ADDRESS_ADDERS = 2
DEPTH_EXPONENT = 1.56 / 2  # CACTI: 2x depth -> 1.56x dynamic energy (artifact's comment)


@dataclass(frozen=True)
class Part:
    """One hwcomponents model request, with the number of instances the compound holds."""

    model: str
    attributes: dict[str, Any]
    actions: tuple[str, ...]

    def request(self, tech_node_m: float) -> dict[str, Any]:
        return {"class": self.model, "attributes": self.attributes, "tech_node_m": tech_node_m,
                "actions": list(self.actions)}


@dataclass
class Recipe:
    """Parts of one component and how their results become spec fields (SI)."""

    model: str
    parts: dict[str, Part]
    combine: Callable[[dict[str, dict[str, Any]]], dict[str, float]]
    attributes: dict[str, Any] = field(default_factory=dict)


def _padding(width: float, depth: float) -> tuple[int, int, float, float]:
    mem_width, mem_depth = max(32, int(width)), max(64, int(math.ceil(depth)))
    width_scale, depth_scale = width / mem_width, depth / mem_depth
    return mem_width, mem_depth, width_scale * depth_scale, width_scale * depth_scale ** DEPTH_EXPONENT


def _address_adder(depth: float, cycle_s: float) -> Part:
    bits = max(1, math.ceil(math.log2(depth))) if depth >= 1 else 1
    return Part("Adder", {"n_bits": bits, "cycle_period": cycle_s}, ("add",))


def smartbuffer_sram(buf: Buffer, cycle_s: float, extra: dict[str, Any]) -> Recipe:
    mem_width, mem_depth, area_scale, energy_scale = _padding(buf.width_bits, buf.depth)
    sram = Part("SRAM", {"width": mem_width, "depth": mem_depth, "size": mem_width * mem_depth,
                         **extra}, ("read", "write"))
    parts = {"storage": sram, "address": _address_adder(buf.depth, cycle_s)}

    def combine(r: dict[str, dict[str, Any]]) -> dict[str, float]:
        s, a = r["storage"], r["address"]
        return {
            "read_energy_J": s["actions"]["read"] * energy_scale + a["actions"]["add"],
            "write_energy_J": s["actions"]["write"] * energy_scale + a["actions"]["add"],
            "area_m2": s["area_m2"] * area_scale + ADDRESS_ADDERS * a["area_m2"],
            "leakage_W": s["leak_W"] * area_scale + ADDRESS_ADDERS * a["leak_W"],
        }

    return Recipe("smartbuffer_SRAM", parts, combine, sram.attributes)


def smartbuffer_rf(buf: Buffer, cycle_s: float, extra: dict[str, Any],
                   apply_area_share: bool = True) -> Recipe:
    """``apply_area_share=False`` is the artifact's later Accelergy, which ignored the compound's
    ``area_share`` and priced every RF as the full padded 32 b x 64-row array (16,849 um^2)."""
    mem_width, mem_depth, area_scale, energy_scale = _padding(buf.width_bits, buf.depth)
    if not apply_area_share:
        area_scale = 1.0
    parts = {
        "bit": Part("AladdinRegister", {"width": 1, **extra}, ("read", "write")),
        "comparator": Part("AladdinComparator", {}, ("compare",)),
        "address": _address_adder(buf.depth, cycle_s),
    }

    def combine(r: dict[str, dict[str, Any]]) -> dict[str, float]:
        bit, cmp, a = r["bit"], r["comparator"], r["address"]
        compare = mem_depth * cmp["actions"]["compare"]
        storage_area = mem_width * mem_depth * bit["area_m2"] + mem_depth * cmp["area_m2"]
        storage_leak = mem_width * mem_depth * bit["leak_W"] + mem_depth * cmp["leak_W"]
        return {
            "read_energy_J": (mem_width * bit["actions"]["read"] + compare) * energy_scale
            + a["actions"]["add"],
            "write_energy_J": (mem_width * bit["actions"]["write"] + compare) * energy_scale
            + a["actions"]["add"],
            "area_m2": storage_area * area_scale + ADDRESS_ADDERS * a["area_m2"],
            "leakage_W": storage_leak * area_scale + ADDRESS_ADDERS * a["leak_W"],
        }

    return Recipe("smartbuffer_RF", parts, combine,
                  {"storage width": mem_width, "storage depth": mem_depth})


def dram(mem: DRAM, cycle_s: float, extra: dict[str, Any]) -> Recipe:
    if mem.access_bits is None:
        raise EinsimError(f"{mem.name}: estimating DRAM energy needs access_bits")
    attrs = {"width": mem.access_bits, **extra}
    part = Part(mem.technology, attrs, ("read",))
    return Recipe("DRAM", {"dram": part},
                  lambda r: {"access_energy_J": r["dram"]["actions"]["read"]}, attrs)


BUFFER_RECIPES = {"smartbuffer_SRAM": smartbuffer_sram, "smartbuffer_RF": smartbuffer_rf}
DEFAULT_BUFFER_RECIPE = {"sram": "smartbuffer_SRAM", "regfile": "smartbuffer_RF"}


def recipe_for(arch: Architecture, comp: Component) -> Recipe | None:
    """The recipe for a component, or None when no component model applies to its kind."""
    choice = getattr(comp, "estimate", None)
    extra = dict(choice.attributes) if choice else {}
    cycle_s = 1.0 / arch.clock_Hz if arch.clock_Hz else 1e-9
    if isinstance(comp, DRAM):
        return dram(comp, cycle_s, extra)
    if isinstance(comp, Buffer):
        name = choice.model if choice else DEFAULT_BUFFER_RECIPE[comp.kind]
        if name not in BUFFER_RECIPES:
            raise EinsimError(
                f"{comp.name}.estimate.model: unknown model {name!r}"
                + did_you_mean(name, list(BUFFER_RECIPES)) + f" (valid: {', '.join(BUFFER_RECIPES)})"
            )
        return BUFFER_RECIPES[name](comp, cycle_s, extra)
    return None
