"""The RASP REPL: statements one at a time, each new s-op shown on a running example.

Each entry is lowered into the same graph (so earlier names stay bound); an entry that fails leaves
nothing behind. Selectors are drawn as grids (■ = query row selects key column).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from . import display
from . import syntax as S
from .errors import RaspError
from .inputs import split_input
from .lower import Applied, Const, Function, Lowerer, SelRef, SOpRef
from .parser import parse_source
from .program import Program

HELP = """\
Statements end with ';' (they may span lines). After each one the new value is shown on the example.
  x = map(lambda t: t + 1, indices);      bind a name          def f(a) { ...; return e; }
  select(tokens, tokens, ==);             show an expression   load "std";   @mode bidirectional;
Commands:
  :example hello      set the running example (characters)   :tokens 3 1 2   (whitespace-separated)
  :mode [causal|bidirectional]  show or set the mode           :names          every bound name
  :show NAME          a name's values (or grid)               :draw NAME      a picture (PNG) of NAME's program
  :source             what has been entered                   :reset          start again
  :help               this text                               :quit           leave (or Ctrl-D)
The original RASP's REPL forms work too: hist("hello");  set example "abc"  show example  draw(x, "ab");  exit"""

_ORIGINAL_SETTING = re.compile(r"(set\b.*\bexample\b\s*\S|show\b.*\bexample\b|full seq display\b|exit\b|quit\b)")
HISTORY = Path(os.environ.get("RASP_HISTORY", Path.home() / ".rasp_history"))


