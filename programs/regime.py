"""The authors' training regimes, as data: programs/authors/<name>.json.

A regime file lists, per task and positional encoding, every setting of the authors' runs (model, optimizer,
schedule, lengths, bins, seeds, the architecture their sweep chose) as `{value, source}`: the source names the
file, function and lines of their code it comes from, or says "not in the code: ..." with what was inferred and
why. Profiles and the `--select authors` rule read their values from here, so that each cites its origin
(docs/authors_protocol.md describes the rules in words).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REGIME_DIR = Path(__file__).parent / "authors"
PES = ("ape", "nope", "reg")  # APE, NoPE, APE with the position regularizer

# What every algorithmic entry states (programs/authors/algorithmic.json).
ALGORITHMIC_FIELDS = (
    "their_task",
    "dataset_class",
    "positional_encoding",
    "regularizer_coefficient",
    "regularizer",
    "layers",
    "heads",
    "width",
    "mlp_width",
    "dropout",
    "tied_embeddings",
    "vocabulary_size",
    "position_table",
    "learning_rate",
    "optimizer",
    "weight_decay",
    "grad_clip_norm",
    "precision",
    "batch_size",
    "max_steps",
    "warmup_steps",
    "schedule",
    "eval_every",
    "early_stopping",
    "metric",
    "train_lengths",
    "min_length",
    "length_unit",
    "length_distribution",
    "test_bins",
    "examples_per_bin",
    "train_position_offset",
    "test_position_offset",
    "seed_rule",
    "reported",
    "selected_architecture",
    "selected_by",
)


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
class Setting:
    value: Any
    source: str


@dataclass(frozen=True)
class Regime:
    name: str
    repository: str
    commit: str
    sweep: Setting
    entries: dict[tuple[str, str], dict[str, Setting]]  # (task, pe) -> field -> setting

    def entry(self, task: str, pe: str) -> dict[str, Setting]:
        from rasp.errors import RaspInputError

        if (task, pe) not in self.entries:
            raise RaspInputError(f"the authors' {self.name} regime has no entry for {task} with {pe}")
        return self.entries[(task, pe)]


def _setting(raw: Any, where: str) -> Setting:
    from rasp.errors import RaspInputError

    if not isinstance(raw, dict) or set(raw) != {"value", "source"}:
        raise RaspInputError(f"{where}: expected {{value, source}}, got {raw!r}")
    if not isinstance(raw["source"], str) or not raw["source"].strip():
        raise RaspInputError(f"{where}: no source")
    return Setting(raw["value"], raw["source"])


def _read(path: Path) -> dict:
    from rasp.errors import RaspInputError

    if not path.exists():
        raise RaspInputError(f"{path}: no such regime file")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise RaspInputError(f"{path}:{error.lineno}:{error.colno}: not JSON ({error.msg})") from None


@cache
def load_regime(name: str = "algorithmic", fields: tuple[str, ...] = ALGORITHMIC_FIELDS) -> Regime:
    """programs/authors/<name>.json, checked: every entry has every one of `fields`, each with a source."""
    from rasp.errors import RaspInputError

    path = REGIME_DIR / f"{name}.json"
    raw = _read(path)
    entries: dict[tuple[str, str], dict[str, Setting]] = {}
    for item in raw["entries"]:
        key = (item["task"], item["pe"])
        where = f"{path.name}: {key[0]}/{key[1]}"
        if key[1] not in PES:
            raise RaspInputError(f"{where}: unknown positional encoding (expected one of {', '.join(PES)})")
        if key in entries:
            raise RaspInputError(f"{where}: listed twice")
        missing = [f for f in fields if f not in item]
        if missing:
            raise RaspInputError(f"{where}: missing {', '.join(missing)}")
        entries[key] = {f: _setting(item[f], f"{where}: {f}") for f in item if f not in ("task", "pe")}
    sweep = _setting(raw["sweep"], f"{path.name}: sweep")
    return Regime(name, raw["repository"], raw["commit"], sweep, entries)


@cache
def load_formal(name: str = "formal") -> dict[str, dict[str, Setting]]:
    """The formal languages' regime: task id → field → Setting, from programs/authors/<name>.json."""
    path = REGIME_DIR / f"{name}.json"
    return {
        task: {field: _setting(item, f"{path.name}: {task}.{field}") for field, item in entry.items()}
        for task, entry in _read(path).get("languages", {}).items()
    }


def length_windows(task: str) -> list[tuple[int, int]]:
    """The authors' length windows for a formal language: the training window (test bin 0) and every longer
    test bin, in their order (bins may repeat or overlap: docs/authors_protocol.md)."""
    from rasp.errors import RaspInputError

    regime = load_formal()
    if task not in regime:
        raise RaspInputError(f"no authors' regime for '{task}' (formal languages: {', '.join(regime)})")
    return [(low, high) for low, high in regime[task]["test_bins"].value]
