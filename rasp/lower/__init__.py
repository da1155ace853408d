"""Syntax tree → s-op graph: names resolved, functions inlined, constants folded, s-ops shared.

`lowerer.py` walks statements and expressions; `builtins.py` lowers the built-in functions and selector
algebra; `values.py` holds what an expression lowers to (a constant, an s-op, a selector, a function).
"""

from .lowerer import LIBRARY_DIR, MODES, Lowerer
from .values import Builtin, Const, Env, Function, LambdaValue, SelRef, SOpRef, Value

__all__ = [
    "LIBRARY_DIR",
    "MODES",
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
