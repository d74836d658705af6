"""Rank sizes and parameters: numbers or expressions of each other (``M1: M / M0``), never eval()."""

from __future__ import annotations

import math
from typing import Any, Mapping

from einsim.errors import EinsimError, Location, did_you_mean
from einsim.yamlsrc import YamlSource
from einsim.einsum import syntax as sx

_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log}


def evaluate_number(expr: sx.Expr, lookup, where: Location) -> float:
    """Evaluate a size expression: numbers, names (via ``lookup``), + - * /, sqrt/exp/log."""
    if isinstance(expr, sx.Num):
        return expr.value
    if isinstance(expr, sx.Name):
        return lookup(expr.name)
    if isinstance(expr, sx.Neg):
        return -evaluate_number(expr.operand, lookup, where)
    if isinstance(expr, sx.BinOp):
        a, b = evaluate_number(expr.left, lookup, where), evaluate_number(expr.right, lookup, where)
        if expr.op == "/" and b == 0:
            raise EinsimError("division by zero in a size expression", where)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if expr.op == "/" else 0.0}[expr.op]
    if isinstance(expr, sx.Call) and expr.func in _FUNCS and len(expr.args) == 1:
        return _FUNCS[expr.func](evaluate_number(expr.args[0], lookup, where))
    raise EinsimError("size expressions use numbers, names, + - * / and sqrt/exp/log only", where)


def resolve_sizes(
    src: YamlSource, params_raw: Mapping[str, Any], ranks_raw: Mapping[str, Any], overrides: Mapping[str, Any]
) -> tuple[dict[str, float], dict[str, int]]:
    """Resolve every parameter and rank size; ranks must come out as positive whole numbers."""
    raw: dict[str, tuple[Any, Location]] = {}
    for section, table in (("params", params_raw), ("ranks", ranks_raw)):
        for name, value in table.items():
            if name in raw:
                raise EinsimError(f"{name} is both a parameter and a rank", src.where(section, name))
            raw[name] = (value, src.where(section, name))
    for name, value in overrides.items():
        raw[name] = (value, Location(f"--set {name}"))

    done: dict[str, float] = {}
    active: list[str] = []

    def lookup(name: str) -> float:
        if name in done:
            return done[name]
        if name not in raw:
            raise EinsimError(f"unknown size {name!r}" + did_you_mean(name, raw), where_of[-1])
        if name in active:
            raise EinsimError(f"sizes refer to each other in a circle: {' -> '.join(active + [name])}", raw[name][1])
        value, loc = raw[name]
        active.append(name)
        where_of.append(loc)
        if value is None:
            raise EinsimError(f"{name} has no size; bind it with --set {name}=N", loc)
        if isinstance(value, bool):
            raise EinsimError(f"{name}: expected a number or an expression, got {value}", loc)
        if isinstance(value, (int, float)):
            result = float(value)
        elif isinstance(value, str):
            result = evaluate_number(sx.parse_expr(value, loc if loc.line else Location(loc.file)), lookup, loc)
        else:
            raise EinsimError(f"{name}: expected a number or an expression, got {type(value).__name__}", loc)
        active.pop()
        where_of.pop()
        done[name] = result
        return result

    where_of: list[Location] = [Location(src.file)]
    params = {name: lookup(name) for name in params_raw}
    ranks: dict[str, int] = {}
    for name in ranks_raw:
        value = lookup(name)
        if value != int(value) or value < 1:
            raise EinsimError(f"rank {name} must have a positive whole size, got {value:g}", raw[name][1])
        ranks[name] = int(value)
    return params, ranks
