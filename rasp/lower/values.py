"""What an expression lowers to: a compile-time constant, an s-op or selector in the graph, or a function;
and the scopes that bind names to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .. import syntax as S


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


Value = Union[Const, SOpRef, SelRef, Function, LambdaValue, Builtin]

SCALAR_BUILTINS = {"indicator": 1, "round": 1, "abs": 1, "min": 2, "max": 2}
BUILTIN_FUNCTIONS = {"map", "zipmap", "seq_map", "select", "aggregate", "selector_width", "numerical", "categorical"}
BUILTIN_FUNCTIONS |= set(SCALAR_BUILTINS)
BUILTIN_SOPS = {"tokens", "indices", "length"}


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


def _kind_of(value: Value) -> str:
    if isinstance(value, Const):
        return f"the constant {value.value!r}"
    if isinstance(value, SOpRef):
        return "an s-op"
    if isinstance(value, SelRef):
        return "a selector"
    if isinstance(value, (Function, Builtin)):
        return "a function"
    return "a lambda"