class Repl:
    def __init__(self, example: str = "hello", out=print):
        self.out = out
        self.example = split_input(example)
        self.reset()

    def reset(self) -> None:
        self.lowerer = Lowerer()
        self.entries: list[str] = []
        self.causal: bool | None = None

    @property
    def mode(self) -> str:
        """The mode values are shown in: :mode's or a loaded program's, else the session's own (causal by default)."""
        if self.causal is not None:
            return "causal" if self.causal else "bidirectional"
        return self.lowerer.mode or "causal"

    # ---- the program so far --------------------------------------------------------------------

    def program(self) -> Program:
        return Program(self.lowerer, "\n".join(self.entries), "<repl>")

    def evaluate(self, op_id: int, example: list | None = None):
        example = self.example if example is None else example
        return self.program().evaluate_ops([example], {"value": op_id}, self.causal)["value"][0]

    def show_value(self, name: str, op_id: int, example: list | None = None) -> None:
        example = self.example if example is None else example
        op = self.lowerer.graph.op(op_id)
        values = self.evaluate(op_id, example)
        if op.is_selector:
            self.out(display.format_selector(example, values, name))
        else:
            self.out(display.format_table(example, {name: values}))

    # ---- input ----------------------------------------------------------------------------------

    def feed(self, text: str) -> None:
        """One complete entry: a command or one or more statements."""
        text = text.strip()
        if not text:
            return
        if text.startswith(":") or text.startswith("draw "):
            self.command(text)
            return
        filename = f"<repl:{len(self.entries) + 1}>"
        snapshot = (
            dict(self.lowerer.globals.names),
            dict(self.lowerer.bindings),
            self.lowerer.mode,
            self.lowerer.output,
        )
        try:
            module = parse_source(text, filename)
            self.lowerer.lower_source(text, filename)
        except (RaspError, MemoryError, RecursionError) as error:  # the entry is lost, the session is not
            self.lowerer.globals.names, self.lowerer.bindings, self.lowerer.mode, self.lowerer.output = snapshot
            self.lowerer.depth = 0
            self.out(str(error) if isinstance(error, RaspError) else f"error: the entry is too large ({error!r})")
            return
        self.entries.append(text)
        if any(isinstance(st, S.Load) and self._is_program(st) for st in module.statements):
            self._adopt(module, before=snapshot[0])
        for statement in module.statements:
            self.describe(statement)

    def _is_program(self, statement: S.Load) -> bool:
        """A loaded file of the user's (not the standard library): its names and mode are the session's."""
        from .lower.lowerer import LIBRARY_DIR

        return self.lowerer.resolve_load(statement).parent != LIBRARY_DIR

    def _adopt(self, module: S.Module, before: dict) -> None:
        """Make a loaded program's top-level s-ops names of the session (:names, :show, draw) and take its mode."""
        from .parser import read_source

        for name, value in self.lowerer.globals.names.items():
            if name not in before and isinstance(value, (SOpRef, SelRef)):
                self.lowerer.bindings[name] = value
        for statement in (st for st in module.statements if isinstance(st, S.Load) and self._is_program(st)):
            path = self.lowerer.resolve_load(statement)
            loaded = parse_source(read_source(path), str(path))
            for directive in (d for d in loaded.statements if isinstance(d, S.Directive) and d.name == "mode"):
                self.causal = directive.value == "causal"
                self.out(f"mode: {directive.value} (from {path.name})")

    def describe(self, statement: S.Statement) -> None:
        try:
            if isinstance(statement, (S.Assign, S.Unpack)):
                for name in [statement.name] if isinstance(statement, S.Assign) else statement.names:
                    self.describe_name(name)
            elif isinstance(statement, S.ReplCommand):
                self.setting(statement)
            elif isinstance(statement, S.ExprStmt):
                value = self.lowerer.last_expression
                if isinstance(value, (SOpRef, SelRef)):
                    self.show_value("_", value.id)
                elif isinstance(value, Const):
                    self.out(repr(value.value))
                elif isinstance(value, Applied):
                    self.show_applied(value)
            elif isinstance(statement, S.FuncDef):
                self.out(f"defined {statement.name}({', '.join(statement.params)})")
            elif isinstance(statement, S.Load):
                functions = [n for n, v in self.lowerer.globals.names.items() if isinstance(v, Function)]
                self.out(f"loaded {statement.module}: {', '.join(functions)}")
            elif isinstance(statement, S.Directive):
                if statement.name == "mode":
                    self.causal = statement.value == "causal"
                self.out(f"@{statement.name} {statement.value}")
        except RaspError as error:
            self.out(str(error))

    def describe_name(self, name: str) -> None:
        value = self.lowerer.globals.names[name]
        if isinstance(value, (SOpRef, SelRef)):
            self.show_value(name, value.id)
        elif isinstance(value, Const):
            self.out(f"{name} = {value.value!r}")
        elif isinstance(value, Function):
            self.out(f"{name}: a function")
        else:
            self.out(f"{name}: {type(value).__name__[:-5].lower()} of {len(value.items)} items")

    def setting(self, statement: S.ReplCommand) -> None:
        """The original RASP REPL's settings: `set example ...` sets the running example; `exit` leaves."""
        if statement.words == "exit":
            raise EOFError
        if statement.words.startswith("set"):
            example = self.lowerer.constant(statement.example, self.lowerer.globals)
            self.example = split_input(example) if isinstance(example, str) else list(example)
            self.out(f"example: {display.format_values(self.example)}")
        elif statement.words.startswith("show"):
            self.out(f"example: {display.format_values(self.example)}")
        else:
            self.out(f"{statement.words} (every value is shown in full here)")

    def show_applied(self, value: Applied) -> None:
        example = self.example if value.example is None else value.example
        example = list(example) if isinstance(example, str) else example
        if not value.draw:
            self.show_value("_", value.target.id, example)
            return
        names = [n for n, v in self.lowerer.bindings.items() if v == value.target]
        if not names:
            self.out("draw() needs a named s-op: name it first (x = ...;)")
            return
        saved, self.example = self.example, example
        try:
            self.draw(names[-1])
        finally:
            self.example = saved

    def command(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if word in (":quit", ":q", ":exit"):
            raise EOFError
        if word == ":help":
            self.out(HELP)
        elif word == ":example":
            self.example = split_input(rest)
            self.out(f"example: {display.format_values(self.example)}")
        elif word == ":tokens":
            self.example = split_input(rest, whitespace=True)
            self.out(f"example: {display.format_values(self.example)}")
        elif word == ":mode" and rest in ("causal", "bidirectional"):
            self.causal = rest == "causal"
            self.out(f"mode: {rest}")
        elif word == ":mode" and not rest:
            self.out(f"mode: {self.mode} (:mode causal|bidirectional changes it)")
        elif word == ":names":
            for name, value in self.lowerer.bindings.items():
                kind = "selector" if isinstance(value, SelRef) else "s-op" if isinstance(value, SOpRef) else "value"
                self.out(f"  {name}: {kind}")
            for name, op_id in self.lowerer.local_names.items():  # inside the session's functions
                self.out(f"  {name}: {'selector' if self.lowerer.graph.op(op_id).is_selector else 's-op'}")
        elif word == ":show" and rest in self.lowerer.local_names:
            self.show_value(rest, self.lowerer.local_names[rest])
        elif word == ":show" and isinstance(self.lowerer.globals.names.get(rest), (SOpRef, SelRef, Const)):
            value = self.lowerer.bindings.get(rest, self.lowerer.globals.names[rest])  # built-ins too: tokens, indices
            if isinstance(value, (SOpRef, SelRef)):
                self.show_value(rest, value.id)
            else:
                self.out(repr(getattr(value, "value", value)))
        elif word == ":show" and rest in ("tokens", "indices", "length"):  # built-ins: lowered, not bound
            self.lowerer.lower_source(f"{rest};", "<show>")
            self.show_value(rest, self.lowerer.last_expression.id)
        elif word == ":source":
            self.out("\n".join(self.entries))
        elif word == ":reset":
            self.reset()
            self.out("cleared")
        elif word in ("draw", ":draw"):
            self.draw(rest)
        else:
            self.out(f"unknown command {text!r}; :help lists the commands")

    def draw(self, name: str) -> None:
        try:
            from .analysis.draw import draw_program
        except ImportError:
            self.out("drawing needs rasp.analysis (and matplotlib)")
            return
        program = self.program()
        if name not in program.names:
            self.out(f"no s-op named '{name}'")
            return
        program.output = name
        path = Path(f"{name}.png")
        try:
            draw_program(program, self.example, path)
        except RaspError as error:
            self.out(str(error))
            return
        except ImportError as error:  # matplotlib is an extra: the session goes on
            self.out(f"drawing needs {error.name}: pip install 'rasp-toolkit[plot]'")
            return
        self.out(f"wrote {path}")

    # ---- the terminal loop ----------------------------------------------------------------------

    def loop(self) -> None:
        try:
            import readline  # line editing and history, where the platform has it

            if HISTORY.exists():
                readline.read_history_file(HISTORY)
        except (ImportError, OSError):
            readline = None
        self.out(f"RASP REPL — :help for help. Mode: {self.mode}. Example: {display.format_values(self.example)}")
        buffer: list[str] = []
        try:
            while True:
                try:
                    line = input("  ... " if buffer else "rasp> ")
                except KeyboardInterrupt:
                    buffer = []
                    self.out("")
                    continue
                buffer.append(line)
                text = "\n".join(buffer)
                if is_complete(text):
                    buffer = []
                    self.feed(text)
        except EOFError:
            self.out("")
        finally:
            if readline is not None:
                try:
                    readline.write_history_file(HISTORY)
                except OSError:
                    pass


def is_complete(text: str) -> bool:
    """Whether an entry is ready to run: a command (the original RASP's settings need no ';'), or statements
    ending in ';' or '}' outside brackets."""
    stripped = text.strip()
    if not stripped or stripped.startswith(":") or stripped.startswith("draw "):
        return True
    if _ORIGINAL_SETTING.match(stripped):
        return True
    depth = 0
    quote = None
    code = []
    for line in stripped.splitlines():
        for ch in line:
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            else:
                depth += ch in "([{"
                depth -= ch in ")]}"
                code.append(ch)
    tail = "".join(code).rstrip()
    return depth <= 0 and (tail.endswith(";") or tail.endswith("}"))
