"""Per-action energy, leakage and area of a spec's components from hwcomponents.

``estimate_arch(arch)`` evaluates, for the spec's technology node, the component model of every
DRAM, SRAM and register file (``recipes.py``: the FuseMax artifact's Accelergy compounds over
hwcomponents' CACTI, Aladdin and NeuroSim primitives) and returns each number with its
provenance. ``write_estimate(path, est)`` writes them into the YAML with ``sources:``. Compute
ops are not estimated: hwcomponents has no floating-point adder, multiplier or divider, so the
op tables keep their sourced values and the estimate says so. See ``env.py`` for where
hwcomponents runs.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from einsim.arch.architecture import Architecture
from einsim.arch.compute import ComputeUnit
from einsim.arch.estimate import env
from einsim.arch.estimate.recipes import Recipe, recipe_for
from einsim.arch.estimate.write import write_values
from einsim.arch.storage import Buffer
from einsim.errors import EinsimError

__all__ = ["Estimate", "Estimated", "estimate_arch", "estimate_from_results", "model_results",
           "technology_m", "write_estimate"]


@dataclass(frozen=True)
class Estimated:
    """One estimated number (SI) of one component field, and where it comes from."""

    component: str
    field: str
    value: float
    source: str


@dataclass
class Estimate:
    design: str
    technology_m: float
    ran: str
    values: list[Estimated] = field(default_factory=list)
    not_estimated: dict[str, str] = field(default_factory=dict)

    def value(self, component: str, name: str) -> float:
        for v in self.values:
            if v.component == component and v.field == name:
                return v.value
        raise KeyError((component, name))

    def to_json(self) -> dict[str, Any]:
        return {
            "design": self.design, "technology_m": self.technology_m, "ran": self.ran,
            "values": [vars(v) for v in self.values], "not_estimated": self.not_estimated,
        }


def technology_m(arch: Architecture) -> float:
    """The spec's technology node in metres ('45nm' -> 4.5e-8)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*nm\s*", arch.technology or "")
    if not match:
        raise EinsimError(
            f"technology: {arch.technology!r} is not a node in nm; the estimator needs e.g. '45nm'",
            arch.where("technology"),
        )
    return float(match.group(1)) * 1e-9


def _requests(arch: Architecture) -> tuple[dict[str, Recipe], list[dict[str, Any]]]:
    tech = technology_m(arch)
    recipes = {}
    requests = []
    for name, comp in arch.components.items():
        recipe = recipe_for(arch, comp)
        if recipe is not None:
            recipes[name] = recipe
            requests += [p.request(tech) for p in recipe.parts.values()]
    return recipes, requests


def _provenance(recipe: Recipe, results: dict[str, dict[str, Any]], tech_m: float) -> str:
    parts = []
    for key, part in recipe.parts.items():
        r = results[key]
        attrs = ", ".join(f"{k}={v}" for k, v in part.attributes.items() if k not in r["ignored"])
        ignored = f"; ignored {', '.join(r['ignored'])}" if r["ignored"] else ""
        parts.append(f"{r['module']} {r['version']} {part.model}({attrs}{ignored})")
    return (f"component model: {recipe.model} at {tech_m * 1e9:g} nm from " + " + ".join(parts)
            + " (einsim arch estimate)")


def estimate_from_results(arch: Architecture, results: list[dict[str, Any]], ran: str) -> Estimate:
    """Combine worker results (in ``_requests`` order) into an Estimate; no hwcomponents needed."""
    recipes, _ = _requests(arch)
    tech = technology_m(arch)
    est = Estimate(arch.name, tech, ran)
    it = iter(results)
    for name, recipe in recipes.items():
        got = {key: next(it) for key in recipe.parts}
        errors = [f"{recipe.parts[k].model}: {r['error']}" for k, r in got.items() if "error" in r]
        if errors:
            est.not_estimated[name] = "; ".join(errors)
            continue
        source = _provenance(recipe, got, tech)
        comp = arch.component(name)
        for key, value in recipe.combine(got).items():
            if key == "area_m2" and isinstance(comp, Buffer):
                key, value = "area_per_bit_m2", value / (comp.capacity * 8)
                src = f"{source}; {value * 1e12:.6g} um^2/bit at {comp.capacity:g} B, per bit for other capacities"
            else:
                src = source
            est.values.append(Estimated(name, key, value, src))
    for name, comp in arch.components.items():
        if isinstance(comp, ComputeUnit) and comp.ops:
            est.not_estimated[name] = ("op table kept: hwcomponents has no floating-point "
                                       "adder/multiplier/divider model")
    return est


def model_results(arch: Architecture, log: Callable[[str], None] | None = None
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """(requests, hwcomponents results, where they ran) for every recipe of ``arch``."""
    log = log or (lambda msg: print(f"einsim: {msg}", file=sys.stderr))
    _, requests = _requests(arch)
    results, ran = env.run_models(requests, log)
    return requests, results, ran


def estimate_arch(arch: Architecture, log: Callable[[str], None] | None = None) -> Estimate:
    """Estimate every DRAM/SRAM/register file of ``arch`` with hwcomponents."""
    _, results, ran = model_results(arch, log)
    return estimate_from_results(arch, results, ran)


def write_estimate(path: str, est: Estimate) -> None:
    """Write the estimated numbers, with their ``sources:``, into the spec YAML at ``path``."""
    write_values(path, est.values)
