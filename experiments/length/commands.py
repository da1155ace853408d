"""`rasp experiment` and `rasp report`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rasp.errors import RaspInputError

# Six tasks with both predicted outcomes, for the README's first run (a few minutes on 2 CPU cores): quick
# profile with fewer steps. ✓✓ binary_majority, mode, tomita_7; ✓ APE / ✗ NoPE tomita_4, abab_star; ✗✗ parity.
DEMO_TASKS = ("binary_majority", "mode", "tomita_7", "tomita_4", "abab_star", "parity")
DEMO_STEPS = 2000


def _tasks(names: list[str], suite: str) -> list[str]:
    from programs.tasks import TASKS, get_task, suite_tasks

    if names:
        return [get_task(n).id for n in names]
    if suite == "demo":
        return list(DEMO_TASKS)
    if suite == "paper":
        from .predictions import paper_tasks

        return [t for t in TASKS if t in paper_tasks()]
    if suite in ("huang", "zhou"):  # Huang et al.'s suite (every task but Zhou et al.'s), or Zhou et al.'s
        return suite_tasks(suite)
    return list(TASKS)


def _from_protocol(args: argparse.Namespace):
    """The protocol named by --protocol NAME[:VERSION], checked against the code; the options it fixes must not be
    given as well (a run under a protocol is the protocol's run, nothing else)."""
    from .protocol import get_protocol

    name, _, version = args.protocol.partition(":")
    if version and not version.isdigit():
        raise RaspInputError(f"--protocol {args.protocol}: expected NAME or NAME:VERSION, e.g. huang-quick:1")
    fixed = {"--profile": args.profile, "--pe": args.pe, "--seeds": args.seeds, "--data": args.data, "--data-dir": args.data_dir,
             "--steps": args.steps, "--sweep": args.sweep or None, "--select": args.select, "--full-schedule": args.full_schedule or None}  # fmt: skip
    given = [flag for flag, value in fixed.items() if value is not None]
    if given:
        raise RaspInputError(f"--protocol fixes {', '.join(given)}; leave them out (or run without a protocol)")
    protocol = get_protocol(name, int(version) if version else None)
    protocol.check()
    return protocol


# long: the flags' checks and their translation into one plan, in order
def cmd_experiment(args: argparse.Namespace) -> int:
    from .profiles import PROFILES
    from .protocol import DATA_KINDS
    from .report import write_report
    from .runner import plan, run_jobs, with_steps
    from .train import PE_KINDS
    from .wall_clock import WallClock

    protocol = _from_protocol(args) if args.protocol else None
    if protocol:
        profile, pes, seeds, data = protocol.resolved_profile(), list(protocol.encodings), protocol.seeds, protocol.data
        sweep, rule = protocol.selection != "fixed", protocol.selection
        stamp, suite = (protocol.name, protocol.version, protocol.hash), protocol.suite
    else:
        name = args.profile or "quick"
        if name not in PROFILES:
            raise RaspInputError(f"unknown profile '{name}'; expected {' or '.join(PROFILES)}")
        profile, data = PROFILES[name], args.data or "authors"
        pes = [p.strip() for p in (args.pe or "ape,nope").split(",") if p.strip()]
        seeds = 1 if args.seeds is None else args.seeds
        sweep, rule = args.sweep or args.select is not None, args.select or "heldout"
        stamp, suite = ("", 0, ""), args.suite
        if rule not in ("heldout", "authors"):
            raise RaspInputError(f"unknown selection rule '{rule}'; expected heldout or authors")
        if args.steps is not None and args.steps < 1:
            raise RaspInputError(f"--steps must be at least 1 (got {args.steps})")
        if args.suite == "demo" and not args.tasks and args.steps is None:
            profile = with_steps(profile, DEMO_STEPS)
        profile = with_steps(profile, args.steps, args.full_schedule)
    for pe in pes:
        if pe not in PE_KINDS:
            raise RaspInputError(f"unknown positional encoding '{pe}'; expected {', '.join(PE_KINDS)}")
    if data not in DATA_KINDS:
        raise RaspInputError(f"unknown data '{data}'; expected {' or '.join(DATA_KINDS)}")
    if seeds < 1:
        raise RaspInputError(f"--seeds must be at least 1 (got {seeds})")
    tasks = protocol.tasks() if protocol and not args.tasks else _tasks(args.tasks, suite)
    if protocol and set(tasks) - set(protocol.tasks()):
        raise RaspInputError(f"protocol {protocol.label} runs {', '.join(protocol.tasks())}; not {', '.join(tasks)}")
    label = protocol.name if protocol else f"{args.suite if not args.tasks else 'custom'}-{profile.name}"
    out = Path(args.out or f"runs/{label}")
    if args.data_dir and len(tasks) != 1:
        raise RaspInputError("--data-dir holds one task's data: name that one task")
    jobs = plan(tasks, pes, seeds, profile, sweep=sweep, rule=rule, data=data, protocol=stamp, data_dir=args.data_dir)
    workers = args.workers or max(1, min(len(jobs), os.cpu_count() or 1))
    if args.ensemble is not None and args.ensemble < 1:
        raise RaspInputError(f"--ensemble must be at least 1 (got {args.ensemble})")
    if workers < 1:
        raise RaspInputError(f"--workers must be at least 1 (got {workers})")
    if args.threads is not None and args.threads < 1:
        raise RaspInputError(f"--threads must be at least 1 (got {args.threads})")
    print(
        (f"protocol {protocol.label} (hash {protocol.hash}); " if protocol else "")
        + f"{len(jobs)} jobs ({len(tasks)} tasks × {', '.join(pes)} × {seeds} seed(s)), profile {profile.name}, "
        f"{data} data, {workers} worker(s) on {args.device}; results in {out}/results.jsonl",
        flush=True,
    )
    with WallClock(out):  # an interrupted experiment keeps the wall time it spent (resumed runs add theirs)
        run_jobs(
            jobs,
            out,
            workers=workers,
            device=args.device,
            backend=args.backend,
            ensemble=args.ensemble,
            threads=args.threads,
        )
    summary = write_report(out)
    suites = (("Huang et al.'s suite", summary), ("Zhou et al.'s", summary["zhou"]))
    figures = [f"{name}: {s['agreeing']}/{s['judged']}" for name, s in suites if s["judged"]]
    print(f"observed against predicted, {'; '.join(figures) or 'no row has an outcome'}")
    print(_wrote(out))
    return 0


def _wrote(out: Path) -> str:
    """The report's files, as written (a run of one suite has one of the two accuracy plots)."""
    plots = [
        out / name
        for name in ("accuracy_by_length.png", "zhou_accuracy_by_length.png", "training_curves.png")
        if (out / name).exists()
    ]
    return f"wrote {', '.join(str(p) for p in [out / 'report.md', out / 'report.csv', *plots])}"


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    out = Path(args.dir)
    summary = write_report(out)
    text = (out / "report.md").read_text().splitlines()
    # the protocol and the three figures; the tables are in the files (a terminal is no place for 60 rows)
    opening = [line for line in text[: next((i for i, line in enumerate(text) if line.startswith("|")), len(text))]]
    print("\n".join(opening).rstrip())
    print(f"\n{_wrote(out)}")
    if args.paper_extrapolation:
        from .paper_scale import write_paper_extrapolation

        write_paper_extrapolation(out)
        print((out / "paper_extrapolation.md").read_text())
        print(f"wrote {out / 'paper_extrapolation.md'}")
    return 0 if summary["judged"] or summary["zhou"]["judged"] else 1  # 1: no row has an outcome


def cmd_tally(args: argparse.Namespace) -> int:
    from .plots import plot_tally
    from .tally import tally, tally_markdown

    directories = [Path(d) for d in args.dirs]
    tallied = tally(directories)
    text = tally_markdown(directories, tallied)
    print(text, end="")
    if args.out:
        out = Path(args.out)
        out.write_text(text)
        rows, _, _ = tallied
        plot_tally([t.row for t in rows], [t.source for t in rows], out.with_suffix(".png"))
        print(f"wrote {out} and {out.with_suffix('.png')}")
    return 0


# long: row parsing, then one loop printing each probe the flags ask for
def cmd_errors(args: argparse.Namespace, profile=None) -> int:
    from .head_probes import attention_by_distance, attention_maps, has_hints, plot_attention_maps
    from .probes import (
        confusions_by_band,
        errors_by_position,
        last_trained_position,
        plot_errors,
        run_from_record,
        within_reach,
    )
    from .report import PE_NAMES, load_rows

    out = Path(args.dir)
    rows, _, _ = load_rows(out)
    records = [record for row in rows for record in row.records]
    if args.rows:
        wanted = []
        for row in args.rows:
            task, _, rest = row.partition(":")
            pe, _, seed = rest.partition(":")
            if not pe or (seed and not seed.isdigit()):
                raise RaspInputError(f"'{row}': expected TASK:PE or TASK:PE:SEED, e.g. aa_star:ape or aa_star:ape:2")
            wanted.append((task, pe, int(seed) if seed else None))
    else:
        wanted = [(r.task, r.pe, None) for r in rows if r.agrees is False]
        if not wanted:
            print("no row disagrees with its prediction; name rows as TASK:PE")
            return 0
    curves, last_trained = {}, {}
    for task, pe, seed in wanted:  # without a seed, the row's first
        chosen = sorted(
            (r for r in records if r.task == task and r.pe == pe and seed in (None, r.seed)),
            key=lambda r: r.seed,
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
        lengths = bins[args.bin]
        rates = errors_by_position(run, lengths)
        name = f"{task}, {PE_NAMES.get(pe, pe)} (seed {chosen[0].seed}), inputs {lengths[0]}–{lengths[1]}"
        curves[name], last_trained[name] = rates, last_trained_position(run)
        worst = next((i for i, r in enumerate(rates) if r >= 0.5), None)
        half = (
            f"first position wrong on half the examples: {worst}" if worst is not None else "no position wrong on half"
        )
        wrong_anywhere = f"positions wrong on any: {sum(r > 0 for r in rates)} of {len(rates)}"
        print(f"{task:<28} {pe:<5} seed {chosen[0].seed}: {half}; {wrong_anywhere}")
        if args.confusions:
            for band in confusions_by_band(run, lengths, from_start=args.from_start):
                low, high = band["positions"]
                common = ", ".join(f"{t} → {g}: {n}" for (t, g), n in band["common"]) or "none"
                print(
                    f"    positions {low}-{high}: {band['wrong']} of {band['scored']} wrong; commonest (target → answer): {common}"
                )
        if args.heads:
            probe = attention_by_distance(run, lengths)
            print(f"    {_lookups_wrong(probe.lookups_wrong, has_hints(run), last_trained[name])}")
            for head in probe.heads:
                shares = "; ".join(
                    f"{band}: {b['share']:4.0%} ({b['even']:4.0%} even)" for band, b in head["bands"].items()
                )
                print(f"    {head['head']} attention by query-key distance (share of it at even distances): {shares}")
                print(
                    f"         on the induction target: {_by_query(head['induction'])}; on its own token's earlier "
                    f"copies: {_by_query(head['same_token'], head['same_token_uniform'])}"
                )
                hints = "at hint queries, " if "hint" in head["same_token"] else ""
                print(f"         {hints}{_around_copy_text(head['around_copy'], last_trained[name])}")
        if args.reach:
            limited = within_reach(run, lengths)
            shown = ", ".join(f"{where} {rate:.1%}" for where, rate in limited.items() if where != "as trained")
            print(
                f"    exact match {limited['as trained']:.1%} as trained; with attention held to query-key distances "
                f"up to {last_trained[name]} (BOS in reach): {shown}"
            )
        if args.maps:
            maps = attention_maps(run, lengths[1])
            path = out / f"attention_{task}_{pe}_s{chosen[0].seed}_bin{args.bin % len(bins)}.png"
            wrong = int(maps["wrong"].sum())
            plot_attention_maps(
                maps, f"{name}: one example of input length {lengths[1]}, {wrong} positions wrong", path
            )
            print(f"    wrote {path}")
    path = out / "errors_by_position.png"
    plot_errors(curves, last_trained, path)
    print(f"wrote {path}")
    return 0


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


def _lookups_wrong(counts: dict[str, tuple[int, int]], hinted: bool, last_trained: int) -> str:
    """One line on the lookup queries' errors, up to the last trained position and past it."""

    def rate(reach: str) -> str:
        wrong, total = counts[reach]
        return f"{wrong / total:.0%} of {total}" if total else "none"

    queries = "hint queries" if hinted else "queries with an earlier copy of their token (lookup queries)"
    if not counts["beyond"][1]:
        return f"{queries} answered wrong: {rate('within')} (all up to position {last_trained})"
    return f"{queries} answered wrong: {rate('within')} up to position {last_trained}, {rate('beyond')} past it"


# long: one add_argument per flag of three commands, nothing else
def register(sub) -> None:
    p = sub.add_parser("experiment", help="train transformers on the task suite; compare with predictions")
    p.add_argument("tasks", nargs="*", help="task ids (default: the whole suite, or --suite)")
    p.add_argument(
        "--suite",
        default="all",
        choices=["all", "paper", "huang", "zhou", "demo"],
        help="which tasks when none are named",
    )
    p.add_argument(
        "--protocol",
        help="NAME or NAME:VERSION: run under a pre-registered protocol (experiments/length/protocols.json), which fixes the "
        "profile, data, encodings, seeds, selection rule and examples per bin",
    )
    p.add_argument("--profile", help="quick (CPU, the default) or paper (the published protocol, GPU)")
    p.add_argument("--data", help="authors (the samplers of the authors' code, the default) or uniform (a control)")
    p.add_argument(
        "--data-dir",
        help="train and test on a directory in the authors' generated_ds format (train_src.txt, val_src_bin0.txt, …) "
        "instead of sampled data; name the one task it holds",
    )
    p.add_argument("--pe", help="positional encodings: ape, nope, reg (comma-separated; default ape,nope)")
    p.add_argument("--seeds", type=int, help="seeds per task and encoding (default 1)")
    p.add_argument("--steps", type=int, help="override the profile's training steps")
    p.add_argument(
        "--full-schedule",
        action="store_true",
        help="no early stop at 100%% in-distribution: train every step of the schedule (quick always does)",
    )
    p.add_argument("--sweep", action="store_true", help="architecture sweep, smallest first (--select heldout)")
    p.add_argument(
        "--select",
        help="with a sweep, which run to keep: heldout (the first to converge on held-out training-length data; the "
        "default) or authors (their rule, which also reads the second test bin: docs/authors_protocol.md)",
    )
    p.add_argument("--out", help="output directory (default runs/SUITE-PROFILE)")
    p.add_argument("--workers", type=int, help="parallel runs (default: number of CPUs)")
    p.add_argument(
        "--threads",
        type=int,
        help="torch threads per run (default: every core with one worker, 1 with several); give 1 to each of two "
        "experiments run side by side",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--ensemble",
        type=int,
        help="runs of one shape trained as one stacked model (default: all of a task's on cuda, 1 on cpu)",
    )
    p.add_argument("--backend", default="local", choices=["local", "ray"], help="process pool or Ray")
    p.set_defaults(handler=cmd_experiment)

    r = sub.add_parser("report", help="report.md, report.csv and plots from an experiment directory")
    r.add_argument("dir")
    r.add_argument(
        "--paper-extrapolation",
        action="store_true",
        help="also judge each row at the extrapolation the paper measured it at (re-evaluates the checkpoints)",
    )
    r.set_defaults(handler=cmd_report)

    t = sub.add_parser(
        "tally", help="one table over several directories of one protocol: each row as its latest version decided it"
    )
    t.add_argument("dirs", nargs="+", help="experiment directories (their results.jsonl)")
    t.add_argument("--out", help="also write the table to this file (and its figure beside it, as .png)")
    t.set_defaults(handler=cmd_tally)

    e = sub.add_parser("errors", help="where trained models go wrong: error rate by position on a test bin")
    e.add_argument("dir", help="an experiment directory (its checkpoints/ are read)")
    e.add_argument(
        "rows",
        nargs="*",
        help="TASK:PE or TASK:PE:SEED rows (default: those that disagree with their prediction; seed: the first)",
    )
    e.add_argument(
        "--heads",
        action="store_true",
        help="per head: attention by query-key distance (trained, up to 2x, beyond) and its share at even distances",
    )
    e.add_argument(
        "--reach",
        action="store_true",
        help="exact match again with attention held to the trained query-key distances (every layer, each alone)",
    )
    e.add_argument(
        "--maps",
        action="store_true",
        help="draw every head's attention on one example of the bin's longest input, induction targets marked",
    )
    e.add_argument(
        "--confusions",
        action="store_true",
        help="per band of 8 positions past the training lengths: errors and the commonest (target → answer) pairs",
    )
    e.add_argument(
        "--from-start",
        action="store_true",
        help="with --confusions: bands from the first position (a row may fail on long inputs at trained positions)",
    )
    e.add_argument(
        "--bin",
        type=int,
        default=-1,
        help="which test bin's inputs to probe (0: training lengths; default -1, the longest)",
    )
    e.set_defaults(handler=cmd_errors)
