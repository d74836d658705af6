"""Tokenizer and parser for one line of the cascade language, with positioned errors.

Grammar (one Einsum a line; ``#`` starts a comment):

    line    := [NAME ':'] access '=' [reduce] expr
    reduce  := ('sum' | 'max' | 'min') 'over' NAME {',' NAME} ':'
             | 'top' (INT | SIZE) 'over' NAME ':'
    expr    := term {('+' | '-') term}
    term    := unary {('*' | '/') unary}
    unary   := '-' unary | atom
    atom    := NUMBER | 'inf' | NAME '(' expr {',' expr} ')' | access | NAME | '(' expr ')'
    access  := NAME '[' [index {',' index}] ']'
    index   := expr [':' cond]                       # e.g. k: k <= i   (a filter)
    cond    := expr CMP expr {CMP expr} {'and' cond} # chained comparisons, e.g. p-W < m <= p

Index expressions reuse ``expr``; the cascade builder checks that they are affine integer
expressions of index variables (lower case) and sizes (upper case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from einsim.errors import EinsimError, Location

# ---------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Num:
    value: float
    col: int
    text: str = ""  # the literal as written, for exact (rational) size arithmetic


@dataclass(frozen=True)
class Name:
    name: str
    col: int


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
    col: int


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * /
    left: "Expr"
    right: "Expr"
    col: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple["Expr", ...]
    col: int


@dataclass(frozen=True)
class Compare:
    """A chain ``a < b <= c`` stored as operands and the operators between them."""

    operands: tuple["Expr", ...]
    ops: tuple[str, ...]
    col: int


@dataclass(frozen=True)
class Index:
    expr: "Expr"
    filter: tuple[Compare, ...] = ()


@dataclass(frozen=True)
class Access:
    tensor: str
    indices: tuple[Index, ...]
    col: int


Expr = Num | Name | Neg | BinOp | Call | Access


@dataclass(frozen=True)
class Reduce:
    op: str  # sum, max, min or top
    over: tuple[str, ...]
    k: int = 0  # for top: the count, or 0 when k_name gives it
    k_name: str | None = None
    col: int = 0


@dataclass(frozen=True)
class Statement:
    name: str | None
    output: Access
    reduce: Reduce | None
    expr: Expr
    text: str
    location: Location = field(default_factory=Location)


# ---------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d*\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op><=|>=|==|!=|[-+*/()\[\],:=<>]))"
)

REDUCERS = ("sum", "max", "min")
# Parentheses, brackets and calls nest at most MAX_NESTING deep while parsing, and a parsed tree
# is at most MAX_TREE_DEPTH deep (a chain of n binary operators is n deep), so that parsing and
# every later recursive walk of the tree stay far from Python's recursion limit.
MAX_NESTING = 50
MAX_TREE_DEPTH = 200
COMPARATORS = ("<", "<=", ">", ">=", "==", "!=")


@dataclass(frozen=True)
class Token:
    kind: str  # num, name, op, end
    text: str
    col: int  # 1-based column within the parsed text


def tokenize(text: str, where: Location = Location()) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            bad = text[pos:].lstrip()
            col = len(text) - len(bad) + 1
            raise EinsimError(f"unexpected character {bad[0]!r}", _shift(where, col))
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _shift(where: Location, col: int) -> Location:
    """Location of column ``col`` of a text that starts at ``where``."""
    if where.line <= 0:
        return Location(where.file, where.line, col)
    return Location(where.file, where.line, max(where.column, 1) + col - 1)


# ---------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, where: Location):
        self.text = text
        self.where = where
        self.tokens = tokenize(text, where)
        self.i = 0
        self.depth = 0

    # helpers ------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.tokens[min(self.i + n, len(self.tokens) - 1)]

    def error(self, message: str, col: int | None = None) -> EinsimError:
        return EinsimError(message, _shift(self.where, col if col is not None else self.tok.col))

    def describe(self, tok: Token) -> str:
        return "end of line" if tok.kind == "end" else repr(tok.text)

    def take(self, text: str, context: str = "") -> Token:
        if self.tok.text != text or self.tok.kind == "end":
            extra = f" {context}" if context else ""
            raise self.error(f"expected {text!r}{extra}, found {self.describe(self.tok)}")
        tok = self.tok
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in texts

    def take_name(self, what: str) -> Token:
        if self.tok.kind != "name":
            raise self.error(f"expected {what}, found {self.describe(self.tok)}")
        tok = self.tok
        self.i += 1
        return tok

    def finish(self) -> None:
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.describe(self.tok)} after the end of the expression")

    # grammar ------------------------------------------------------------------
    def statement(self) -> Statement:
        name = None
        if self.tok.kind == "name" and self.peek().text == ":":
            name = self.tok.text
            self.i += 2
        output = self.access_required("the output tensor, e.g. Z[m,n]")
        self.take("=", "between the output and the expression")
        reduce = self.reducer()
        expr = self.expr()
        self.finish()
        return Statement(name, output, reduce, expr, self.text, self.where)

    def reducer(self) -> Reduce | None:
        tok = self.tok
        if tok.kind != "name":
            return None
        if tok.text in REDUCERS and self.peek().text == "over":
            self.i += 2
            over = [self.take_name("an index variable after 'over'").text]
            while self.at(","):
                self.i += 1
                over.append(self.take_name("an index variable").text)
            self.take(":", f"after '{tok.text} over {', '.join(over)}'")
            return Reduce(tok.text, tuple(over), col=tok.col)
        if tok.text == "top" and self.peek().kind in ("num", "name") and self.peek(2).text == "over":
            k_tok = self.peek()
            if k_tok.kind == "num" and (not k_tok.text.isdigit() or int(k_tok.text) < 1):
                raise self.error("top needs a positive whole number or a size name, e.g. 'top 2 over m:'", k_tok.col)
            self.i += 3
            var = self.take_name("an index variable after 'over'").text
            self.take(":", f"after 'top {k_tok.text} over {var}'")
            k = int(k_tok.text) if k_tok.kind == "num" else 0
            return Reduce("top", (var,), k=k, k_name=None if k else k_tok.text, col=tok.col)
        return None

    def access_required(self, what: str) -> Access:
        tok = self.take_name(what)
        if not self.at("["):
            raise self.error(f"expected '[' after tensor {tok.text} (write {tok.text}[] for a scalar)")
        return self.access_rest(tok)

    def access_rest(self, name_tok: Token) -> Access:
        open_tok = self.take("[")
        indices: list[Index] = []
        if not self.at("]"):
            indices.append(self.index())
            while self.at(","):
                self.i += 1
                indices.append(self.index())
        if not self.at("]"):
            raise self.error(
                f"expected ',' or ']' to close the '[' of {name_tok.text} at column "
                f"{_shift(self.where, open_tok.col).column or open_tok.col}, found {self.describe(self.tok)}"
            )
        self.i += 1
        return Access(name_tok.text, tuple(indices), name_tok.col)

    def index(self) -> Index:
        expr = self.expr()
        filters: tuple[Compare, ...] = ()
        if self.at(":"):
            self.i += 1
            filters = self.conditions()
        return Index(expr, filters)

    def conditions(self) -> tuple[Compare, ...]:
        """Comparisons joined by ``and``."""
        conds = [self.compare()]
        while self.tok.kind == "name" and self.tok.text == "and":
            self.i += 1
            conds.append(self.compare())
        return tuple(conds)

    def compare(self) -> Compare:
        col = self.tok.col
        operands = [self.expr()]
        ops: list[str] = []
        while self.at(*COMPARATORS):
            ops.append(self.tok.text)
            self.i += 1
            operands.append(self.expr())
        if not ops:
            raise self.error(f"expected a comparison (<, <=, >, >=, ==, !=), found {self.describe(self.tok)}")
        return Compare(tuple(operands), tuple(ops), col)

    def expr(self) -> Expr:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise self.error(f"expression nested deeper than {MAX_NESTING} levels")
            return self._expr()
        finally:
            self.depth -= 1

    def _expr(self) -> Expr:
        left = self.term()
        while self.at("+", "-"):
            op = self.tok
            self.i += 1
            left = BinOp(op.text, left, self.term(), op.col)
        return left

    def term(self) -> Expr:
        left = self.unary()
        while self.at("*", "/"):
            op = self.tok
            self.i += 1
            left = BinOp(op.text, left, self.unary(), op.col)
        return left

    def unary(self) -> Expr:
        signs: list[Token] = []
        while self.at("-", "+"):
            signs.append(self.tok)
            self.i += 1
        if len(signs) > MAX_NESTING:
            raise self.error(f"more than {MAX_NESTING} signs in a row", signs[MAX_NESTING].col)
        out = self.atom()
        for tok in reversed(signs):
            if tok.text == "-":
                out = Neg(out, tok.col)
        return out

    def atom(self) -> Expr:
        tok = self.tok
        if tok.kind == "num":
            self.i += 1
            return Num(float(tok.text), tok.col, tok.text)
        if tok.kind == "name":
            self.i += 1
            if tok.text == "inf":
                return Num(float("inf"), tok.col, "inf")
            if self.at("("):
                open_tok = self.take("(")
                args = [self.expr()]
                while self.at(","):
                    self.i += 1
                    args.append(self.expr())
                if not self.at(")"):
                    raise self.error(
                        f"expected ',' or ')' to close the '(' of {tok.text}( at column "
                        f"{_shift(self.where, open_tok.col).column or open_tok.col}, found {self.describe(self.tok)}"
                    )
                self.i += 1
                return Call(tok.text, tuple(args), tok.col)
            if self.at("["):
                return self.access_rest(tok)
            return Name(tok.text, tok.col)
        if self.at("("):
            self.i += 1
            inner = self.expr()
            if not self.at(")"):
                raise self.error(
                    f"expected ')' to close the '(' at column {_shift(self.where, tok.col).column or tok.col}, "
                    f"found {self.describe(self.tok)}"
                )
            self.i += 1
            return inner
        raise self.error(f"expected an expression, found {self.describe(tok)}")


def _children(node: object) -> tuple:
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Access):
        return tuple(x for ix in node.indices for x in (ix.expr, *ix.filter))
    if isinstance(node, Compare):
        return node.operands
    if isinstance(node, Statement):
        return (node.output, node.expr)
    return ()


def _check_depth(root: object, where: Location) -> None:
    """Refuse a tree deeper than MAX_TREE_DEPTH (walked with an explicit stack, not recursion)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise EinsimError(f"expression nested deeper than {MAX_TREE_DEPTH} levels (operators, parentheses "
                              "and calls); split it", _shift(where, getattr(node, "col", 1) or 1))
        stack.extend((child, depth + 1) for child in _children(node))


