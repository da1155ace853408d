"""One table over several experiment directories: each row as the latest protocol version that ran it decided it.

A later version of a protocol reruns only the rows an earlier one left without an outcome (its scope), so a suite's
standing is spread over several directories. `rasp tally DIR...` puts it in one table, every row judged by the one
rule all the directories' protocols share (it refuses directories judged by different rules), with what the earlier
versions made of the row beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rasp.errors import RaspInputError

from .report import load_rows
from .rows import PE_NAMES, Row, bins_text, interval_text, mark, percents


@dataclass
class TalliedRow:
    row: Row  # as the latest version that ran it judged it
    source: str  # that version (or directory, for runs made before protocols)
    earlier: list[str]  # "v1: no outcome", "v2: fails (69.0% at 21–30)", ...


def tally(directories: list[Path]) -> tuple[list[TalliedRow], list[str], str]:
    """The rows (in the order the earliest directory has them), the rows a version is still running, and the rule
    they were all judged by. Directories are ordered by protocol version where they have one (a later version
    supersedes an earlier one), else as given. A row with fewer runs than its protocol's seeds supersedes nothing:
    a row is judged on all its seeds or not at all."""
    loaded = []
    for directory in directories:
        rows, protocol, _ = load_rows(directory)
        loaded.append((protocol.version if protocol else 0, directory, rows, protocol))
    loaded.sort(key=lambda item: item[0])
    names = {protocol.name for _, _, _, protocol in loaded if protocol}
    if len(names) > 1:
        raise RaspInputError(f"the directories hold runs of different protocols ({', '.join(sorted(names))})")
    rules = {(rows[0].judgement.criterion, rows[0].judgement.deciding_bin) for _, _, rows, _ in loaded}
    if len(rules) > 1:
        raise RaspInputError(
            "the tally judges every row by one rule, and these directories' protocols judge differently: "
            + "; ".join(
                f"{d}: criterion {rows[0].judgement.criterion}, bin {rows[0].judgement.deciding_bin}"
                for _, d, rows, _ in loaded
            )
        )
    tallied: dict[tuple[str, str], TalliedRow] = {}
    running = []
    for _, directory, rows, protocol in loaded:
        source = f"v{protocol.version}" if protocol else directory.name
        if protocol:  # the rows a version runs and has no record of yet are under way too
            present = {(row.task, row.pe) for row in rows}
            running += [
                f"{task} {PE_NAMES.get(pe, pe)} ({source}: 0 of {protocol.seeds} runs)"
                for task in protocol.tasks()
                for pe in protocol.encodings
                if (task, pe) not in present
            ]
        for row in rows:
            runs = row.converged + row.failed
            if protocol and runs < protocol.seeds:
                running.append(f"{row.task} {PE_NAMES.get(row.pe, row.pe)} ({source}: {runs} of {protocol.seeds} runs)")
                continue
            key = (row.task, row.pe)
            earlier = tallied.get(key)
            history = [*earlier.earlier, f"{earlier.source}: {_outcome_text(earlier.row)}"] if earlier else []
            tallied[key] = TalliedRow(row, source, history)
    criterion, deciding_bin = rules.pop()
    rule = f"exact match at test bin {deciding_bin}, 95% Wilson interval against {criterion * 100:.0f}%"
    return list(tallied.values()), running, rule


def _outcome_text(row: Row) -> str:
    """What a version made of a row, with the figure and lengths it was decided on: a later version may rerun a row
    on other lengths, and the earlier verdict stays readable beside the new one."""
    if not row.accuracies or row.outcome == "no outcome":
        return row.outcome
    low, high = row.bins[row.deciding]
    return f"{row.outcome} ({row.accuracies[row.deciding] * 100:.1f}% at {low}–{high})"


def tally_markdown(directories: list[Path], tallied: tuple | None = None) -> str:
    """The table; `tallied`: `tally(directories)` when the caller has it already (the figure is drawn from it too)."""
    rows, running, rule = tallied or tally(directories)
    decided = [t for t in rows if t.row.agrees is not None]
    agreeing = sum(bool(t.row.agrees) for t in decided)
    counts = {o: sum(t.row.outcome == o for t in rows) for o in ("generalizes", "fails", "undecided", "no outcome")}
    lines = [
        f"`rasp tally {' '.join(str(d) for d in directories)}`",
        "",
        f"{len(rows)} rows from {len(directories)} directories, each as the latest version that ran it decided it "
        f"({rule}).",
        "",
        f"- with an outcome: {counts['generalizes'] + counts['fails']} ({counts['generalizes']} generalize, "
        f"{counts['fails']} fail); agree with the prediction: {agreeing} of {len(decided)}",
        f"- undecided: {counts['undecided']}; no outcome (no seed converged in distribution): {counts['no outcome']}",
        *(
            [f"- still running, so not counted (a row is judged on all its seeds): {'; '.join(running)}"]
            if running
            else []
        ),
        "",
        "| task | pe | prediction | paper | decided by | input lengths | model | accuracy % by bin | "
        "95% CI at the deciding bin | seeds ok/failed | outcome | agrees | earlier |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in rows:
        r = t.row
        lines.append(
            f"| {r.task} | {PE_NAMES.get(r.pe, r.pe)} | {mark(r.prediction.ok)} | {mark(r.prediction.paper)} | "
            f"{t.source} | {bins_text(r.bins)} | {', '.join(dict.fromkeys(r.models))} | {percents(r.accuracies)} | "
            f"{interval_text(r, r.deciding) if r.intervals else '–'} | {r.converged}/{r.failed} | {r.outcome} | "
            f"{mark(r.agrees)} | {'; '.join(t.earlier) or '–'} |"
        )
    return "\n".join(lines) + "\n"
