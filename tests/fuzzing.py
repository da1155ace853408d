"""A seeded fuzzer for the error contract: mutants of the bundled programs and hostile inputs, through the API
and the CLI. Every case must end in a value or a `RaspError` (the CLI: exit status 0, 1, or argparse's 2,
never an escaping exception), within a time bound.

Shared by tests/test_fuzz.py (a few hundred cases in CI) and benchmarks/fuzz.py (thousands, with figures).
Mutations work on the text (characters and tokens) so they reach the lexer, the parser, the lowerer and,
when the mutant still parses, the evaluator.
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import rasp
from rasp_cli import main

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = sorted((ROOT / "programs").glob("*.rasp"))

# Snippets a hostile or careless user might type: each reaches a limit or an error path.
HOSTILE_SNIPPETS = [
    r"'\x4'", r"'\N{NOPE}'", r"'\u12'", r"'\ud800'", r"'\q'", "9" * 400, "9" * 5000, "1e999", "0.0", "-0",
    "'ab' * 9999999999", "(", ")", ";", "{", "}", "[", "]", ",", ":", "=", "==", "'", '"', "#", "@mode", "@output",
    "\u2028", "\x0c", "\x00", "\x85", "é", "𝔘", "lambda a, a: a", "def f(a, a) { return a; }",
    'load "std";', 'load "nope";', 'load "/etc/passwd";', "select(", "aggregate(", "selector_width(",
    "numerical(", "categorical(", "map(lambda t: t, ", "tokens", "indices", "length", "True", "False", "not",
    "and", "or", "if", "else", "return", "def", "reduce='max'", "default=", "10**3", "1/0", "tokens / 0",
    "tokens % 0", "round(1e999)", "'a' * tokens", "[1, 2][5]", "{1: 2}[3]", "[]", "{}", "[[1]]",
    "tokens" + " + 1" * 300, "-" * 300 + "1", "(" * 300, "x = x;", "@mode causal;", "@mode sideways;",
]  # fmt: skip
EXTREME_NUMBERS = ["0", "1", "-1", "2", "0.5", "1e308", "1e-308", "4611686018427387905", "100000000000000000000"]

# Token values for hostile inputs (each alone, or mixed into an ordinary input).
HOSTILE_TOKENS: list[Any] = [
    None, [1], {1: 2}, (1,), {1}, b"x", object(), 10**400, -(10**400), 2**63, 2**62 + 1, math.nan, math.inf,
    -math.inf, 1e308, -0.0, True, "", "\ud800", "a" * 1000, np.int64(3), np.float32(0.5), np.array([1, 2]),
    "\x00", "é", 1j,
]  # fmt: skip
ORDINARY_INPUTS: list[list] = [list("hello"), [3, 1, 2], [], [0], ["a", 1], [1.5, -2], list("(()))("), list("ab>")]


class Hang(Exception):
    """A case ran past the time bound."""


@dataclass
class Tally:
    """What the cases ended in; `failures` keeps a few examples of each bad outcome."""

    outcomes: Counter = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)
    slowest: float = 0.0

    def record(self, kind: str, what: str = "", example: str = "") -> None:
        self.outcomes[kind] += 1
        if kind in ("other exception", "hang", "cli traceback", "bad exit status"):
            self.failures.setdefault(f"{kind}: {what}", []).append(example[:3000])

    @property
    def bad(self) -> int:
        return sum(self.outcomes[k] for k in ("other exception", "hang", "cli traceback", "bad exit status"))


@contextlib.contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread after `seconds` (SIGALRM; a no-op where there is none)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise Hang(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(tally: Tally, label: str, action: Callable[[], Any], seconds: float) -> None:
    """One case: a value or a RaspError is fine; anything else, or running past `seconds`, is counted."""
    start = time.perf_counter()
    try:
        with time_bound(seconds):
            action()
        tally.record("ok")
    except rasp.RaspError:
        tally.record("rasp error")
    except Hang:
        tally.record("hang", label, label)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        tally.record("other exception", f"{type(exc).__name__}: {str(exc)[:80]}", label)
    tally.slowest = max(tally.slowest, time.perf_counter() - start)


# ---- program mutants ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\d+\.?\d*|\w+|==|!=|<=|>=|//|.""")


def mutate(source: str, rng: random.Random) -> str:
    """One to three random edits of a program's text."""
    for _ in range(rng.randint(1, 3)):
        tokens = _TOKEN.findall(source) or [""]
        i = rng.randrange(len(tokens))
        choice = rng.randrange(9)
        if choice == 0:  # delete a token
            del tokens[i]
        elif choice == 1:  # insert a hostile snippet
            tokens.insert(i, rng.choice(HOSTILE_SNIPPETS))
        elif choice == 2:  # replace a token by another of the program's
            tokens[i] = rng.choice(tokens)
        elif choice == 3:  # swap two tokens
            j = rng.randrange(len(tokens))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif choice == 4 and any(t[:1].isdigit() for t in tokens):  # an extreme number
            i = rng.choice([k for k, t in enumerate(tokens) if t[:1].isdigit()])
            tokens[i] = rng.choice(EXTREME_NUMBERS)
        elif choice == 5:  # duplicate a line
            lines = "".join(tokens).split("\n")
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            tokens = ["\n".join(lines)]
        elif choice == 6:  # truncate
            tokens = tokens[:i]
        elif choice == 7:  # a random character
            tokens.insert(i, chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000), 0x2028, 0])))
        else:  # wrap an expression-looking token in a call
            tokens[i] = f"{rng.choice(['abs', 'map(lambda t: t * 2,', 'selector_width', 'numerical'])}({tokens[i]})"
        source = "".join(tokens)
    return source


