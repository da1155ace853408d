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
from pathlib import Path
from typing import TYPE_CHECKING

from .probes import run_from_record
from .report import GENERALIZES, PE_NAMES, load_rows

if TYPE_CHECKING:
    from rasp.analysis.tasks import PaperLengths

EXAMPLES = 200  # per run; the quick profile's evaluation size


def paper_scaled_bin(train_max: int, lengths: PaperLengths) -> tuple[int, int]:
    """The paper's last bin, scaled from the paper's longest training input to `train_max`."""
    scale = train_max / lengths.train[1]
    low = max(train_max + 1, math.ceil(lengths.bins[-1][0] * scale - 1e-9))
    return low, max(low, math.floor(lengths.bins[-1][1] * scale + 1e-9))


def judge_at_paper_extrapolation(out_dir: Path, examples: int = EXAMPLES) -> list[dict]:
    """One row per task × encoding with a known paper extrapolation and a converged seed (checkpoints needed)."""
    judged = []
    rows, _, _ = load_rows(out_dir)
    for row in rows:
        if row.paper_lengths is None or row.accuracies is None:  # lengths unknown, or no seed converged
            continue
        scaled = paper_scaled_bin(row.bins[0][1], row.paper_lengths)  # bin 0: the training lengths
        converged = [r for r in row.records if r.converged]
        accuracy = sum(
            run_from_record(r, out_dir).accuracy_at(random.Random(20_000 + r.seed), scaled, examples) for r in converged
        ) / len(converged)
        judged.append(
            {
                "task": row.task,
                "pe": row.pe,
                "predicted": row.prediction.ok,
                "ratio": row.paper_lengths.ratio,
                "bin": scaled,
                "accuracy": accuracy,
                "agrees": row.agrees_at(accuracy),
                "longest_bin": row.bins[-1],
                "longest_accuracy": row.accuracies[-1],
                "agrees_at_longest": row.agrees,
                "seeds": len(converged),
                "criterion": row.judgement.criterion,
            }
        )
    return sorted(judged, key=lambda r: (r["task"], r["pe"]))


def write_paper_extrapolation(out_dir: Path, examples: int = EXAMPLES) -> dict:
    """paper_extrapolation.md: the table, the agreement there, and beside it the agreement on the longest bin."""
    rows = judge_at_paper_extrapolation(out_dir, examples)
    criterion = rows[0]["criterion"] if rows else GENERALIZES
    agreeing = sum(r["agrees"] for r in rows)
    at_longest = sum(r["agrees_at_longest"] for r in rows)
    lines = [
        "# Judged at the paper's own extrapolation",
        "",
        f"**Agreement: {agreeing}/{len(rows)}** of the rows with a converged seed whose lengths in the paper are "
        f"known, each judged on the paper's last bin scaled to this run's training length (≥ "
        f"{criterion * 100:.0f}% exact match, mean over converged seeds, {examples} inputs per seed). The same rows "
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
