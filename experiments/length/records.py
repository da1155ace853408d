"""The run record: one finished training run, one line of `results.jsonl` — the only reader and writer of that file.

Everything downstream (resume, report, errors, the paper-extrapolation reading) reads runs through `read_records`,
so a field is named in one place. Lines are appended as runs end; a line cut short by an interruption, or one that
is not a run record at all, is skipped with a warning (that job runs again on resume), never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from rasp.errors import RaspInputError

RESULTS = "results.jsonl"


@dataclass(frozen=True)
class BinResult:
    """Exact match on one input-length bin: `correct` of `examples` (the interval comes from the counts)."""

    low: int
    high: int
    accuracy: float
    examples: int

    @property
    def bin(self) -> tuple[int, int]:
        return (self.low, self.high)

    @property
    def correct(self) -> int:
        return round(self.accuracy * self.examples)

    def to_json(self) -> dict:
        return {"bin": [self.low, self.high], "accuracy": self.accuracy, "examples": self.examples}


@dataclass(frozen=True)
class RunRecord:
    """What one run produced. `job` groups a sweep's runs; `selected` marks the run a job kept."""

    key: str
    task: str
    pe: str
    seed: int
    profile: str
    architecture: dict
    steps: int
    converged: bool
    train_accuracy: float
    bins: tuple[BinResult, ...]
    seconds: float
    job: str = ""
    selected: bool = True
    max_steps: int = 0
    min_steps: int = 0
    train_lengths: tuple[int, int] | None = None
    history: tuple[dict, ...] = ()
    resumed: bool = False
    device: str = "cpu"
    data: str = "uniform"  # which sampler made the examples (records before the authors' data: uniform)
    data_dir: str = ""  # the directory of the authors' files the run trained and was tested on, if any
    selection: str = "fixed"  # which rule chose the run's model: fixed, heldout or authors
    protocol: str = ""  # the pre-registered protocol's name, version and hash ("" for runs made before protocols)
    protocol_version: int = 0
    protocol_hash: str = ""

    @property
    def bin_ranges(self) -> tuple[tuple[int, int], ...]:
        return tuple(b.bin for b in self.bins)

    def accuracy(self, k: int) -> float:
        return self.bins[k].accuracy

    @classmethod
    def from_json(cls, data: dict) -> RunRecord:
        """A record from its JSON object; KeyError/TypeError/ValueError when it is not one."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["bins"] = tuple(
            BinResult(int(b["bin"][0]), int(b["bin"][1]), float(b["accuracy"]), int(b["examples"]))
            for b in data["bins"]
        )
        if values.get("train_lengths") is not None:
            low, high = values["train_lengths"]
            values["train_lengths"] = (int(low), int(high))
        values["history"] = tuple(values.get("history", ()))
        values.setdefault("job", data["key"])
        record = cls(**values)
        if not isinstance(record.architecture, dict) or not isinstance(record.seed, int):
            raise TypeError("architecture must be an object and seed an integer")
        return record

    def to_json(self) -> dict:
        data = asdict(self)
        data["bins"] = [b.to_json() for b in self.bins]
        data["train_lengths"] = list(self.train_lengths) if self.train_lengths else None
        data["history"] = list(self.history)
        return data


@dataclass
class ReadResult:
    records: list[RunRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "line N: why" for lines that are not records


def read_records(out_dir: Path, selected_only: bool = True, warn: bool = True) -> list[RunRecord]:
    """The runs recorded in an experiment directory; of a sweep's runs only those it kept unless `selected_only` is off.

    Lines that are not run records are skipped (and named on stderr once): an interrupted write leaves at most one."""
    result = read_file(out_dir / RESULTS)
    if warn and result.skipped:
        shown = "; ".join(result.skipped[:3]) + (
            f"; and {len(result.skipped) - 3} more" if len(result.skipped) > 3 else ""
        )
        print(f"warning: {out_dir / RESULTS}: skipped {len(result.skipped)} line(s) that are not run records ({shown})",
              file=sys.stderr)  # fmt: skip
    records = result.records
    return [r for r in records if r.selected] if selected_only else records


def read_file(path: Path) -> ReadResult:
    """Parse one results file; a missing file is an empty result, a directory or binary file a clear error."""
    result = ReadResult()
    if not path.exists():
        return result
    if not path.is_file():
        raise RaspInputError(f"{path}: expected a results file (JSON lines), found a directory")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RaspInputError(f"{path}: not a results file (not UTF-8 text at byte {error.start})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            result.records.append(RunRecord.from_json(data))
        except json.JSONDecodeError:
            result.skipped.append(f"line {number}: not JSON (cut short?)")
        except KeyError as error:
            result.skipped.append(f"line {number}: no field {error}")
        except (TypeError, ValueError, IndexError) as error:
            result.skipped.append(f"line {number}: {error}")
    return result


def append_records(out_dir: Path, records: list[RunRecord]) -> None:
    """Append finished runs, one line each, flushed at once (what resume reads)."""
    with open(out_dir / RESULTS, "a", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record.to_json(), allow_nan=True) + "\n")
        f.flush()


def finished_jobs(out_dir: Path) -> dict[str, list[tuple[int, int]]]:
    """The jobs recorded in out_dir/results.jsonl, each with the test bins it ran on."""
    return {r.job: list(r.bin_ranges) for r in read_records(out_dir, selected_only=False, warn=False)}


def mean_accuracy(records: list[RunRecord], k: int) -> float:
    return sum(r.accuracy(k) for r in records) / len(records) if records else math.nan
