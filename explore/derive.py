"""Derived sweep parameters: arithmetic over other parameters, parsed by einsim's size grammar.

Only numbers, names, + - * / and sqrt/exp/log are accepted (``einsim.einsum.sizes``); nothing is
ever passed to ``eval``. A result that is a whole number comes out as an int.
"""

from __future__ import annotations

from typing import Any, Mapping

from einsim.einsum import syntax as sx
from einsim.einsum.sizes import evaluate_number
from einsim.errors import EinsimError, Location


def names(expr: sx.Expr) -> list[str]:
    """The parameter names an expression reads."""
    if isinstance(expr, sx.Name):
        return [expr.name]
    if isinstance(expr, sx.Neg):
        return names(expr.operand)
    if isinstance(expr, sx.BinOp):
        return names(expr.left) + names(expr.right)
    if isinstance(expr, sx.Call):
        return [n for a in expr.args for n in names(a)]
    return []


def parse(text: str, where: Location = Location()) -> sx.Expr:
    return sx.parse_expr(str(text), where)


def evaluate(expr: sx.Expr, env: Mapping[str, Any], where: Location = Location()) -> int | float:
    def lookup(name: str) -> float:
        value = env.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EinsimError(f"{name} is {value!r}, not a number", where)
        return float(value)

    x = evaluate_number(expr, lookup, where)
    return int(x) if float(x).is_integer() else x
