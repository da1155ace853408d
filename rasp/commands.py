"""`rasp run`, `rasp check` and `rasp repl`: the language's own commands (registered by rasp_cli).

Every error a user can cause prints `file:line:col: message` (with the line and a caret) and exits
with status 1; there is never a traceback.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import display
from .errors import RaspError, report
from .header import read_header
from .inputs import read_stop, split_input
from .program import Program


def _add_input_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", default=None, help="input string, split into characters")
    p.add_argument("--tokens", help='whitespace-separated tokens instead, e.g. "3 1 2"')
    p.add_argument("--strings", action="store_true", help="keep integer-looking tokens as strings")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--bidirectional", action="store_true", help="evaluate bidirectionally (override the file)")
    mode.add_argument("--causal", action="store_true", help="evaluate causally (override the file)")


def _tokens(args: argparse.Namespace) -> tuple[list, bool]:
    """The input tokens and whether they came as one string of characters."""
    if args.tokens is not None and args.input is not None:
        raise RaspError("give the input either as a string or with --tokens, not both")
    if args.tokens is not None:
        return split_input(args.tokens, whitespace=True, keep_strings=args.strings), False
    if args.input is None:
        raise RaspError('no input: give a string (e.g. hello) or --tokens "3 1 2"')
    return split_input(args.input, keep_strings=args.strings), True


def _causal(args: argparse.Namespace) -> bool | None:
    if args.bidirectional:
        return False
    if args.causal:
        return True
    return None


def cmd_run(args: argparse.Namespace) -> int:
    program = Program.from_file(args.file)
    tokens, as_string = _tokens(args)
    causal = _causal(args)
    if args.generate:
        stop = read_stop(args.stop, args.strings)
        if stop is None:  # the program's own `# generate: stop .` header
            stop = read_header(program.source).stop
        new = program.generate(tokens, max_new=args.max_new, stop=stop, output=args.output, causal=causal)
        if args.json:
            print(json.dumps({"prompt": tokens, "generated": new}))
        else:
            print(display.format_values(tokens + new, joined=as_string))
        return 0
    if args.all:
        values = program.run_all(tokens, causal=causal)
        if args.json:
            print(json.dumps({"tokens": tokens, "values": values}))
            return 0
        sops = {n: v for n, v in values.items() if not program.op(n).is_selector}
        print(display.format_table(tokens, sops))
        for name, matrix in values.items():
            if program.op(name).is_selector:
                print()
                print(display.format_selector(tokens, matrix, name))
        return 0
    name = args.output or program.output
    values = program.run(tokens, output=name, causal=causal)
    if args.json:
        print(json.dumps({"tokens": tokens, "output": name, "values": values}))
    elif program.op(name).is_selector:
        print(display.format_selector(tokens, values, name))
    else:
        print(display.format_values(values, joined=as_string))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check every file named, reporting each failure, so one bad file does not hide the state of the others."""
    failed = 0
    for path in args.files:
        try:
            program = Program.from_file(path)
        except RaspError as error:
            report(error)
            failed += 1
            continue
        ops = len(program.graph.schedule([program.output_id(None)])) if program.output else 0
        print(f"{path}: ok ({program.mode}, output {program.output}, {ops} ops)")
    return 1 if failed else 0


def cmd_repl(args: argparse.Namespace) -> int:
    from .repl import Repl

    Repl(example=args.example).loop()
    return 0


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run a program on an input")
    run.add_argument("file")
    _add_input_arguments(run)
    run.add_argument("--output", help="which named s-op to print (default: the program's output)")
    run.add_argument("--all", action="store_true", help="every named s-op, as a table")
    run.add_argument("--json", action="store_true", help="print JSON")
    run.add_argument("--generate", action="store_true", help="next-token generation from the input as prompt")
    run.add_argument("--max-new", type=int, default=64, help="most tokens to generate (default 64)")
    run.add_argument("--stop", help="stop after generating this token (default: the header's `# generate: stop X`)")
    run.set_defaults(handler=cmd_run)

    check = sub.add_parser("check", help="parse and name-check programs")
    check.add_argument("files", nargs="+")
    check.set_defaults(handler=cmd_check)

    repl = sub.add_parser("repl", help="interactive session")
    repl.add_argument("--example", default="hello", help="the running example input (default: hello)")
    repl.set_defaults(handler=cmd_repl)
