"""Evaluate hwcomponents models: JSON requests on stdin, JSON results on stdout.

Runs in whichever interpreter has hwcomponents (this one, or the cached 3.12 environment as a
subprocess), so it imports only the standard library and hwcomponents, never einsim.

A request is ``{"class": NAME, "attributes": {...}, "tech_node_m": 45e-9, "actions": [...]}``;
its result is ``{"area_m2", "leak_W", "actions": {action: J}, "module", "version", "ignored"}``
(attributes the class does not take, dropped as hwcomponents' own model selection drops them),
or ``{"error": message}`` when the model refuses the request.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import sys
from typing import Any

MODULES = ("hwcomponents_cacti", "hwcomponents_library", "hwcomponents_neurosim")


def _find_class(name: str) -> tuple[type, str]:
    for module_name in MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            return cls, module_name
    raise LookupError(f"no hwcomponents class {name!r} in {', '.join(MODULES)}")


def _version(module_name: str) -> str:
    from importlib.metadata import version

    return version(module_name.replace("_", "-"))


def evaluate(request: dict[str, Any]) -> dict[str, Any]:
    """One model: area, leakage and the energy of each requested action (SI units)."""
    cls, module_name = _find_class(request["class"])
    takes = inspect.signature(cls.__init__).parameters
    used = {k: v for k, v in request["attributes"].items() if k in takes}
    if "tech_node" in takes:
        used["tech_node"] = request["tech_node_m"]
    model = cls(**used)
    actions = {a: float(getattr(model, a)().energy) for a in request["actions"]}
    return {
        "area_m2": float(model.area),
        "leak_W": float(model.leak_power),
        "actions": actions,
        "module": module_name,
        "version": _version(module_name),
        "ignored": sorted(set(request["attributes"]) - set(used)),
    }


def evaluate_all(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    logging.disable(logging.CRITICAL)
    results = []
    for request in requests:
        try:
            results.append(evaluate(request))
        except Exception as exc:  # a model's refusal is data for the caller, not a crash
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    return results


if __name__ == "__main__":
    json.dump(evaluate_all(json.load(sys.stdin)), sys.stdout)
