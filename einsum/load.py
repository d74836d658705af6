"""Workload files (YAML) into Cascades: sizes, tensors, the init/einsums blocks and stop conditions.

A workload file::

    name: attention_1pass
    source: FuseMax (MICRO 2024) Cascade 5, Eqs. 39-56
    params: {}                      # optional named numbers (scalars usable in expressions)
    ranks: {E: 64, M: 4096, M0: 256, M1: M / M0, P: 4096}   # sizes: integers or expressions
    tensors: {Q: [E, P], ...}       # every tensor with its ranks
    init: |                         # optional, run once
      RM[0, p] = -inf
    einsums: |                      # one Einsum a line, optionally 'NAME: ...'
      BQK[m1, m0, p] = Q[e, p] * BK[e, m1, m0]
    stop: m1 >= M1                  # one per iterative index
    reference: attention            # optional: a numpy reference in einsim.einsum.references
    check: {M: 8, M0: 4}            # optional small sizes used by `einsim check` to verify
    datatype_bytes: 2               # optional, for footprints (default 2)
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Mapping

from einsim.designs import resolve
from einsim.errors import EinsimError, Location, did_you_mean
from einsim.yamlsrc import YamlSource, load_yaml, load_yaml_file
from einsim.einsum import syntax as sx
from einsim.einsum.build import StopDecl, TensorDecl, build_cascade
from einsim.einsum.cascade import Cascade
from einsim.einsum.sizes import resolve_sizes

TOP_KEYS = ("name", "description", "source", "params", "ranks", "tensors", "init", "einsums", "stop",
            "reference", "check", "datatype_bytes")


def _lines(src: YamlSource, key: str) -> list[tuple[str, Location]]:
    """The non-empty lines of a block (or list of lines) with their file locations; comments removed."""
    value = src.data.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        out = []
        block = (key, "<block>") in src.marks
        for i, raw in enumerate(value.split("\n")):
            text = raw.split("#", 1)[0]
            if not text.strip():
                continue
            if block:
                line, col = src.block_line((key,), i)
                loc = Location(src.file, line, col + (len(text) - len(text.lstrip())) - (len(raw) - len(raw.lstrip())))
            else:
                loc = src.where(key)
            out.append((text.strip(), loc))
        return out
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise EinsimError(f"each entry of {key}: is one line of text, got {type(item).__name__}", src.where(key, i))
            text = item.split("#", 1)[0].strip()
            if text:
                out.append((text, src.where(key, i)))
        return out
    raise EinsimError(f"{key}: must be a block of lines (use '{key}: |') or a list of lines", src.where(key))


def _mapping(src: YamlSource, key: str, required: bool) -> dict:
    value = src.data.get(key)
    if value is None:
        if required:
            raise EinsimError(f"missing required key {key!r}", Location(src.file, 1, 1))
        return {}
    if not isinstance(value, dict):
        raise EinsimError(f"{key}: must be a mapping of NAME: value", src.where(key))
    return value


@functools.lru_cache(maxsize=4096)
def _statement(text: str, loc: Location) -> sx.Statement:
    # parse trees are frozen and do not depend on the sizes: a workload resized (or loaded again with
    # other sizes) reuses its lines' trees
    return sx.parse_statement(text, loc)


def cascade_from_source(src: YamlSource, overrides: Mapping[str, Any] | None = None) -> Cascade:
    """Build a Cascade from loaded YAML; ``overrides`` set rank sizes or parameters by name."""
    if not isinstance(src.data, dict):
        raise EinsimError("a workload file is a YAML mapping with ranks:, tensors: and einsums:", Location(src.file, 1, 1))
    for key in src.data:
        if key not in TOP_KEYS:
            raise EinsimError(f"unknown key {key!r}" + did_you_mean(str(key), TOP_KEYS), src.key_where(key))

    params_raw = _mapping(src, "params", required=False)
    ranks_raw = _mapping(src, "ranks", required=True)
    for rank in ranks_raw:
        if not str(rank)[:1].isupper():
            raise EinsimError(f"rank names start with an upper-case letter: {rank!r}", src.key_where("ranks", rank))
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in ranks_raw and name not in params_raw:
            raise EinsimError(
                f"--set {name}: no rank or parameter of that name" + did_you_mean(name, list(ranks_raw) + list(params_raw))
            )
    params, ranks = resolve_sizes(src, params_raw, ranks_raw, overrides)

    decls: dict[str, TensorDecl] = {}
    for tname, ranks_of in _mapping(src, "tensors", required=True).items():
        loc = src.where("tensors", tname)
        if not isinstance(ranks_of, list) or not all(isinstance(r, str) for r in ranks_of):
            raise EinsimError(f"tensor {tname}: give its ranks as a list, e.g. {tname}: [M, K] (or [] for a scalar)", loc)
        decls[str(tname)] = TensorDecl(str(tname), tuple(ranks_of), loc)

    init = [_statement(text, loc) for text, loc in _lines(src, "init")]
    body = [_statement(text, loc) for text, loc in _lines(src, "einsums")]
    if not body:
        raise EinsimError("einsums: is empty; a workload needs at least one Einsum", src.where("einsums"))
    stops = [StopDecl(sx.parse_condition(text, loc), text, loc) for text, loc in _lines(src, "stop")]

    check = _mapping(src, "check", required=False)
    for name, value in check.items():
        if name not in ranks_raw and name not in params_raw:
            raise EinsimError(f"check: {name!r} is no rank or parameter" + did_you_mean(name, list(ranks_raw) + list(params_raw)), src.where("check", name))
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise EinsimError(f"check: {name} must be a finite number, got {value!r}", src.where("check", name))
    reference = src.data.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise EinsimError("reference: names a registered numpy reference", src.where("reference"))
    width = src.data.get("datatype_bytes", 2)
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise EinsimError("datatype_bytes: must be a positive whole number", src.where("datatype_bytes"))

    meta = dict(
        source=str(src.data.get("source", "")), description=str(src.data.get("description", "")),
        reference=reference, check_sizes=dict(check), datatype_bytes=width,
    )
    meta.update(spec=src, overrides=dict(overrides))
    name = str(src.data.get("name") or Path(src.file).stem)
    return build_cascade(name=name, file=src.file, ranks=ranks, params=params, decls=decls, init=init, body=body,
                         stops=stops, meta=meta)


def resize(cascade: Cascade, sizes: Mapping[str, Any]) -> Cascade:
    """The same workload rebuilt with some rank sizes or parameters changed."""
    if cascade.spec is None:
        raise EinsimError(f"{cascade.name} was not loaded from a workload file and cannot be resized")
    return cascade_from_source(cascade.spec, {**cascade.overrides, **sizes})


def load_workload(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Cascade:
    """Load a workload file; a bare name (``attention_1pass``) finds the bundled workload."""
    return cascade_from_source(load_yaml_file(resolve(path, "workloads")), overrides)


def parse_workload(text: str, overrides: Mapping[str, Any] | None = None, file: str = "<input>") -> Cascade:
    """Build a Cascade from workload YAML text."""
    return cascade_from_source(load_yaml(text, file), overrides)
