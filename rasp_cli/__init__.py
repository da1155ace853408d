"""The `rasp` command line: the top of the toolkit, importing each layer's commands downward.

Each package has a module with `register(subparsers)` (rasp.commands, rasp.examples, rasp.analysis.commands,
compiler.commands, experiments.commands, experiments.compare_commands); their handlers import heavy
dependencies (torch, matplotlib) only when they run. Every error a user can cause prints
`file:line:col: message` and exits with status 1; there is never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from compiler import commands as compiler_commands
from experiments.compiled import commands as compare_commands
from experiments.length import commands as experiment_commands
from rasp import commands as language_commands
from rasp import examples
from rasp.analysis import commands as analysis_commands
from rasp.errors import RaspError, report

REGISTRARS = (
    language_commands.register,
    examples.register,
    analysis_commands.register,
    compiler_commands.register,
    experiment_commands.register,
    compare_commands.register,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rasp-toolkit")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasp", description="Write, run and analyse RASP programs.")
    parser.add_argument("--version", action="version", version=f"rasp-toolkit {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse binds an optional positional before later flags: `run FILE --all hello` leaves `hello` over.
    if extra and hasattr(args, "input") and args.input is None and len(extra) == 1 and not extra[0].startswith("-"):
        args.input = extra[0]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.handler(args)
    except RaspError as error:
        report(error)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: out of memory (use shorter inputs, a smaller vocabulary or a smaller max_len)", file=sys.stderr)
        return 1
    except RecursionError:  # a pass the limits in rasp.limits do not cover yet
        print("error: the program is nested too deeply for Python's recursion limit", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except ImportError as error:  # an optional extra that is not installed: say which, not a traceback
        extra = _EXTRAS.get((error.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"error: this command needs {error.name}: pip install 'rasp-toolkit[{extra}]'", file=sys.stderr)
        return 1


# The optional dependencies, by module, and the extra that installs each (pyproject.toml).
_EXTRAS = {
    "torch": "torch",
    "safetensors": "torch",
    "matplotlib": "plot",
    "ray": "ray",
    "transformer_lens": "transformer-lens",
}