def parse_statement(text: str, where: Location = Location()) -> Statement:
    """Parse one Einsum line (comments already stripped)."""
    statement = _Parser(text, where).statement()
    _check_depth(statement, where)
    return statement


def parse_expr(text: str, where: Location = Location()) -> Expr:
    """Parse a bare expression, e.g. a rank size ``M / M0`` or an index ``m1*M0+m0``."""
    parser = _Parser(text, where)
    expr = parser.expr()
    parser.finish()
    _check_depth(expr, where)
    return expr


def parse_condition(text: str, where: Location = Location()) -> tuple[Compare, ...]:
    """Parse a stop condition or filter: comparisons joined by ``and``."""
    parser = _Parser(text, where)
    conds = parser.conditions()
    parser.finish()
    for cond in conds:
        _check_depth(cond, where)
    return conds


def accesses_in(expr: Expr) -> list[Access]:
    """Every tensor access in an expression, left to right."""
    out: list[Access] = []

    def walk(e: Expr) -> None:
        if isinstance(e, Access):
            out.append(e)
        elif isinstance(e, Neg):
            walk(e.operand)
        elif isinstance(e, BinOp):
            walk(e.left)
            walk(e.right)
        elif isinstance(e, Call):
            for a in e.args:
                walk(a)

    walk(expr)
    return out
