"""Pre-registered protocols: what an experiment measures and how its rows are judged, fixed before it runs.

A protocol names a profile (lengths, model, training budget), the data (the authors' samplers or uniform ones),
the rule that chooses each row's model, the number of seeds, the examples per bin, the criterion and the bin it is
read at. The protocols live in one versioned file, `experiments/length/protocols.json`; each version says why it exists and
when it was decided. A change is a new version made before a run — never an edit because a figure moved.

Every run records the protocol's name, version and hash. The hash covers the version's entry and the resolved
profile's values, so a profile changed in code after a protocol was registered no longer matches it: the runner
refuses to run under that protocol until a new version is registered, and the report refuses to mix hashes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from programs.task import DATA_KINDS
from rasp.errors import RaspInputError

from .profiles import PROFILES, Profile
from .resolve import for_run

PROTOCOLS_FILE = Path(__file__).with_name("protocols.json")
SELECTION_RULES = ("heldout", "authors", "fixed")
_FIELDS = (
    "profile",
    "suite",
    "encodings",
    "data",
    "selection",
    "seeds",
    "examples_per_bin",
    "criterion",
    "deciding_bin",
)


@dataclass(frozen=True)
class Protocol:
    name: str
    version: int
    date: str  # when it was decided (before any run under it)
    reason: str  # why this version exists
    profile: str
    suite: str  # which tasks: "huang" (Huang et al.'s table) or "zhou"
    encodings: tuple[str, ...]
    data: str  # the authors' samplers, or uniform ones (a control)
    selection: str  # heldout: a fixed model per task, checked on held-out training-length data; authors: their sweep
    seeds: int
    examples_per_bin: int
    criterion: float  # a row generalizes when its deciding bin's interval lies at or above this
    deciding_bin: int  # index into the profile's bins (-1: the longest)
    profile_hash: str = ""  # the hash registered with the version; must equal the code's
    scope: tuple[str, ...] = ()  # the suite's tasks this version runs (empty: all of them)

    def resolved_profile(self) -> Profile:
        if self.profile not in PROFILES:
            raise RaspInputError(f"protocol {self.label}: unknown profile '{self.profile}'")
        return PROFILES[self.profile].with_(
            eval_examples=self.examples_per_bin, examples_override=self.examples_per_bin
        )

    def tasks(self) -> list[str]:
        """The suite's tasks: Huang et al.'s (every task but Zhou et al.'s), or Zhou et al.'s; a version with a
        scope runs only those (a later version for the rows an earlier one left without an outcome)."""
        from programs.tasks import suite_tasks

        suite = suite_tasks(self.suite)
        return [t for t in suite if t in self.scope] if self.scope else suite

    def runs_what(self) -> str:
        """A few words on the rows this version runs, for a listing of versions."""
        tasks = ", ".join(self.scope) if self.scope else f"the whole {self.suite} suite"
        return f"({tasks}; {', '.join(self.encodings)})"

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def hash(self) -> str:
        """A digest of everything that decides a figure: this version's fields and the profile's values."""
        entry = {k: v for k, v in asdict(self).items() if k not in ("profile_hash", "reason", "date")}
        if not self.scope:  # the whole suite: hashed as before the field existed, so earlier versions keep theirs
            del entry["scope"]
        profile = self.resolved_profile()
        # every run's resolved values: a profile that takes them per task (from the authors' regime files) changes
        # its hash when those files or the resolution change
        runs = {f"{t}/{pe}": _hashed(for_run(profile, t, pe)) for t in self.tasks() for pe in self.encodings}
        content = json.dumps(
            {"protocol": entry, "profile": _hashed(profile), "runs": runs}, sort_keys=True, default=str
        )
        return hashlib.sha256(content.encode()).hexdigest()[:12]

    def check(self) -> None:
        """Refuse to run under a protocol whose profile changed since it was registered."""
        if self.profile_hash != self.hash:
            raise RaspInputError(
                f"protocol {self.label} was registered with hash {self.profile_hash or '(none)'}, but the code now gives "
                f"{self.hash}: the profile or the protocol changed after registration. Register a new version (with its "
                f"reason and date) in {PROTOCOLS_FILE.name} before running."
            )

    def describe(self) -> list[str]:
        """Markdown lines: the protocol, as a report opens with it."""
        profile = self.resolved_profile()
        if profile.per_run:
            lengths = (
                "Lengths, model and budget per task and encoding (the report's input lengths; "
                f"experiments/length/{profile.per_run}_profile.py)."
            )
        else:
            bins = " / ".join(f"{a}–{b}" for a, b in profile.test_bins)
            lengths = f"Train on input lengths {profile.train_lengths[0]}–{profile.train_lengths[1]}; test bins {bins}."
        if not profile.position_offsets and any(pe != "nope" for pe in self.encodings):
            lengths += " Position tables are trained from position 0 (no random training offsets)."
        deciding = "the longest bin" if self.deciding_bin == -1 else f"bin {self.deciding_bin} (0: training lengths)"
        return [
            f"**Protocol {self.label}** (hash `{self.hash}`, decided {self.date}): profile `{self.profile}`, "
            f"{self.data} data, model chosen by the `{self.selection}` rule, {self.seeds} seeds per row, "
            f"{self.examples_per_bin} examples per bin, encodings {', '.join(self.encodings)}"
            + (f"; tasks {', '.join(self.scope)} only." if self.scope else "."),
            "",
            f"{lengths} A row *generalizes* when the 95% Wilson interval of exact match on {deciding} (pooled over the "
            f"seeds that converged) lies at or above {self.criterion * 100:.0f}%, *fails* when it lies below, and is "
            "*undecided* when it straddles it.",
            "",
            f"Why this version: {self.reason}",
        ]


# Profile fields added after versions were registered, with the value every earlier profile had: a profile at that
# value is hashed without the field, so the earlier versions keep their hashes
_LATER_FIELDS = {"position_offsets": True}


def _hashed(profile: Profile) -> dict:
    values = asdict(profile)
    for field, earlier in _LATER_FIELDS.items():
        if values[field] == earlier:
            del values[field]
    return values


def load_protocols(path: Path = PROTOCOLS_FILE) -> dict[str, list[Protocol]]:
    """Every registered version of every protocol, oldest first."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RaspInputError(f"{path}: cannot read the protocols file ({error})") from None
    protocols: dict[str, list[Protocol]] = {}
    for name, versions in data.get("protocols", {}).items():
        for entry in versions:
            missing = [k for k in ("version", "date", "reason", *_FIELDS) if k not in entry]
            if missing:
                raise RaspInputError(f"{path}: protocol {name} v{entry.get('version', '?')} lacks {', '.join(missing)}")
            scope = tuple(entry.get("scope", ()))
            protocol = Protocol(name=name, **{**entry, "encodings": tuple(entry["encodings"]), "scope": scope})
            if protocol.data not in DATA_KINDS or protocol.selection not in SELECTION_RULES:
                raise RaspInputError(
                    f"{path}: protocol {protocol.label}: data must be one of {DATA_KINDS}, selection one of "
                    f"{SELECTION_RULES}"
                )
            if set(scope) - set(replace(protocol, scope=()).tasks()):
                raise RaspInputError(f"{path}: protocol {protocol.label}: its scope names tasks outside its suite")
            protocols.setdefault(name, []).append(protocol)
    for name, versions in protocols.items():
        numbers = [p.version for p in versions]
        if numbers != sorted(set(numbers)):
            raise RaspInputError(f"{path}: protocol {name}: versions must be distinct and in order, got {numbers}")
    return protocols


def get_protocol(name: str, version: int | None = None, path: Path = PROTOCOLS_FILE) -> Protocol:
    """The named protocol: its latest version, or the one asked for."""
    protocols = load_protocols(path)
    if name not in protocols:
        raise RaspInputError(f"unknown protocol '{name}'; registered: {', '.join(protocols) or 'none'}")
    versions = protocols[name]
    if version is None:
        latest = versions[-1]
        if latest.scope or latest.encodings != versions[0].encodings:
            # a bare name would silently run a few rows of the suite: make the reader choose
            listed = "; ".join(f"{name}:{p.version} {p.runs_what()}" for p in versions)
            raise RaspInputError(
                f"protocol {name}'s latest version runs only some of its rows; name the version you mean: {listed}"
            )
        return latest
    for protocol in versions:
        if protocol.version == version:
            return protocol
    raise RaspInputError(f"protocol {name} has no version {version} (versions: {[p.version for p in versions]})")


def find_by_hash(digest: str, path: Path = PROTOCOLS_FILE) -> Protocol | None:
    """The registered protocol version a record's hash belongs to (None if none does any more)."""
    for versions in load_protocols(path).values():
        for protocol in versions:
            if protocol.profile_hash == digest:
                return protocol
    return None
