"""`rasp errors`: where trained models go wrong, read from their checkpoints.

Each named row is probed once into a plain dict (`probe_row`: error rate by position, and with the flags the
commonest confusions, the heads' attention, the reach intervention and an attention map), then either printed as
text for a reader or, with `--json`, as one JSON object per line for a script.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from rasp.errors import RaspInputError


def cmd_errors(args: argparse.Namespace, profile=None) -> int:
    from .probes import plot_errors, run_from_record
    from .report import load_rows

    out = Path(args.dir)
    rows, _, _ = load_rows(out)
    records = [record for row in rows for record in row.records]
    wanted = _wanted(args.rows) if args.rows else [(r.task, r.pe, None) for r in rows if r.agrees is False]
    if not wanted:
        print("no row disagrees with its prediction; name rows as TASK:PE")
        return 0
    curves, last_trained = {}, {}
    for task, pe, seed in wanted:  # without a seed, the row's first
        chosen = sorted(
            (r for r in records if r.task == task and r.pe == pe and seed in (None, r.seed)), key=lambda r: r.seed
        )
        if not chosen:
            raise RaspInputError(
                f"no run of {task}:{pe}{f' seed {seed}' if seed is not None else ''} in {out / 'results.jsonl'}"
            )
        run = run_from_record(chosen[0], out, profile)
        bins = run.spec.profile.test_bins
        if not -len(bins) <= args.bin < len(bins):
            shown = " / ".join(f"{a}–{b}" for a, b in bins)
            raise RaspInputError(f"--bin {args.bin}: {task} has bins 0–{len(bins) - 1} ({shown})")
        probe = probe_row(run, args, out)
        name = _name(run, probe["lengths"])
        curves[name], last_trained[name] = probe["error_rates"], probe["last_trained"]
        print(json.dumps(_finite(probe), ensure_ascii=False) if args.json else _text(probe))
    path = out / "errors_by_position.png"
    plot_errors(curves, last_trained, path)
    print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _wanted(rows: list[str]) -> list[tuple[str, str, int | None]]:
    wanted = []
    for row in rows:
        task, _, rest = row.partition(":")
        pe, _, seed = rest.partition(":")
        if not pe or (seed and not seed.isdigit()):
            raise RaspInputError(f"'{row}': expected TASK:PE or TASK:PE:SEED, e.g. aa_star:ape or aa_star:ape:2")
        wanted.append((task, pe, int(seed) if seed else None))
    return wanted


def probe_row(run, args: argparse.Namespace, out: Path) -> dict:
    """Everything the flags ask of one run, on test bin `args.bin`, as plain values (the text and the JSON say the
    same). Error rates are per sequence position; the last trained position is the last one training examples
    reach."""
    from .head_probes import attention_by_distance, attention_maps, has_hints, plot_attention_maps
    from .probes import confusions_by_band, errors_by_position, last_trained_position, shifted, within_reach

    spec = run.spec
    bins = spec.profile.test_bins
    lengths = bins[args.bin]
    rates = errors_by_position(run, lengths)
    probe = {
        "task": spec.task, "pe": spec.pe, "seed": spec.seed, "bin": args.bin % len(bins), "lengths": list(lengths),
        "last_trained": last_trained_position(run), "error_rates": rates,
        "first_half_wrong": next((i for i, r in enumerate(rates) if r >= 0.5), None),
        "positions_wrong": sum(r > 0 for r in rates),
    }  # fmt: skip
    if args.confusions:
        probe["confusions"] = [
            {**band, "positions": list(band["positions"]), "common": [[t, g, n] for (t, g), n in band["common"]]}
            for band in confusions_by_band(run, lengths, from_start=args.from_start)
        ]
    if args.heads:
        heads = attention_by_distance(run, lengths)
        probe["lookups"] = {"hinted": has_hints(run), **{k: list(v) for k, v in heads.lookups_wrong.items()}}
        probe["heads"] = heads.heads
    if args.reach:
        probe["reach"] = within_reach(run, lengths)
    if args.shifted:
        probe["shifted"] = shifted(run, lengths)
    if args.maps:
        maps = attention_maps(run, lengths[1])
        path = out / f"attention_{spec.task}_{spec.pe}_s{spec.seed}_bin{probe['bin']}.png"
        wrong = int(maps["wrong"].sum())
        plot_attention_maps(
            maps, f"{_name(run, lengths)}: one example of input length {lengths[1]}, {wrong} positions wrong", path
        )
        probe["map"] = str(path)
    return probe


def _name(run, lengths) -> str:
    """A run and its inputs as the plots title them."""
    from .report import PE_NAMES

    spec = run.spec
    return f"{spec.task}, {PE_NAMES.get(spec.pe, spec.pe)} (seed {spec.seed}), inputs {lengths[0]}–{lengths[1]}"


def _finite(value):
    """JSON has no NaN (a share over no queries): null in its place."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _text(probe: dict) -> str:
    worst, last = probe["first_half_wrong"], probe["last_trained"]
    half = f"first position wrong on half the examples: {worst}" if worst is not None else "no position wrong on half"
    wrong_anywhere = f"positions wrong on any: {probe['positions_wrong']} of {len(probe['error_rates'])}"
    lines = [f"{probe['task']:<28} {probe['pe']:<5} seed {probe['seed']}: {half}; {wrong_anywhere}"]
    for band in probe.get("confusions", []):
        low, high = band["positions"]
        common = ", ".join(f"{t} → {g}: {n}" for t, g, n in band["common"]) or "none"
        lines.append(
            f"    positions {low}-{high}: {band['wrong']} of {band['scored']} wrong; commonest (target → answer): {common}"
        )
    if "heads" in probe:
        lines.append(f"    {_lookups_wrong(probe['lookups'], last)}")
        for head in probe["heads"]:
            shares = "; ".join(
                f"{band}: {b['share']:4.0%} ({b['even']:4.0%} even)" for band, b in head["bands"].items()
            )
            lines.append(
                f"    {head['head']} attention by query-key distance (share of it at even distances): {shares}"
            )
            lines.append(
                f"         on the induction target: {_by_query(head['induction'])}; on its own token's earlier "
                f"copies: {_by_query(head['same_token'], head['same_token_uniform'])}"
            )
            hints = "at hint queries, " if "hint" in head["same_token"] else ""
            lines.append(f"         {hints}{_around_copy_text(head['around_copy'], last)}")
    if "reach" in probe:
        limited = probe["reach"]
        shown = ", ".join(f"{where} {rate:.1%}" for where, rate in limited.items() if where != "as trained")
        lines.append(
            f"    exact match {limited['as trained']:.1%} as trained; with attention held to query-key distances "
            f"up to {last} (BOS in reach): {shown}"
        )
    if "shifted" in probe:
        moved = probe["shifted"]
        lines.append(
            f"    exact match {moved['offset 0']:.1%} at offset 0; {moved['shifted']:.1%} with each input moved by a random "
            f"position offset within the trained positions (up to {last})"
        )
    if "map" in probe:
        lines.append(f"    wrote {probe['map']}")
    return "\n".join(lines)


