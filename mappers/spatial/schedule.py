"""Schedules as data: how the Einsums of a cascade overlap, as a small expression over their times.

Grammar (our own; never ``eval``)::

    expr   := term ('+' term)*                 # '+' adds (one after the other)
    term   := factor ('*' factor)*             # '*' scales, e.g. M0*LM
    factor := NUMBER | NAME | CALL | '(' expr ')'
    CALL   := ('seq' | 'par' | 'mem') '(' [expr (',' expr)*] ')'

``seq(a, b, ...)`` is a + b + ...; ``par(a, b, ...)`` is max(a, b, ...): they run at once on
different hardware. A NAME is an Einsum (its compute time on its bound unit) or a mapping
parameter (M0, P0, ...). ``mem(QK, SN)`` is the DRAM time of the traffic of those Einsums, and a
bare ``mem`` the DRAM time of all of them. FuseMax's binding is::

    par(seq(par(QK+LM, RD+RNV+AV), RM, par(SLN+SLD, PRM+SPD), par(SLNV, SPNV)), mem)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from einsim.errors import EinsimError, did_you_mean

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*(),]))")
_CALLS = ("seq", "par", "mem")


@dataclass(frozen=True)
class Node:
    kind: str  # "num", "name", "sum", "prod", "seq", "par", "mem"
    value: float = 0.0
    name: str = ""
    args: tuple["Node", ...] = ()

    def names(self) -> set[str]:
        """Every NAME the schedule refers to (the arguments of mem(...) included)."""
        out = {self.name} if self.kind == "name" else set()
        for a in self.args:
            out |= a.names()
        return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                bad = pos + len(text[pos:]) - len(text[pos:].lstrip())
                raise EinsimError(f"schedule {text!r}: unexpected character {text[bad]!r} at column {bad + 1}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind) + 1))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise EinsimError(f"schedule {self.text!r}: unexpected end" + (f", expected {want!r}" if want else ""))
        if want is not None and tok[1] != want:
            raise EinsimError(f"schedule {self.text!r}: expected {want!r} at column {tok[2]}, got {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self) -> Node:
        terms = [self.term()]
        while (tok := self.peek()) is not None and tok[1] == "+":
            self.take()
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else Node("sum", args=tuple(terms))

    def term(self) -> Node:
        factors = [self.factor()]
        while (tok := self.peek()) is not None and tok[1] == "*":
            self.take()
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else Node("prod", args=tuple(factors))

    def factor(self) -> Node:
        kind, text, col = self.take()
        if kind == "num":
            return Node("num", value=float(text))
        if text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind != "name":
            raise EinsimError(f"schedule {self.text!r}: unexpected {text!r} at column {col}")
        nxt = self.peek()
        if text in _CALLS and nxt is not None and nxt[1] == "(":
            self.take("(")
            args: list[Node] = []
            if (tok := self.peek()) is not None and tok[1] != ")":
                args.append(self.expr())
                while (tok := self.peek()) is not None and tok[1] == ",":
                    self.take()
                    args.append(self.expr())
            self.take(")")
            if text == "mem" and any(a.kind != "name" for a in args):
                raise EinsimError(f"schedule {self.text!r}: mem(...) takes Einsum names (column {col})")
            if text != "mem" and not args:
                raise EinsimError(f"schedule {self.text!r}: {text}() needs at least one argument (column {col})")
            return Node(text, args=tuple(args))
        if text == "mem":
            return Node("mem")
        return Node("name", name=text)


def parse_schedule(text: str) -> Node:
    """Parse a schedule expression; errors name the column."""
    p = _Parser(text)
    node = p.expr()
    tok = p.peek()
    if tok is not None:
        raise EinsimError(f"schedule {text!r}: unexpected {tok[1]!r} at column {tok[2]}")
    return node


def evaluate_schedule(node: Node, times: Mapping[str, float], params: Mapping[str, float],
                      mem: Callable[[tuple[str, ...] | None], float]) -> float:
    """The value of a schedule: ``times`` per Einsum, ``params`` for mapping parameters, and
    ``mem(names)`` the DRAM time of the named Einsums' traffic (``None``: all of it)."""
    k = node.kind
    if k == "num":
        return node.value
    if k == "name":
        if node.name in times:
            return times[node.name]
        if node.name in params:
            return float(params[node.name])
        raise EinsimError(f"schedule names {node.name!r}, which is neither an Einsum nor a parameter"
                          + did_you_mean(node.name, [*times, *params]))
    if k == "mem":
        return mem(tuple(a.name for a in node.args) if node.args else None)
    vals = [evaluate_schedule(a, times, params, mem) for a in node.args]
    if k in ("sum", "seq"):
        return sum(vals)
    if k == "par":
        return max(vals)
    out = 1.0
    for v in vals:  # "prod"
        out *= v
    return out
