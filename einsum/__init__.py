"""The extended-Einsum cascade language: parser, Cascade, reference executor, analysis.

Public names: ``load_workload``, ``parse_workload``, ``resize``, ``Cascade``, ``Einsum``,
``Tensor``, ``execute``, ``random_inputs``, ``points``, ``ops_per_point``, ``op_counts``,
``pass_analysis``, ``passes_by_rank``, ``verify``; model presets: ``load_model``, ``list_models``,
``expand`` (a model + phase into the cascades of one layer) and ``total_ops``.
"""

import importlib
from typing import Any

# public name -> defining module; imported on first use, so a client of one part (the model presets)
# does not load the parser, networkx and the executor
_WHERE = {
    **dict.fromkeys(("PassReport", "op_counts", "ops_per_point", "pass_analysis", "passes_by_rank", "points"),
                    "einsim.einsum.analysis"),
    **dict.fromkeys(("Cascade", "Einsum", "Tensor"), "einsim.einsum.cascade"),
    **dict.fromkeys(("execute", "random_inputs"), "einsim.einsum.execute"),
    **dict.fromkeys(("load_workload", "parse_workload", "resize"), "einsim.einsum.load"),
    **dict.fromkeys(("expand", "list_models", "load_model", "total_ops"), "einsim.einsum.models"),
    **dict.fromkeys(("Verification", "verify"), "einsim.einsum.verify"),
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'einsim.einsum' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "Cascade", "Einsum", "PassReport", "Tensor", "Verification", "execute", "load_workload", "op_counts",
    "ops_per_point", "parse_workload", "expand", "list_models", "load_model", "total_ops", "pass_analysis", "passes_by_rank", "points", "random_inputs", "resize", "verify",
]
