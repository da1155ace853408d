"""Syntax tree → s-op graph: names resolved, functions inlined, constants folded, s-ops shared.

`lowerer.py` walks statements and expressions; `builtins.py` lowers the built-in functions and selector
algebra; `compound.py` the original RASP's build-time lists, dicts, loops and `in`; `values.py` holds what an
expression lowers to (a constant, an s-op, a selector, a function, a list of them).
"""

from .lowerer import LIBRARY_DIR, MODES, Lowerer
from .values import Applied, Builtin, Const, DictValue, Env, Function, LambdaValue, ListValue, SelRef, SOpRef, Value

__all__ = [
    "LIBRARY_DIR",
    "MODES",
    "Applied",
    "DictValue",
    "ListValue",
    "Builtin",
    "Const",
    "Env",
    "Function",
    "LambdaValue",
    "Lowerer",
    "SelRef",
    "SOpRef",
    "Value",
]
