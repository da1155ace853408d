"""`rasp examples`: every bundled program run on the example in its header, with its size.

The header keys (`# example:`, `# example-tokens:`, `# generate: stop .`) are described in programs/README.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import display
from .errors import RaspError
from .header import read_header
from .program import Program

PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "programs"


def run_example(path: Path) -> str:
    """One line: the program on its example (generated tokens for next-token programs)."""
    program = Program.from_file(path)
    header = read_header(program.source)
    example = header.example
    if example is None:
        return "(no example in the header)"
    tokens, joined = example
    if header.stop is not None:
        new = program.generate(tokens, max_new=64, stop=header.stop)
        return f"{display.format_values(tokens, joined)}  ⟶  {display.format_values(new, joined)}"
    values = program.run(tokens)
    return f"{display.format_values(tokens, joined)}  ⟶  {display.format_values(values, joined)}"


def cmd_examples(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files] or sorted(PROGRAMS_DIR.glob("*.rasp"))
    if not paths:
        raise RaspError(f"no programs found in {PROGRAMS_DIR}")
    measure = _measure_function()
    failures = 0
    for path in paths:
        try:
            line = run_example(path)
            size = ""
            if measure is not None:
                m = measure(Program.from_file(path))
                size = f"  [{m.ops} ops, {m.layers} layers, ≤{m.max_heads_per_layer} heads/layer]"
            print(f"{path.stem:<28} {line}{size}")
        except RaspError as error:
            failures += 1
            print(f"{path.stem:<28} error: {error}")
    return 1 if failures else 0


def _measure_function():
    try:
        from .analysis import measure
    except ImportError:
        return None
    return measure


def register(sub) -> None:
    p = sub.add_parser("examples", help="run every bundled program on the example in its header")
    p.add_argument("files", nargs="*", help="programs to run (default: all of programs/)")
    p.set_defaults(handler=cmd_examples)
