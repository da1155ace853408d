"""Save and load compiled (or trained) models: safetensors weights plus a JSON sidecar.

`save(model, "m.safetensors")` writes the weights and `m.json`: the model config, and for compiled models the
vocabulary, max_len, mode, residual labels and output decoding. The same JSON is also stored in the
safetensors metadata, so the weights file alone is enough to `load`. The JSON carries a SHA-256 of the
weights and of the program's source, both checked by `load`: a corrupted byte, or another model's metadata
or sidecar, is refused instead of producing wrong values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rasp.errors import RaspInputError

FORMAT = "rasp-toolkit/causal-transformer"
VERSION = 2  # 2: weights_sha256 and program_sha256 (version 1 files carry neither and load unchecked)


def weights_sha256(tensors: dict) -> str:
    """A checksum of every tensor's name, dtype, shape and bytes, in name order."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().contiguous().cpu()
        digest.update(f"{name}:{str(tensor.dtype)}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def program_sha256(source: str | None) -> str | None:
    return None if source is None else hashlib.sha256(source.encode("utf-8")).hexdigest()


def describe(model, tensors: dict | None = None) -> dict:
    info: dict[str, Any] = {"format": FORMAT, "version": VERSION, "config": model.cfg.to_dict()}
    if model.spec is not None:
        info["spec"] = model.spec.to_dict()
        info["dtype"] = str(next(model.parameters()).dtype).replace("torch.", "")
        info["program_sha256"] = program_sha256(model.spec.source)
    if tensors is not None:
        info["weights_sha256"] = weights_sha256(tensors)
    return info


def check_output_path(path: str | Path) -> Path:
    """Where `save` will write, refused before any work when it cannot (checked again by the write itself)."""
    path = Path(path)
    for target in (path, path.with_suffix(".json")):
        if target.is_dir():
            raise RaspInputError(
                f"cannot write {target}: it is a directory; give a file name such as model.safetensors"
            )
    if not path.parent.is_dir():
        raise RaspInputError(f"cannot write {path}: the directory {path.parent} does not exist")
    return path


def save(model, path: str | Path) -> Path:
    """Write `path` (safetensors) and its JSON sidecar (same name, .json); returns the sidecar's path."""
    from safetensors.torch import save_file

    path = check_output_path(path)
    sidecar = path.with_suffix(".json")
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    text = json.dumps(describe(model, tensors), indent=1, default=str)
    try:
        save_file(tensors, str(path), metadata={"rasp_toolkit": text})
        sidecar.write_text(text + "\n")
    except OSError as exc:
        raise RaspInputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return sidecar


def _metadata(path: Path) -> tuple[dict, dict]:
    """The tensors and the model description of a safetensors file (from its metadata, else its sidecar)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if not path.is_file():
        raise RaspInputError(f"cannot read {path}: no such file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - anything unreadable is the user's file problem
        raise RaspInputError(f"cannot read {path} as safetensors: {exc}") from None
    text, where = metadata.get("rasp_toolkit"), f"{path}'s metadata"
    if text is None:
        sidecar = path.with_suffix(".json")
        if not sidecar.is_file():
            raise RaspInputError(f"{path} has no rasp-toolkit metadata and no sidecar {sidecar}")
        try:
            text, where = sidecar.read_text(encoding="utf-8"), str(sidecar)
        except (OSError, UnicodeDecodeError) as exc:
            raise RaspInputError(f"cannot read {sidecar}: {exc}") from None
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RaspInputError(f"{where} is not JSON ({exc})") from None
    if not isinstance(info, dict) or not isinstance(info.get("config"), dict):
        raise RaspInputError(f"{where} does not describe a model (no 'config')")
    return tensors, info


def _check_spec(spec, cfg, where: str) -> None:
    """A decoding that fits the network: one vocabulary entry per input id, one output value per unit."""
    if not isinstance(spec.vocab, list) or len(spec.vocab) != cfg.vocab_size:
        raise RaspInputError(f"{where}: the vocabulary does not match the model's {cfg.vocab_size} input ids")
    n_out = cfg.n_out or cfg.vocab_size
    if spec.output_kind == "categorical":
        if not isinstance(spec.output_values, list) or len(spec.output_values) != n_out:
            raise RaspInputError(f"{where}: a categorical output needs one value per output unit ({n_out})")
    elif spec.output_kind != "numerical" or not isinstance(spec.output_values, list | None):
        raise RaspInputError(f"{where}: unknown output kind {spec.output_kind!r}")
    if not isinstance(spec.max_len, int) or not 0 < spec.max_len <= cfg.max_len:
        raise RaspInputError(f"{where}: max_len {spec.max_len!r} does not fit the model's {cfg.max_len}")


def load(path: str | Path, device: Any = None):
    """A `CausalTransformer` from a file written by `save` (the sidecar is used when the metadata is absent)."""
    import torch

    from .api import check_device
    from .model import CausalTransformer, DecodeSpec, TransformerConfig

    if not isinstance(path, str | Path):
        raise RaspInputError(f"load() needs a file path, not {type(path).__name__}")
    path = Path(path)
    device = check_device(device)
    tensors, info = _metadata(path)
    where = str(path)
    expected = info.get("weights_sha256")
    if expected is not None and expected != weights_sha256(tensors):
        raise RaspInputError(
            f"{where}: the weights do not match the checksum in the model description (a corrupted file, or "
            "another model's metadata or sidecar)"
        )
    if info.get("version", 1) >= 2 and expected is None:
        raise RaspInputError(f"{where}: the model description has no weights checksum")
    try:
        cfg = TransformerConfig(**info["config"])
        spec = DecodeSpec(**info["spec"]) if info.get("spec") is not None else None
        if spec is not None:
            _check_spec(spec, cfg, where)
            if "program_sha256" in info and info["program_sha256"] != program_sha256(spec.source):
                raise RaspInputError(f"{where}: the program in the model description does not match its checksum")
        with torch.device("meta"):  # shapes first: a description that does not fit allocates nothing
            model = CausalTransformer(cfg, spec)
        shapes = {name: tuple(t.shape) for name, t in model.state_dict().items()}
        if shapes != {name: tuple(t.shape) for name, t in tensors.items()}:
            raise RaspInputError(f"{where}: the model description does not fit the weights (their shapes differ)")
        dtype = next(iter(tensors.values())).dtype if tensors else torch.float32
        model = model.to_empty(device="cpu").to(dtype=dtype)
        model.load_state_dict(tensors)
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        raise RaspInputError(f"{where}: the model description does not fit the weights ({exc})") from None
    if device is not None:
        model.to(device)
    model.eval()
    return model
