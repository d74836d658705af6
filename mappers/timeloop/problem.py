"""A Timeloop v0.4 problem (``problem.shape`` + ``problem.instance``) as an einsim workload text (one Einsum).

Projections ``[[R], [P]]`` are sums of terms ``[dim]`` or ``[dim, coefficient]``; a coefficient is a
number or a name from ``shape.coefficients`` (its default, overridden by ``instance``). The
read-write data space is the output. Dimensions become lower-case einsim indices.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from einsim.errors import EinsimError, did_you_mean

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _whole(value: Any, what: str, where: Path, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        kind = "positive" if least == 1 else "non-negative"
        raise EinsimError(f"{where}: {what} must be a {kind} whole number, got {value!r}")
    return value


def dimensions(problem: dict, where: Path) -> list[str]:
    shape = problem.get("shape")
    if not isinstance(shape, dict):
        raise EinsimError(f"{where}: problem.shape is missing (Timeloop v0.4 problem expected)")
    dims = shape.get("dimensions")
    if not isinstance(dims, list) or not dims:
        raise EinsimError(f"{where}: problem.shape.dimensions must be a non-empty list of names")
    for d in dims:
        if not isinstance(d, str) or not _NAME.match(d):
            raise EinsimError(f"{where}: problem.shape.dimensions: {d!r} is not a name")
    if len({d.lower() for d in dims}) != len(dims):
        raise EinsimError(f"{where}: problem.shape.dimensions repeats a name")
    return list(dims)


def sizes_of(problem: dict, where: Path) -> dict[str, int]:
    """Dimension -> size; a dimension missing from ``instance`` is an error (Timeloop would default it to 1)."""
    dims = dimensions(problem, where)
    instance = problem.get("instance")
    if not isinstance(instance, dict):
        raise EinsimError(f"{where}: problem.instance is missing (the dimension sizes)")
    densities = instance.get("densities")
    if densities:
        raise EinsimError(f"{where}: problem.instance.densities is a Sparseloop (sparse) feature, which einsim does not model")
    missing = [d for d in dims if d not in instance]
    if missing:
        raise EinsimError(f"{where}: problem.instance has no size for dimension {missing[0]}")
    return {d: _whole(instance[d], f"problem.instance.{d}", where) for d in dims}


def workload_text(problem: dict, where: Path) -> str:
    """The problem as einsim workload YAML text."""
    shape = problem.get("shape") or {}
    sizes = sizes_of(problem, where)
    dims = list(sizes)
    instance = problem["instance"]
    coefs: dict[str, int] = {}
    for c in shape.get("coefficients") or []:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise EinsimError(f"{where}: problem.shape.coefficients entries are {{name: ..., default: ...}}")
        coefs[c["name"]] = _whole(instance.get(c["name"], c.get("default", 1)), f"coefficient {c['name']}", where, 0)
    spaces = shape.get("data_spaces")
    if not isinstance(spaces, list) or not spaces:
        raise EinsimError(f"{where}: problem.shape.data_spaces must be a non-empty list")
    ranks = dict(sizes)
    tensors: dict[str, list[str]] = {}
    accesses: dict[str, str] = {}
    outputs = []
    for ds in spaces:
        if not isinstance(ds, dict) or not isinstance(ds.get("name"), str) or not _NAME.match(ds["name"]):
            raise EinsimError(f"{where}: each data space needs a name (a plain identifier)")
        name = ds["name"]
        if name in tensors or name.lower() in {d.lower() for d in dims}:
            raise EinsimError(f"{where}: data space name {name!r} is used twice")
        projection = ds.get("projection")
        if not isinstance(projection, list) or not projection:
            raise EinsimError(f"{where}: data space {name}: projection must be a non-empty list like [[[R]], [[P]]]")
        ranks_of, index = [], []
        for i, terms in enumerate(projection):
            if not isinstance(terms, list) or not terms:
                raise EinsimError(f"{where}: data space {name}: projection entry {i} must be a list of terms like [[R], [P]]")
            parts = []
            for term in terms:
                if not isinstance(term, list) or not 1 <= len(term) <= 2 or not isinstance(term[0], str):
                    raise EinsimError(f"{where}: data space {name}: a projection term is [dim] or [dim, coefficient], got {term!r:.40}")
                dim = term[0]
                if dim not in sizes:
                    raise EinsimError(f"{where}: data space {name} projects unknown dimension {dim!r}" + did_you_mean(dim, dims))
                coef = 1
                if len(term) == 2:
                    c = term[1]
                    if isinstance(c, str):
                        if c not in coefs:
                            raise EinsimError(f"{where}: data space {name}: unknown coefficient {c!r}" + did_you_mean(c, coefs))
                        coef = coefs[c]
                    else:
                        coef = _whole(c, f"data space {name}: coefficient", where, 0)
                if coef:
                    parts.append((dim, coef))
            if not parts:
                raise EinsimError(f"{where}: data space {name}: projection entry {i} has only zero coefficients")
            if len(parts) == 1 and parts[0][1] == 1:
                ranks_of.append(parts[0][0])
            else:
                rank = f"{name}{i}"
                ranks[rank] = sum(c * (sizes[d] - 1) for d, c in parts) + 1
                ranks_of.append(rank)
            index.append(" + ".join(f"{c}*{d.lower()}" if c != 1 else d.lower() for d, c in parts))
        tensors[name] = ranks_of
        accesses[name] = f"{name}[{', '.join(index)}]"
        rw = ds.get("read_write", False)
        if not isinstance(rw, bool):
            raise EinsimError(f"{where}: data space {name}: read_write is true or false, got {rw!r}")
        if rw:
            outputs.append(name)
    if len(outputs) != 1:
        got = ", ".join(outputs) if outputs else "none"
        raise EinsimError(f"{where}: exactly one data space must be read_write: True (the output); found {got}")
    output = outputs[0]
    if len(tensors) < 2:
        raise EinsimError(f"{where}: the problem has an output but no input data space")
    operands = " * ".join(accesses[t] for t in tensors if t != output)
    name = shape.get("name", "timeloop")
    lines = [f"name: {name if isinstance(name, str) and _NAME.match(name) else 'timeloop'}",
             "source: imported from Timeloop v0.4", "ranks:"]
    lines += [f"  {r}: {n}" for r, n in ranks.items()]
    lines += ["tensors:"] + [f"  {t}: [{', '.join(r)}]" for t, r in tensors.items()]
    lines += ["einsums: |", f"  {accesses[output]} = {operands}"]
    return "\n".join(lines) + "\n"
