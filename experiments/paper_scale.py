"""Each row judged at the extrapolation the paper itself measured, by re-evaluating the run's checkpoints.

The report judges every row on its profile's longest bin (3× the training length in both profiles). The paper's
formal languages were measured at their own lengths (`PaperResult.lengths`: (abab)* up to 1.4×, Tomita up to
1.5×, (aa)* up to 2×, Dyck up to 3×). Here the paper's last bin is scaled to the run's training length — for
(abab)*, trained on 4–500 and tested on 600–700, a quick run trained on 1–16 is tested on 20–22 — and the same
criterion (≥ 80% exact match, mean over converged seeds) is applied there, to predicted ✓ and ✗ rows alike.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from pathlib import Path

from .errors import run_from_record
from .predictions import paper_lengths, predict_task
from .report import GENERALIZES, PE_NAMES, load_records

EXAMPLES = 200  # per run; the quick profile's evaluation size


def paper_scaled_bin(train_max: int, task: str) -> tuple[int, int] | None:
    """The paper's last bin for a task, scaled from its training length to `train_max` (None: lengths unknown)."""
    lengths = paper_lengths(task)
    if lengths is None:
        return None
    scale = train_max / lengths.train[1]
    low = max(train_max + 1, math.ceil(lengths.bins[-1][0] * scale - 1e-9))
    return low, max(low, math.floor(lengths.bins[-1][1] * scale + 1e-9))


def judge_at_paper_extrapolation(out_dir: Path, examples: int = EXAMPLES) -> list[dict]:
    """One row per task × encoding with a known paper extrapolation and a converged seed (checkpoints needed)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in load_records(out_dir):
        if record["converged"]:
            groups[(record["task"], record["pe"])].append(record)
    rows = []
    for (task, pe), members in groups.items():
        train_max = members[0].get("train_lengths", members[0]["bins"][0]["bin"])[1]
        scaled = paper_scaled_bin(train_max, task)
        if scaled is None:
            continue
        accuracies = []
        for record in members:
            run = run_from_record(record, out_dir)
            accuracies.append(run.accuracy_at(random.Random(20_000 + record["seed"]), scaled, examples))
        accuracy = sum(accuracies) / len(accuracies)
        predicted = predict_task(task, pe).ok
        rows.append(
            {
                "task": task,
                "pe": pe,
                "predicted": predicted,
                "ratio": paper_lengths(task).ratio,
                "bin": scaled,
                "accuracy": accuracy,
                "agrees": (accuracy >= GENERALIZES) == predicted,
                "longest_bin": members[0]["bins"][-1]["bin"],
                "longest_accuracy": sum(m["bins"][-1]["accuracy"] for m in members) / len(members),
                "seeds": len(members),
            }
        )
    return sorted(rows, key=lambda r: (r["task"], r["pe"]))


def write_paper_extrapolation(out_dir: Path, examples: int = EXAMPLES) -> dict:
    """paper_extrapolation.md: the table, the agreement there, and beside it the agreement on the longest bin."""
    rows = judge_at_paper_extrapolation(out_dir, examples)
    agreeing = sum(r["agrees"] for r in rows)
    at_longest = sum((r["longest_accuracy"] >= GENERALIZES) == r["predicted"] for r in rows)
    lines = [
        "# Judged at the paper's own extrapolation",
        "",
        f"**Agreement: {agreeing}/{len(rows)}** of the rows with a converged seed whose lengths in the paper are "
        f"known, each judged on the paper's last bin scaled to this run's training length (≥ "
        f"{GENERALIZES * 100:.0f}% exact match, mean over converged seeds, {examples} inputs per seed). The same rows "
        f"judged on the profile's longest bin, as in report.md: {at_longest}/{len(rows)}.",
        "",
        "| task | pe | predicted | paper to | inputs | accuracy % | agrees | longest bin | accuracy % there |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {PE_NAMES.get(r['pe'], r['pe'])} | {'✓' if r['predicted'] else '✗'} | "
            f"{r['ratio']:.3g}× | {r['bin'][0]}–{r['bin'][1]} | {r['accuracy'] * 100:.1f} | "
            f"{'✓' if r['agrees'] else '✗'} | {r['longest_bin'][0]}–{r['longest_bin'][1]} | "
            f"{r['longest_accuracy'] * 100:.1f} |"
        )
    (out_dir / "paper_extrapolation.md").write_text("\n".join(lines) + "\n")
    return {"agreeing": agreeing, "judged": len(rows), "agreeing_at_longest": at_longest, "rows": rows}
