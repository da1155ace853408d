"""Datasets in the authors' generated_ds format (lacoco-lab/length_generalization, formal_lang_suite/generated_ds/
<lang>/), read into our examples, so a run can train and test on the very strings they used.

The format (formal_lang_suite/dataset_utils.py: dump_datasets_locally, read_file; dataloader.py:
dump_data_to_file): a directory with train_src.txt / train_tgt.txt and, per test bin i = 0, 1, ...,
val_src_bin<i>.txt / val_tgt_bin<i>.txt. Line k of a *_src file is one string, its symbols one character each;
line k of the matching *_tgt file is its labels, one chunk of the language's chunk_size characters per symbol
(the label after that symbol's prefix), with nothing for the empty prefix. Lines are joined by newlines with
none after the last. Bin 0 holds strings of the training lengths; the others are the longer bins.

An example read here is the one `programs.formal_authors` would make for the string: `<bos> symbols`, the
label for the empty prefix at `<bos>` and the file's chunks after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rasp.errors import RaspInputError

from .formal_authors import AUTHORS, LABELS, SYMBOLS
from .regime import load_formal
from .task import BOS, Example

_BIN_FILE = re.compile(r"val_(src|tgt)_bin(\d+)\.txt")


@dataclass(frozen=True)
class AuthorsData:
    """One directory: the training set and each test bin (bin 0 first), as examples of `task`."""

    task: str
    train: list[Example]
    bins: list[list[Example]]


def task_for_directory(directory: Path) -> str:
    """Our task id for one of the authors' dataset directories (generated_ds/Tomita-3 → tomita_3)."""
    for task, entry in load_formal().items():
        if entry["authors_dir"].value == directory.name:
            return task
    names = ", ".join(entry["authors_dir"].value for entry in load_formal().values())
    raise RaspInputError(f"{directory}: not one of the authors' dataset names ({names}); give the task explicitly")


def read_authors_dir(directory: str | Path, task: str | None = None) -> AuthorsData:
    """The training set and test bins of a directory in the authors' format. `task` defaults to the one
    the directory's name belongs to."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RaspInputError(f"{directory}: no such directory")
    task = task or task_for_directory(directory)
    if task not in AUTHORS:
        raise RaspInputError(f"{task}: not a formal language ({', '.join(AUTHORS)})")
    train = _read_pair(directory / "train_src.txt", directory / "train_tgt.txt", task)
    found: dict[str, set[int]] = {"src": set(), "tgt": set()}
    for path in directory.iterdir():
        if match := _BIN_FILE.fullmatch(path.name):
            found[match.group(1)].add(int(match.group(2)))
    for side, other in (("src", "tgt"), ("tgt", "src")):
        if missing := sorted(found[side] - found[other]):
            raise RaspInputError(f"{directory / f'val_{side}_bin{missing[0]}.txt'}: no val_{other}_bin{missing[0]}.txt")
    numbers = sorted(found["src"])
    if numbers != list(range(len(numbers))):
        gap = next(i for i in range(len(numbers) + 1) if i not in numbers)
        raise RaspInputError(f"{directory}: test bins must be numbered 0, 1, ...; val_src_bin{gap}.txt is missing")
    bins = [_read_pair(directory / f"val_src_bin{i}.txt", directory / f"val_tgt_bin{i}.txt", task) for i in numbers]
    return AuthorsData(task, train, bins)


def _lines(path: Path) -> list[str]:
    if not path.exists():
        raise RaspInputError(f"{path}: missing (the authors' format: train_src.txt, train_tgt.txt, val_*_bin<i>.txt)")
    lines = path.read_text().split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines  # tolerate one final newline


def _read_pair(src_path: Path, tgt_path: Path, task: str) -> list[Example]:
    sources, targets = _lines(src_path), _lines(tgt_path)
    if len(sources) != len(targets):
        raise RaspInputError(f"{tgt_path}: {len(targets)} lines, but {src_path.name} has {len(sources)}")
    symbols, labels = set(SYMBOLS[task]), set(LABELS[task])
    chunk = len(LABELS[task][0])
    first = AUTHORS[task].label("")[0]
    examples = []
    for number, (source, target) in enumerate(zip(sources, targets, strict=True), start=1):
        if not source:
            raise RaspInputError(f"{src_path}:{number}: empty line (expected a string over {''.join(SYMBOLS[task])})")
        if bad := next((c for c in source if c not in symbols), None):
            column = source.index(bad) + 1
            raise RaspInputError(
                f"{src_path}:{number}:{column}: symbol {bad!r} is not in {task}'s alphabet {''.join(SYMBOLS[task])}"
            )
        if len(target) != chunk * len(source):
            raise RaspInputError(
                f"{tgt_path}:{number}: {len(target)} characters; expected {chunk} per symbol of the "
                f"{len(source)}-symbol string on line {number} of {src_path.name}"
            )
        chunks = [target[i : i + chunk] for i in range(0, len(target), chunk)]
        if bad := next((i for i, c in enumerate(chunks) if c not in labels), None):
            raise RaspInputError(
                f"{tgt_path}:{number}:{bad * chunk + 1}: label {chunks[bad]!r} is not one of {task}'s "
                f"({', '.join(LABELS[task])})"
            )
        examples.append(Example([BOS, *source], [first, *chunks]))
    return examples


def write_authors_dir(directory: str | Path, task: str, train: Sequence[str], bins: Sequence[Sequence[str]]) -> Path:
    """Strings of `task` written in the authors' format, labelled as they label them (for tests, and for
    handing our own data to their code)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    label = AUTHORS[task].label

    def write(name: str, strings: Sequence[str]) -> None:
        (directory / f"{name.format('src')}.txt").write_text("\n".join(strings))
        (directory / f"{name.format('tgt')}.txt").write_text("\n".join("".join(label(s)[1:]) for s in strings))

    write("train_{}", train)
    for i, strings in enumerate(bins):
        write(f"val_{{}}_bin{i}", strings)
    return directory
