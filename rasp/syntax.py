"""The typed syntax tree: what the parser produces and the printer turns back into text.

Every node carries the source span it came from, so later stages can point at the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .errors import Span

NO_SPAN = Span("<none>", 0, 0, 0, 0)


@dataclass(frozen=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


# ---- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number(Node):
    value: int | float


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class DictLit(Node):
    items: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True)
class TupleLit(Node):
    """`a, b`: several values at once, on the right of an assignment or after `return`."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ListComp(Node):
    """`[value for targets in iterable]`, unrolled when the program is built."""

    value: Expr
    targets: tuple[str, ...]
    iterable: Expr


@dataclass(frozen=True)
class DictComp(Node):
    """`{key: value for targets in iterable}`, unrolled when the program is built."""

    key: Expr
    value: Expr
    targets: tuple[str, ...]
    iterable: Expr


@dataclass(frozen=True)
class BinOp(Node):
    """Arithmetic (+ - * / // %), comparisons (== != < <= > >=), membership (in) and logic (and, or)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnaryOp(Node):
    op: str  # "-", "+" or "not"
    operand: Expr


@dataclass(frozen=True)
class IfExp(Node):
    body: Expr
    test: Expr
    orelse: Expr


@dataclass(frozen=True)
class Index(Node):
    table: Expr
    key: Expr


@dataclass(frozen=True)
class Lambda(Node):
    params: tuple[str, ...]
    body: Expr


@dataclass(frozen=True)
class Operator(Node):
    """A bare comparison operator passed as an argument: select(keys, queries, ==)."""

    op: str


@dataclass(frozen=True)
class Keyword(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...] = ()


Expr = Union[
    Number,
    String,
    Bool,
    Name,
    ListLit,
    DictLit,
    TupleLit,
    ListComp,
    DictComp,
    BinOp,
    UnaryOp,
    IfExp,
    Index,
    Lambda,
    Operator,
    Call,
]

# ---- statements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assign(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Unpack(Node):
    """`a, b = value;` where value has exactly as many items."""

    names: tuple[str, ...]
    value: Expr


@dataclass(frozen=True)
class FuncDef(Node):
    name: str
    params: tuple[str, ...]
    body: tuple[Statement, ...]  # assignments, functions, loops and bare expressions
    result: Expr


@dataclass(frozen=True)
class ForLoop(Node):
    """`for targets in iterable { body }`, unrolled when the program is built; its names are the enclosing scope's."""

    targets: tuple[str, ...]
    iterable: Expr
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class Load(Node):
    module: str


@dataclass(frozen=True)
class Directive(Node):
    """`@mode causal|bidirectional;` or `@output NAME;`."""

    name: str
    value: str


@dataclass(frozen=True)
class ExprStmt(Node):
    value: Expr


@dataclass(frozen=True)
class ReplCommand(Node):
    """One of the original RASP REPL's settings written as a statement: `set example "abc"`, `show example`,
    `full seq display on`, `exit`. `words` is the command without its argument (`set s-op example`)."""

    words: str
    example: Expr | None = None


Statement = Union[Assign, Unpack, FuncDef, ForLoop, Load, Directive, ReplCommand, ExprStmt]


@dataclass(frozen=True)
class Module(Node):
    statements: tuple[Statement, ...]
