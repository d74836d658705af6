"""Rank sizes and parameters: numbers or expressions of each other (``M1: M / M0``), never eval().

Arithmetic is exact: integers and decimal literals are rationals (``fractions.Fraction``), so
``M: 1000000000000000000000000000000`` or ``M: 9007199254740993`` (2**53 + 1) stay themselves and
``M / M0`` is a whole number exactly when M0 divides M. Only sqrt/exp/log leave the rationals
(sqrt of a perfect square stays exact). Every value must be finite and inside the float range
the cost model computes in; ranks must be positive whole numbers.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Mapping, Union

from einsim.errors import EinsimError, Location, did_you_mean
from einsim.yamlsrc import YamlSource
from einsim.einsum import syntax as sx

Number = Union[Fraction, float]

# the largest magnitude the cost model can hold (it computes in floats)
FLOAT_MAX = Fraction(int(1.7976931348623157e308))


def _at(where: Location, expr: sx.Expr) -> Location:
    """Location of a node of an expression whose text starts at ``where``."""
    if where.line <= 0:
        return where
    return Location(where.file, where.line, max(where.column, 1) + expr.col - 1)


def _sqrt(x: Number, where: Location) -> Number:
    if x < 0:
        raise EinsimError(f"sqrt of a negative number ({_show(x)}); sqrt takes a value >= 0", where)
    if isinstance(x, Fraction):
        num, den = math.isqrt(x.numerator), math.isqrt(x.denominator)
        if num * num == x.numerator and den * den == x.denominator:
            return Fraction(num, den)
        if not 1e-300 < x < FLOAT_MAX:  # beyond floats: through the logs of the exact parts
            return math.exp((math.log(x.numerator) - math.log(x.denominator)) / 2) if x else 0.0
    return math.sqrt(x)


def _log(x: Number, where: Location) -> Number:
    if x <= 0:
        raise EinsimError(f"log of {_show(x)}; log takes a value > 0", where)
    if isinstance(x, Fraction) and not 1e-300 < x < FLOAT_MAX:  # 1e-400 is no float, but its log is
        return math.log(x.numerator) - math.log(x.denominator)
    return math.log(x)


def _exp(x: Number, where: Location) -> Number:
    try:
        return math.exp(x)
    except OverflowError:
        raise EinsimError(f"exp({_show(x)}) is beyond the float range; exp takes a value <= 709", where) from None


_FUNCS = {"sqrt": _sqrt, "exp": _exp, "log": _log}


def _show(x: Number) -> str:
    if isinstance(x, Fraction):
        if x.denominator == 1 and abs(x.numerator) < 10**21:
            return str(x.numerator)
        if abs(x) > FLOAT_MAX:  # float() would overflow: scientific notation from the digits
            digits = str(abs(int(x)))
            return f"{'-' if x < 0 else ''}{digits[0]}.{digits[1:6]}e{len(digits) - 1}"
        return f"{float(x):.6g}"
    return f"{x:.6g}"


def _checked(value: Number, where: Location) -> Number:
    if isinstance(value, float) and not math.isfinite(value):
        raise EinsimError(f"a size expression gives {value}; sizes are finite numbers", where)
    if abs(value) > FLOAT_MAX:
        raise EinsimError(f"a size expression gives {_show(value)}, beyond the float range (about 1.8e308) "
                          "the cost model computes in", where)
    return value


def _literal(num: sx.Num, where: Location) -> Number:
    """The exact value of a number as written (``1e3`` is 1000, ``0.5`` is 1/2)."""
    text = num.text or repr(num.value)
    if text in ("inf", "nan") or not math.isfinite(num.value) and "e" not in text.lower():
        raise EinsimError(f"{text} is not a size; sizes are finite numbers", where)
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > 400:  # before Fraction builds a 10**exponent integer
        raise EinsimError(f"{text} is beyond the float range (about 1.8e308) the cost model computes in", where)
    return Fraction(text)


def evaluate_number(expr: sx.Expr, lookup, where: Location) -> Number:
    """Evaluate a size expression exactly: numbers, names (via ``lookup``), + - * /, sqrt/exp/log."""
    if isinstance(expr, sx.Num):
        return _checked(_literal(expr, _at(where, expr)), _at(where, expr))
    if isinstance(expr, sx.Name):
        return lookup(expr.name)
    if isinstance(expr, sx.Neg):
        return -evaluate_number(expr.operand, lookup, where)
    if isinstance(expr, sx.BinOp):
        a, b = evaluate_number(expr.left, lookup, where), evaluate_number(expr.right, lookup, where)
        if expr.op == "/" and b == 0:
            raise EinsimError("division by zero in a size expression", _at(where, expr))
        try:
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[expr.op]()
        except OverflowError:
            result = math.inf
        except ZeroDivisionError:  # a float over an exact non-zero divisor that rounds to 0.0 as a float
            result = Fraction(a) / b
        return _checked(result, _at(where, expr))
    if isinstance(expr, sx.Call) and expr.func in _FUNCS and len(expr.args) == 1:
        arg = evaluate_number(expr.args[0], lookup, where)
        return _checked(_FUNCS[expr.func](arg, _at(where, expr)), _at(where, expr))
    raise EinsimError("size expressions use numbers, names, + - * / and sqrt/exp/log only", _at(where, expr))


def plain(value: Number) -> int | float:
    """A resolved value for the rest of the code: an int when whole, else the nearest float."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return float(value)


def resolve_sizes(
    src: YamlSource, params_raw: Mapping[str, Any], ranks_raw: Mapping[str, Any], overrides: Mapping[str, Any]
) -> tuple[dict[str, int | float], dict[str, int]]:
    """Resolve every parameter and rank size; ranks must come out as positive whole numbers."""
    raw: dict[str, tuple[Any, Location]] = {}
    for section, table in (("params", params_raw), ("ranks", ranks_raw)):
        for name, value in table.items():
            if name in raw:
                raise EinsimError(f"{name} is both a parameter and a rank", src.where(section, name))
            raw[name] = (value, src.where(section, name))
    for name, value in overrides.items():
        raw[name] = (value, Location(f"--set {name}"))

    done: dict[str, Number] = {}
    active: list[str] = []

    def lookup(name: str) -> Number:
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
        if isinstance(value, int):
            result: Number = _checked(Fraction(value), loc)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise EinsimError(f"{name} = {value}; sizes are finite numbers", loc)
            result = Fraction(value)
        elif isinstance(value, str):
            try:
                result = evaluate_number(sx.parse_expr(value, loc if loc.line else Location(loc.file)), lookup, loc)
            except EinsimError as exc:
                if exc.location is None or (exc.location.file, exc.location.line) != (loc.file, loc.line):
                    raise  # about another size, which names itself
                raise EinsimError(f"size {name}: {exc.bare_message}", exc.location) from None
        else:
            raise EinsimError(f"{name}: expected a number or an expression, got {type(value).__name__}", loc)
        active.pop()
        where_of.pop()
        done[name] = result
        return result

    where_of: list[Location] = [Location(src.file)]
    params = {name: plain(lookup(name)) for name in params_raw}
    ranks: dict[str, int] = {}
    for name in ranks_raw:
        value = lookup(name)
        whole = value.denominator == 1 if isinstance(value, Fraction) else float(value).is_integer()
        if not whole or value < 1:
            raise EinsimError(
                f"rank {name} must have a positive whole size, got {_show(value)}"
                + (" (not a whole number)" if not whole else ""), raw[name][1])
        ranks[name] = int(value)
    return params, ranks
