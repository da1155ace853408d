"""`rasp measure`, `rasp predict` and `rasp draw` (registered by the command line, rasp_cli, through `register`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import RaspError, RaspInputError, report

MARK = {True: "✓", False: "✗", None: "-"}


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _load_all(files: list[str]) -> tuple[list[tuple[str, Any]], bool]:
    from ..program import Program

    loaded, failed = [], False
    for path in files:
        try:
            loaded.append((path, Program.from_file(path)))
        except RaspError as error:
            report(error)
            failed = True
    return loaded, failed


def _analyse_all(paths: list[str], analyse, output: str | None) -> tuple[list, bool]:
    """(path, analyse(program, output)) for every file that loads and analyses; errors are reported, not raised."""
    loaded, failed = _load_all(paths)
    results = []
    for path, program in loaded:
        try:
            results.append((path, analyse(program, output)))
        except RaspError as error:
            report(error)
            failed = True
    return results, failed


# ---- measure ---------------------------------------------------------------------------------------


def cmd_measure(args: argparse.Namespace) -> int:
    from .measure import measure

    results, failed = _analyse_all(args.files, measure, args.output)
    if args.json:
        print(json.dumps([m.as_dict() for _, m in results], indent=2))
    elif results:
        header = ["program", "mode", "ops", "attention", "selects", "MLP", "statements", "layers", "heads/layer", "max"]
        rows = [
            [
                path,
                m.mode,
                m.ops,
                m.attention_ops,
                m.selects,
                m.mlp_ops,
                m.statements,
                m.layers,
                ",".join(map(str, m.heads_per_layer)) or "-",
                m.max_heads_per_layer,
            ]
            for path, m in results
        ]
        print(_table(header, rows))
    return 1 if failed else 0


# ---- predict ---------------------------------------------------------------------------------------


def _agreement_cell(prediction: Any) -> str:
    if prediction.paper is None:
        return "-"
    agree = prediction.agreement
    wrong = [name for name, key in (("APE", "ape"), ("NoPE", "nope")) if not agree[key]]
    return "yes" if not wrong else "NO: " + ", ".join(wrong)


def _details(path: str, prediction: Any) -> list[str]:
    from .tasks import NO_PROGRAM

    lines = [path + (f"  (task {prediction.task}: {prediction.paper.name})" if prediction.paper else "")]
    for fragment in ("rasp_l", "crasp", "crasp_pos"):
        verdict = prediction.verdict(fragment)
        lines.append(f"  {verdict.title} {MARK[verdict.ok]}")
        for reason in verdict.reasons:
            lines.append(f"    - {reason}")
    if prediction.kinds:
        kinds = ", ".join(f"{name}: {kind}" for name, kind in prediction.kinds.items())
        lines.append(f"  value kinds: {kinds}")
    paper = prediction.paper
    if paper is not None:
        agree = prediction.agreement
        lines.append(
            f"  paper ({paper.name}): APE {MARK[paper.pred_ape]} (observed {'/'.join(map(_pct, paper.ape))}), "
            f"NoPE {MARK[paper.pred_nope]} (observed {'/'.join(map(_pct, paper.nope))}); "
            f"C-RASP[periodic, local] {'agrees' if agree['ape'] else 'DISAGREES'}, "
            f"C-RASP {'agrees' if agree['nope'] else 'DISAGREES'}"
        )
        missing = [name for name, ok in (("APE", paper.pred_ape), ("NoPE", paper.pred_nope)) if not ok]
        if missing:
            lines.append(f"  paper's ✗ ({', '.join(missing)}): {prediction.impossibility or NO_PROGRAM}")
    elif prediction.impossibility:
        lines.append(f"  known: {prediction.impossibility}")
    return lines


def _pct(x: float) -> str:
    return f"{x:g}"


# long: the output formats (table, brief, witness, JSON) side by side
def cmd_predict(args: argparse.Namespace) -> int:
    from ..inputs import split_input
    from .fragments import predict
    from .tasks import task_of_program

    vocab = None if args.vocab is None else split_input(args.vocab, whitespace=True, keep_strings=args.strings)

    def analyse(program: Any, output: str | None) -> Any:
        task = args.task or task_of_program(Path(program.filename).stem)
        return predict(program, output, task=task, vocab=vocab)

    results, failed = _analyse_all(args.files, analyse, args.output)
    if args.json:
        print(json.dumps([p.as_dict() for _, p in results], indent=2))
        return 1 if failed else 0
    if not results:
        return 1 if failed else 0
    header = [
        "program",
        "RASP-L",
        "C-RASP (NoPE)",
        "C-RASP[per,loc] (APE)",
        "ops",
        "attn",
        "layers",
        "heads/layer",
        "paper APE",
        "paper NoPE",
        "agrees",
    ]
    rows = []
    for path, p in results:
        m = p.measure
        rows.append(
            [
                path,
                MARK[p.rasp_l.ok],
                MARK[p.crasp.ok],
                MARK[p.crasp_pos.ok],
                m.ops,
                m.attention_ops,
                m.layers,
                ",".join(map(str, m.heads_per_layer)) or "-",
                MARK[p.paper.pred_ape] if p.paper else "-",
                MARK[p.paper.pred_nope] if p.paper else "-",
                _agreement_cell(p),
            ]
        )
    print(_table(header, rows))
    judged = [p for _, p in results if p.paper is not None]
    if judged:
        agreeing = sum(sum(p.agreement.values()) for p in judged)
        print(
            f"\npaper's table: {agreeing}/{2 * len(judged)} predictions agree "
            f"({len(judged)} task(s) with a program; APE ↔ C-RASP[periodic, local], NoPE ↔ C-RASP)"
        )
    if not args.brief:
        for path, p in results:
            print()
            print("\n".join(_details(path, p)))
    if args.witness:
        for path, p in results:
            for verdict in (p.crasp, p.crasp_pos):
                if verdict.witness is not None:
                    print(f"\n{path}: witness for {verdict.title} (checked on random inputs)")
                    print(verdict.witness.text())
                    break  # a C-RASP witness is also one for C-RASP[periodic, local]
    return 1 if failed else 0


# ---- draw ------------------------------------------------------------------------------------------


def cmd_draw(args: argparse.Namespace) -> int:
    from ..inputs import split_input
    from ..program import Program
    from .draw import FORMATS, draw_program, example_input, save_figure

    program = Program.from_file(args.file)
    if args.tokens is not None and args.input is not None:
        raise RaspInputError("give the input either as a string or with --tokens, not both")
    if args.tokens is not None:
        tokens = split_input(args.tokens, whitespace=True, keep_strings=args.strings)
    elif args.input is not None:
        tokens = split_input(args.input, keep_strings=args.strings)
    else:
        tokens = example_input(program)
        if tokens is None:
            raise RaspInputError(f"{args.file} has no '# example:' line; give an input (--input hello)")
    outputs = args.out or [f"{Path(args.file).stem}{suffix}" for suffix in FORMATS]
    for out in outputs:
        if Path(out).suffix.lower() not in FORMATS:
            raise RaspInputError(f"cannot write {out}: the picture is written as .png or .svg")
    figure = None
    for out in outputs:
        if figure is None:
            figure = draw_program(program, tokens, out, output=args.output)
        else:
            save_figure(figure, out)
        print(f"wrote {out}")
    return 0


def register(sub: Any) -> None:
    m = sub.add_parser("measure", help="program length and layers × heads of programs")
    m.add_argument("files", nargs="+")
    m.add_argument("--output", help="measure this named s-op instead of the program's output")
    m.add_argument("--json", action="store_true", help="print JSON")
    m.set_defaults(handler=cmd_measure)

    p = sub.add_parser(
        "predict",
        help="RASP-L / C-RASP / C-RASP[periodic, local] verdicts with reasons, and the paper's predictions",
    )
    p.add_argument("files", nargs="+")
    p.add_argument("--output", help="judge this named s-op instead of the program's output")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--brief", action="store_true", help="only the table, no reasons")
    p.add_argument(
        "--vocab",
        help='the tokens inputs may hold, e.g. "a b c" (integer-looking ones are numbers); without it tokens may '
        "be numbers, so a mean of tokens is a mean",
    )
    p.add_argument("--strings", action="store_true", help="keep integer-looking --vocab tokens as strings")
    p.add_argument(
        "--task",
        help="compare with this task of Huang et al.'s table (default: the file's stem, when it is a task id there)",
    )
    p.add_argument(
        "--witness",
        action="store_true",
        help="print the C-RASP witness of each ✓ (the program in the fragment's syntax)",
    )
    p.set_defaults(handler=cmd_predict)

    d = sub.add_parser("draw", help="picture of a program as a transformer (and its s-op graph), PNG or SVG")
    d.add_argument("file")
    d.add_argument("--input", help="example input string, split into characters (default: the file's '# example:')")
    d.add_argument("--tokens", help='whitespace-separated tokens instead, e.g. "3 1 2"')
    d.add_argument("--strings", action="store_true", help="keep integer-looking tokens as strings")
    d.add_argument("--output", help="draw this named s-op instead of the program's output")
    d.add_argument(
        "-o",
        "--out",
        action="append",
        help="file to write (.png or .svg; repeatable; default: FILE-stem .png and .svg)",
    )
    d.set_defaults(handler=cmd_draw)
