"""The extended-Einsum cascade language: parser, Cascade, reference executor, analysis.

Public names: ``load_workload``, ``parse_workload``, ``resize``, ``Cascade``, ``Einsum``,
``Tensor``, ``execute``, ``random_inputs``, ``points``, ``ops_per_point``, ``op_counts``,
``pass_analysis``, ``passes_by_rank``, ``verify``; model presets: ``load_model``, ``list_models``,
``expand`` (a model + phase into the cascades of one layer) and ``total_ops``.
"""

from einsim.einsum.analysis import PassReport, op_counts, ops_per_point, pass_analysis, passes_by_rank, points
from einsim.einsum.cascade import Cascade, Einsum, Tensor
from einsim.einsum.execute import execute, random_inputs
from einsim.einsum.load import load_workload, parse_workload, resize
from einsim.einsum.models import expand, list_models, load_model, total_ops
from einsim.einsum.verify import Verification, verify

__all__ = [
    "Cascade", "Einsum", "PassReport", "Tensor", "Verification", "execute", "load_workload", "op_counts",
    "ops_per_point", "parse_workload", "expand", "list_models", "load_model", "total_ops", "pass_analysis", "passes_by_rank", "points", "random_inputs", "resize", "verify",
]
