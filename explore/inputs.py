"""The input files a sweep's points read, and a content hash of each: part of a run's identity.

A resume compares these hashes with the ones stored when the run started, so editing an
architecture, workload, model or mapper-option file between two runs is noticed (see store.Store).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from einsim.errors import EinsimError
from einsim.explore.spec import SweepSpec, resolved_files


def _model_workloads(model: Path) -> set[Path]:
    """The workload files a model preset's layers use, in either phase."""
    from einsim.einsum import expand
    from einsim.designs import resolve

    files: set[Path] = set()
    for phase, kwargs in (("prefill", {"seq_len": 1}), ("decode", {"context_len": 1})):
        try:
            plan = expand(str(model), phase, **kwargs)
        except EinsimError:
            continue
        for op in [op for layer in plan.layer_types for op in layer.ops] + list(plan.head):
            files.add(resolve(op.workload, "workloads"))
    return files


def input_files(spec: SweepSpec) -> list[Path]:
    """Every file the sweep's points read, sorted and without repeats."""
    files: set[Path] = set()
    for kind, _, path in resolved_files(spec):
        files.add(path)
        if kind == "models":
            files |= _model_workloads(path)
    return sorted(files)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_digests(spec: SweepSpec) -> dict[str, str]:
    """``{file: sha256 of its bytes}`` of every input file of the sweep."""
    return {str(p): file_digest(p) for p in input_files(spec)}
