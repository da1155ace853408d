"""`rasp experiment`, `rasp report` and `rasp tally`, and the parser of `rasp errors` (errors_command.py)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rasp.errors import RaspInputError

from .errors_command import cmd_errors

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


# long: one add_argument per flag of four commands, nothing else
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
        "--shifted",
        action="store_true",
        help="exact match again with each input moved by a random position offset within the trained positions "
        "(does the model read absolute positions?)",
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
    e.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per row on stdout (every figure the text shows, unrounded), for scripts",
    )
    e.set_defaults(handler=cmd_errors)
