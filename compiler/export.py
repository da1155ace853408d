"""Save and load compiled (or trained) models: safetensors weights plus a JSON sidecar.

`save(model, "m.safetensors")` writes the weights and `m.json`: the model config, and for compiled models the
vocabulary, max_len, mode, residual labels and output decoding. The same JSON is also stored in the
safetensors metadata, so the weights file alone is enough to `load`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasp.errors import RaspInputError


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return value  # keep floats floats
    return value


def describe(model) -> dict:
    info: dict[str, Any] = {"format": "rasp-toolkit/causal-transformer", "version": 1, "config": model.cfg.to_dict()}
    if model.spec is not None:
        info["spec"] = model.spec.to_dict()
        info["dtype"] = str(next(model.parameters()).dtype).replace("torch.", "")
    return info


def save(model, path: str | Path) -> Path:
    """Write `path` (safetensors) and its JSON sidecar (same name, .json); returns the sidecar's path."""
    from safetensors.torch import save_file

    path = Path(path)
    info = describe(model)
    text = json.dumps(info, indent=1, default=str)
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"rasp_toolkit": text})
    sidecar = path.with_suffix(".json")
    sidecar.write_text(text + "\n")
    return sidecar


def load(path: str | Path, device: Any = None):
    """A `CausalTransformer` from a file written by `save` (the sidecar is used when the metadata is absent)."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    from .model import CausalTransformer, DecodeSpec, TransformerConfig

    path = Path(path)
    if not path.is_file():
        raise RaspInputError(f"cannot read {path}: no such file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - anything unreadable is the user's file problem
        raise RaspInputError(f"cannot read {path} as safetensors: {exc}") from None
    text = metadata.get("rasp_toolkit")
    if text is None:
        sidecar = path.with_suffix(".json")
        if not sidecar.is_file():
            raise RaspInputError(f"{path} has no rasp-toolkit metadata and no sidecar {sidecar}")
        text = sidecar.read_text()
    info = json.loads(text)
    cfg = TransformerConfig(**info["config"])
    spec = DecodeSpec(**info["spec"]) if "spec" in info else None
    model = CausalTransformer(cfg, spec)
    dtype = next(iter(tensors.values())).dtype if tensors else torch.float32
    model.to(dtype=dtype)
    model.load_state_dict(tensors)
    if device is not None:
        model.to(device)
    model.eval()
    return model