def _by_query(shares: dict[str, float], uniform: dict[str, float] | None = None) -> str:
    """A head's share over all scored queries, and with index hints at hint queries and the others apart; with the
    share uniform attention over the same keys would give beside each (a digit has many earlier copies, a hint two),
    where it is known."""
    names = {"all": "", "hint": "at hint queries ", "other": "at the others "}
    said = [
        f"{name}{shares[part]:.0%}" + (f" (uniform {uniform[part]:.0%})" if uniform else "")
        for part, name in names.items()
        if part in shares
    ]
    return said[0] + (f"; {', '.join(said[1:])}" if len(said) > 1 else "")


def _around_copy_text(shares: dict[str, list[float]], last_trained: int) -> str:
    """The attention around the latest earlier copy of the query's token, at the lookup queries (a hinted task's
    hint queries, else every query with an earlier copy); those up to the last trained position apart from those past
    it, where there are any."""
    from .head_probes import AROUND_COPY

    def offsets(values: list[float]) -> str:
        return " ".join(f"{o:+d}:{v:.0%}" for o, v in zip(AROUND_COPY, values))

    said = "around the token's latest earlier copy (0: the copy, +1: the induction target)"
    if shares["beyond"][0] != shares["beyond"][0]:  # NaN: no lookup query lies past the trained positions
        return f"{said} {offsets(shares['all'])}"
    return f"{said} up to position {last_trained}: {offsets(shares['within'])}; past it: {offsets(shares['beyond'])}"


def _lookups_wrong(lookups: dict, last_trained: int) -> str:
    """One line on the lookup queries' errors, up to the last trained position and past it."""

    def rate(reach: str) -> str:
        wrong, total = lookups[reach]
        return f"{wrong / total:.0%} of {total}" if total else "none"

    queries = "hint queries" if lookups["hinted"] else "queries with an earlier copy of their token (lookup queries)"
    if not lookups["beyond"][1]:
        return f"{queries} answered wrong: {rate('within')} (all up to position {last_trained})"
    return f"{queries} answered wrong: {rate('within')} up to position {last_trained}, {rate('beyond')} past it"