def program_cases(rng: random.Random) -> Iterator[tuple[str, str]]:
    """(label, mutant source) forever."""
    texts = [(p.name, p.read_text()) for p in PROGRAMS]
    while True:
        name, text = rng.choice(texts)
        yield name, mutate(text, rng)


def exercise_program(source: str, rng: random.Random) -> None:
    """Parse a mutant and, if it parses, run it the ways a user would."""
    program = rasp.parse(source, "<mutant>")
    inputs = rng.sample(ORDINARY_INPUTS, 2)
    for tokens in inputs:
        program.run(tokens)
    program.run_batch(inputs, causal=not program.causal)
    program.run_all(inputs[0])
    if program.output is not None and not program.op().is_selector:
        program.generate(inputs[0] or ["a"], max_new=3)


# ---- hostile inputs -----------------------------------------------------------------------------------

_INPUT_PROGRAMS = ["reverse", "sort", "hist", "dyck1", "majority", "addition_hints", "count"]


def hostile_input(rng: random.Random) -> Any:
    base = list(rng.choice(ORDINARY_INPUTS))
    kind = rng.randrange(6)
    if kind == 0:
        return [rng.choice(HOSTILE_TOKENS)]
    if kind == 1:
        base.insert(rng.randint(0, len(base)), rng.choice(HOSTILE_TOKENS))
        return base
    if kind == 2:
        return rng.choice([5, None, 3.5, "abc", b"abc", {"a": 1}, np.zeros((2, 2)), [[1, 2], [3]], range(3)])
    if kind == 3:
        return [rng.randint(-(2**70), 2**70) for _ in range(rng.randint(1, 5))]
    if kind == 4:
        return [rng.random() * 10 ** rng.randint(-300, 308) for _ in range(rng.randint(1, 5))]
    return list(range(rng.choice([2000, 6000, 20000])))  # long: the selector bound


def input_cases(rng: random.Random) -> Iterator[tuple[str, Callable[[], Any]]]:
    programs = {name: rasp.load(ROOT / "programs" / f"{name}.rasp") for name in _INPUT_PROGRAMS}
    while True:
        name = rng.choice(_INPUT_PROGRAMS)
        program, value = programs[name], hostile_input(rng)
        call = rng.randrange(6)
        label = f"{name} call {call} on {value!r:.80}"
        if call == 0:
            yield label, lambda p=program, v=value: p.run(v)
        elif call == 1:
            yield label, lambda p=program, v=value: p.run_batch([v, [1, 2]])
        elif call == 2:
            yield label, lambda p=program, v=value: p.run_batch(v)
        elif call == 3:
            stop = rng.choice(HOSTILE_TOKENS)
            yield label, lambda p=program, v=value, s=stop: p.generate(v, max_new=2, stop=s)
        elif call == 4:
            options = [{"output": v} for v in (value, 3, "nope")] + [{"causal": "yes"}, {"causal": value}]
            option = rng.choice(options)
            yield label, lambda p=program, o=option: p.run([1, 2], **o)
        else:
            max_new = rng.choice([value, -1, 2.5, True, 10**9])
            yield label, lambda p=program, m=max_new: p.generate([1, 2], max_new=m)


# ---- the command line ---------------------------------------------------------------------------------


def run_cli(tally: Tally, argv: list[str], seconds: float, source: str = "") -> None:
    """`rasp ARGV` in-process: an exception escaping main() is a traceback the user would see. `source`: the
    program file's text, kept with a failure."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    try:
        with time_bound(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
    except SystemExit as exc:  # argparse: a usage message and status 2
        status = exc.code
    except Hang:
        tally.record("hang", f"rasp {argv[0]}", f"{argv!r} on {source!r}")
        return
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        tally.record(
            "cli traceback", f"rasp {argv[0]}: {type(exc).__name__}: {str(exc)[:80]}", f"{argv!r} on {source!r}"
        )
        return
    finally:
        tally.slowest = max(tally.slowest, time.perf_counter() - start)
    if status in (0, 1, 2):
        tally.record(f"cli exit {status}")
    else:
        tally.record("bad exit status", f"{status}", repr(argv))


def cli_argv(path: Path, rng: random.Random) -> list[str]:
    """A command a user might run on a (mutant) program file."""
    text = "".join(rng.choice("ab01()>+ ") for _ in range(rng.randint(0, 8)))
    tokens = " ".join(str(rng.choice(["1", "-2", "99999999999999999999999", "a", "é", ">", "1e999"])) for _ in "xyz")
    choice = rng.randrange(7)
    if choice == 0:
        return ["check", str(path)]
    if choice == 1:
        return ["run", str(path), text]
    if choice == 2:
        return ["run", str(path), "--tokens", tokens, "--all"]
    if choice == 3:
        stop = rng.choice(["", "a b", ".", "1"])
        return ["run", str(path), text or "ab", "--generate", "--max-new", str(rng.choice([-1, 0, 3])), "--stop", stop]
    if choice == 4:
        return ["run", str(path), text, "--output", rng.choice(["nope", "tokens", "length", ""]), "--json"]
    if choice == 5:
        return ["measure", str(path)]
    return ["predict", str(path)]
