"""compiler: RASP programs → exact causal transformer weights (PyTorch).

    import rasp, compiler
    prog = rasp.load("programs/hist.rasp")
    model = compiler.compile(prog, vocab="abcd", max_len=16)
    model.run(list("abba"))            # == prog.run(list("abba"))
    compiler.verify(prog, model, n=500)  # agreement rate, 1.0

torch is imported only when a model is built or loaded, so `import compiler` stays cheap.
"""

from __future__ import annotations

from typing import Any

from .api import Agreement, compile, verify
from .errors import CompileError
from .limit import LimitModel, compile_limit

__all__ = [
    "LimitModel",
    "compile_limit",
    "Agreement",
    "CausalTransformer",
    "CompileError",
    "DecodeSpec",
    "TransformerConfig",
    "compile",
    "load",
    "save",
    "to_hooked_transformer",
    "verify",
]


def __getattr__(name: str) -> Any:
    if name in ("CausalTransformer", "TransformerConfig", "DecodeSpec"):
        from . import model

        return getattr(model, name)
    if name in ("save", "load"):
        from . import export

        return getattr(export, name)
    if name == "to_hooked_transformer":
        from .transformer_lens import to_hooked_transformer

        return to_hooked_transformer
    raise AttributeError(f"module 'compiler' has no attribute {name!r}")
