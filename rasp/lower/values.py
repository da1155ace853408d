"""What an expression lowers to: a compile-time constant, an s-op or selector in the graph, or a function;
and the scopes that bind names to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from .. import syntax as S

LIBRARY_DIR = Path(__file__).parent.parent / "lib"  # the standard library (`load "std";`)


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class SOpRef:
    id: int


@dataclass(frozen=True)
class SelRef:
    id: int


@dataclass(frozen=True, eq=False)
class Function:
    definition: S.FuncDef
    env: Env


@dataclass(frozen=True, eq=False)
class LambdaValue:
    node: S.Lambda
    env: Env


@dataclass(frozen=True)
class Builtin:
    name: str


@dataclass(frozen=True, eq=False)
class ListValue:
    """A list (or `a, b` tuple) known when the program is built that holds s-ops, selectors or functions (a list
    of constants only is a `Const`)."""

    items: tuple[Value, ...]


@dataclass(frozen=True, eq=False)
class DictValue:
    """A dict with constant keys whose values include s-ops, selectors or functions (`{e: select(...) for e in
    elements}`)."""

    items: tuple[tuple[Any, Value], ...]


@dataclass(frozen=True)
class Applied:
    """An s-op or selector applied to an input, `hist("hello")` (the original RASP REPL's way of showing values);
    `draw(hist, "hello")` is one to draw."""

    target: SOpRef | SelRef
    example: Any
    draw: bool = False


Value = Union[Const, SOpRef, SelRef, Function, LambdaValue, Builtin, ListValue, DictValue, Applied]

# Conversions are the original RASP's `tokens_str`, `tokens_int`, … as functions.
SCALAR_BUILTINS = {"indicator": 1, "round": 1, "abs": 1, "min": 2, "max": 2, "str": 1, "int": 1, "float": 1, "bool": 1}
# Built when the program is built, from constants: range(3), zip(a, b), len(a).
CONSTANT_BUILTINS = {"range", "zip", "len"}
BUILTIN_FUNCTIONS = {"map", "zipmap", "seq_map", "select", "aggregate", "selector_width", "numerical", "categorical"}
BUILTIN_FUNCTIONS |= set(SCALAR_BUILTINS) | CONSTANT_BUILTINS | {"draw"}
# tokens_str = str(tokens), …: the original RASP's typed views of the input.
TOKEN_VIEWS = {"tokens_str": "str", "tokens_int": "int", "tokens_float": "float", "tokens_bool": "bool"}
BUILTIN_SOPS = {"tokens", "indices", "length", "tokens_asis", *TOKEN_VIEWS}


@dataclass
class Env:
    """A scope: the file's top level, or one call of a function (whose parent is where it was defined)."""

    parent: Env | None = None
    names: dict[str, Value] = field(default_factory=dict)

    def lookup(self, name: str) -> Value | None:
        env: Env | None = self
        while env is not None:
            if name in env.names:
                return env.names[name]
            env = env.parent
        return None

    def visible(self) -> set[str]:
        names: set[str] = set()
        env: Env | None = self
        while env is not None:
            names |= set(env.names)
            env = env.parent
        return names


def describe_value(value: Value) -> str:
    if isinstance(value, Const):
        return f"the constant {value.value!r}"
    if isinstance(value, SOpRef):
        return "an s-op"
    if isinstance(value, SelRef):
        return "a selector"
    if isinstance(value, (Function, Builtin)):
        return "a function"
    if isinstance(value, ListValue):
        return "a list holding s-ops"
    if isinstance(value, DictValue):
        return "a dict holding s-ops"
    if isinstance(value, Applied):
        return "an s-op applied to an input"
    return "a lambda"
