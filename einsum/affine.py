"""Affine integer index expressions (``m1*M0 + m0``, ``i+1``, ``Q-1``) and filters over them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from einsim.errors import EinsimError, Location
from einsim.einsum import syntax as sx


@dataclass(frozen=True)
class Affine:
    """sum(coef * var) + const, with integer coefficients; vars are lower-case index names."""

    terms: tuple[tuple[str, int], ...]
    const: int = 0

    @property
    def vars(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.terms)

    @property
    def is_var(self) -> str | None:
        """The variable name when the expression is exactly one variable."""
        if len(self.terms) == 1 and self.terms[0][1] == 1 and self.const == 0:
            return self.terms[0][0]
        return None

    @property
    def is_const(self) -> bool:
        return not self.terms

    def successor_of(self) -> str | None:
        """The variable v when the expression is exactly ``v+1`` (an iterative write)."""
        if len(self.terms) == 1 and self.terms[0][1] == 1 and self.const == 1:
            return self.terms[0][0]
        return None

    def evaluate(self, env: Mapping[str, np.ndarray | int]) -> np.ndarray | int:
        total: np.ndarray | int = self.const
        for var, coef in self.terms:
            total = total + coef * env[var]
        return total

    def bounds(self, sizes: Mapping[str, int]) -> tuple[int, int]:
        """(min, max) over var in [0, sizes[var])."""
        lo = hi = self.const
        for var, coef in self.terms:
            top = coef * (sizes[var] - 1)
            lo += min(0, top)
            hi += max(0, top)
        return lo, hi

    def __str__(self) -> str:
        parts = [v if c == 1 else f"{c}*{v}" for v, c in self.terms]
        if self.const or not parts:
            parts.append(str(self.const))
        return "+".join(parts).replace("+-", "-")


def _combine(a: Affine, b: Affine, sign: int) -> Affine:
    terms = dict(a.terms)
    for v, c in b.terms:
        terms[v] = terms.get(v, 0) + sign * c
    return Affine(tuple(sorted((v, c) for v, c in terms.items() if c)), a.const + sign * b.const)


def _scale(a: Affine, k: int) -> Affine:
    return Affine(tuple((v, c * k) for v, c in a.terms if c * k), a.const * k)


def is_index_var(name: str) -> bool:
    return name[:1].islower()


def to_affine(expr: sx.Expr, symbols: Mapping[str, float], where: Location) -> Affine:
    """Convert an index expression; upper-case names resolve to integer sizes in ``symbols``."""

    def at(e: sx.Expr) -> Location:
        return Location(where.file, where.line, (where.column or 1) + e.col - 1) if where.line else where

    def conv(e: sx.Expr) -> Affine:
        if isinstance(e, sx.Num):
            if e.value != int(e.value):
                raise EinsimError(f"index expressions take whole numbers, not {e.value}", at(e))
            return Affine((), int(e.value))
        if isinstance(e, sx.Name):
            if is_index_var(e.name):
                return Affine(((e.name, 1),), 0)
            if e.name not in symbols:
                from einsim.errors import did_you_mean

                raise EinsimError(f"unknown size {e.name!r} in an index expression" + did_you_mean(e.name, symbols), at(e))
            value = symbols[e.name]
            if value != int(value):
                raise EinsimError(f"{e.name} = {value} is not a whole number and cannot index a rank", at(e))
            return Affine((), int(value))
        if isinstance(e, sx.Neg):
            return _scale(conv(e.operand), -1)
        if isinstance(e, sx.BinOp):
            left, right = conv(e.left), conv(e.right)
            if e.op in "+-":
                return _combine(left, right, 1 if e.op == "+" else -1)
            if e.op == "*":
                if left.is_const:
                    return _scale(right, left.const)
                if right.is_const:
                    return _scale(left, right.const)
                raise EinsimError("index expressions must be affine: a product of two index variables is not", at(e))
            raise EinsimError("division is not allowed in an index expression", at(e))
        raise EinsimError("a tensor access or function call cannot be used as an index", at(e))

    return conv(expr)


@dataclass(frozen=True)
class Condition:
    """``left op right`` between affine expressions; one link of a filter chain."""

    left: Affine
    op: str
    right: Affine

    def holds(self, env: Mapping[str, np.ndarray | int]) -> np.ndarray | bool:
        a, b = self.left.evaluate(env), self.right.evaluate(env)
        return {
            "<": np.less, "<=": np.less_equal, ">": np.greater,
            ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal,
        }[self.op](a, b)

    @property
    def vars(self) -> set[str]:
        return set(self.left.vars) | set(self.right.vars)

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


def to_conditions(compares: tuple[sx.Compare, ...], symbols: Mapping[str, float], where: Location) -> list[Condition]:
    """Split chained comparisons into links: ``a < b <= c`` becomes ``a < b`` and ``b <= c``."""
    out: list[Condition] = []
    for cmp in compares:
        operands = [to_affine(o, symbols, where) for o in cmp.operands]
        for op, a, b in zip(cmp.ops, operands, operands[1:]):
            out.append(Condition(a, op, b))
    return out
