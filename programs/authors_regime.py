"""The authors' training regime, as data: programs/authors/<suite>.json, one entry per task, every value with its
source (a file and key of lacoco-lab/length_generalization, or "not in the code: ...").

Kept as JSON rather than Python so the numbers can be diffed against the authors' configs and cited one by one
(docs/authors_protocol.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rasp.errors import RaspInputError

REGIME_DIR = Path(__file__).parent / "authors"

# What every formal-language entry states (docs/authors_protocol.md, "Formal languages").
FORMAL_FIELDS = (
    "authors_dir",
    "dataset_config",
    "training_size",
    "test_size",
    "training_set_duplicates",
    "epochs",
    "batch_size",
    "model",
    "optimizer",
    "learning_rate",
    "schedule",
    "weight_decay",
    "dropout",
    "positional_encodings",
    "position_offset",
    "train_lengths",
    "len_incr",
    "test_bins",
    "generator",
    "label_format",
    "stopping_rule",
    "seeds",
    "selection",
    "shipped_data",
)


@dataclass(frozen=True)
class Sourced:
    """A value of the authors' regime and where it was read (None when the code does not fix it)."""

    value: object
    source: str


@cache
def load_regime(suite: str = "formal") -> dict[str, dict[str, Sourced]]:
    """task id → field → Sourced, from programs/authors/<suite>.json."""
    path = REGIME_DIR / f"{suite}.json"
    if not path.exists():
        raise RaspInputError(f"{path}: no such regime file")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise RaspInputError(f"{path}:{error.lineno}:{error.colno}: not JSON ({error.msg})") from None
    regime: dict[str, dict[str, Sourced]] = {}
    for task, entry in data.get("languages", data.get("tasks", {})).items():
        fields = {}
        for name, item in entry.items():
            if not isinstance(item, dict) or set(item) != {"value", "source"} or not item["source"]:
                raise RaspInputError(f"{path}: {task}.{name} must be {{'value': ..., 'source': '<file: key>'}}")
            fields[name] = Sourced(item["value"], item["source"])
        regime[task] = fields
    return regime


def length_windows(task: str) -> list[tuple[int, int]]:
    """The authors' length windows for a formal language: the training window (test bin 0) and every longer
    test bin, in their order (bins may repeat or overlap: docs/authors_protocol.md)."""
    regime = load_regime("formal")
    if task not in regime:
        raise RaspInputError(f"no authors' regime for '{task}' (formal languages: {', '.join(regime)})")
    return [(low, high) for low, high in regime[task]["test_bins"].value]
