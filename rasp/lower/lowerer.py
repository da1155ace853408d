"""Syntax tree → s-op graph: names resolved, functions inlined, constants folded, s-ops shared.

Every expression lowers to a `Value`: a compile-time constant, an s-op or selector in the graph, or a
function. Elementwise operations on s-ops become map/zipmap ops whose function is a `scalar.Fn`; the
same operations inside a lambda body build the `Fn` itself, so `tokens + 1` and
`map(lambda x: x + 1, tokens)` are one op.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from .. import limits, scalar, scalar_types
from .. import syntax as S
from ..errors import RaspError, RaspNameError, RaspSyntaxError, RaspTypeError, Span
from ..ir import Graph
from ..parser import nesting_message, parse_source, read_source
from .builtins import BuiltinCalls
from .compound import CompileTimeValues
from .functions import FunctionCalls, scalar_operation
from .values import (
    BUILTIN_FUNCTIONS,
    BUILTIN_SOPS,
    LIBRARY_DIR,
    TOKEN_VIEWS,
    Applied,
    Builtin,
    Const,
    DictValue,
    Env,
    Function,
    LambdaValue,
    ListValue,
    SelRef,
    SOpRef,
    Value,
    describe_value,
)

MODES = ("causal", "bidirectional")


class Lowerer(BuiltinCalls, CompileTimeValues, FunctionCalls):
    """Lowers one program (and the libraries it loads) into one graph."""

    def __init__(self) -> None:
        self.graph = Graph()
        self.sources: dict[str, str] = {}
        self.module_scopes: dict[str, Env] = {}  # a loaded file's top-level names, by its path
        self.example: object | None = None  # `set example ...` in the main file (the original RASP REPL's input)
        self.unrolled = 0  # list items and loop iterations built so far (bounded by MAX_UNROLLED)
        self.mode: str | None = None
        self.mode_span: Span | None = None  # where the main file declares its mode, if it does
        self.statements: list[S.Statement] = []  # the main file's syntax tree (every entry's, in the REPL)
        self.output: str | None = None
        self.output_span: Span | None = None
        self.bindings: dict[str, Value] = {}  # the main file's top-level names, in binding order
        self.last_expression: Value | None = None
        self.call_stack: list[str] = []
        # s-ops bound inside the bodies of the user's functions, by qualified name (`dyck1.n_opens`; a function
        # inlined again with other arguments is `f#2`, one inlined inside another `outer.inner.x`)
        self.local_names: dict[str, int] = {}
        self._qualifiers: list[str] = []  # the qualified names of the user's function calls being inlined
        self._inlined_as: dict[str, int] = {}  # qualified call name → times inlined
        self.depth = 0  # expressions being lowered, one inside another (calls included)
        self.inlined = 0  # function bodies lowered so far
        self._calls: dict[tuple, Value] = {}  # (function, argument values) → its value: calls are pure
        self.globals = Env()
        self._tokens = self.graph.add("tokens", names=["tokens"], vtype="any")
        self._indices = self.graph.add("indices", names=["indices"], vtype="int")

    # ---- errors ---------------------------------------------------------------------------------

    def error(self, cls: type[RaspError], message: str, span: Span | None) -> RaspError:
        source = self.sources.get(span.file) if span else None
        return cls(message, span, source)

    # ---- modules and statements -----------------------------------------------------------------

    def lower_source(self, source: str, filename: str, main: bool = True, env: Env | None = None) -> None:
        self.sources[filename] = source
        module = parse_source(source, filename)
        with limits.recursion_room():
            for statement in module.statements:
                self.statement(statement, self.globals if env is None else env, main)
        if main:
            self.statements.extend(module.statements)
        if main and self.output is not None and self.output not in self.bindings:
            raise self.error(RaspNameError, f"@output names '{self.output}', which is never bound", self.output_span)

    def statement(self, stmt: S.Statement, env: Env, main: bool) -> None:
        if isinstance(stmt, S.Assign):
            self.bind(stmt.name, self.expr(stmt.value, env), env, main)
        elif isinstance(stmt, S.Unpack):
            self.unpack(stmt, env, main)
        elif isinstance(stmt, S.FuncDef):
            env.names[stmt.name] = Function(stmt, env)
        elif isinstance(stmt, S.ForLoop):
            self.for_loop(stmt, env, main)
        elif isinstance(stmt, S.Load):
            self.load(stmt, env)
        elif isinstance(stmt, S.Directive):
            self.directive(stmt, main)
        elif isinstance(stmt, S.ReplCommand):
            if stmt.example is not None and main and env is self.globals:
                self.example = self.constant(stmt.example, env)
        elif isinstance(stmt, S.ExprStmt):
            value = self.expr(stmt.value, env)
            if env is self.globals:
                self.last_expression = value

    def bind(self, name: str, value: Value, env: Env, main: bool) -> None:
        """`name = value` in env; a top-level s-op of the main file is named in the graph, one inside the user's
        functions by its qualified name (`dyck1.n_opens`)."""
        env.names[name] = value
        if main and env is self.globals:
            self.bindings.pop(name, None)
            self.bindings[name] = value
            if isinstance(value, (SOpRef, SelRef)):
                names = self.graph.op(value.id).names
                if name not in names:
                    names.append(name)
        elif env is not self.globals and self._qualifiers and isinstance(value, (SOpRef, SelRef)):
            self.name_local(f"{self._qualifiers[-1]}.{name}", value.id)

    def directive(self, stmt: S.Directive, main: bool) -> None:
        if stmt.name == "mode":
            if stmt.value not in MODES:
                raise self.error(
                    RaspNameError, f"unknown mode '{stmt.value}'; expected causal or bidirectional", stmt.span
                )
            if main:
                self.mode, self.mode_span = stmt.value, stmt.span
        elif stmt.name == "output":
            if main:
                self.output, self.output_span = stmt.value, stmt.span
        else:
            raise self.error(RaspNameError, f"unknown directive '@{stmt.name}'; expected @mode or @output", stmt.span)

    def resolve_load(self, stmt: S.Load) -> Path:
        """A library by name (`load "std";`), else a file beside the loading one or in the working directory,
        with or without `.rasp` (`load "paper_examples";`, as the original RASP's REPL loads files)."""
        name = stmt.module
        candidates = []
        if not name.endswith(".rasp") and "/" not in name:
            candidates.append(LIBRARY_DIR / f"{name}.rasp")
        base = Path(stmt.span.file).parent if stmt.span.file and not stmt.span.file.startswith("<") else Path()
        for folder in dict.fromkeys([base, Path()]):
            path = folder / name
            candidates += [path] if name.endswith(".rasp") else [path.with_name(path.name + ".rasp"), path]
        for path in candidates:
            if path.is_file():
                return path.resolve()
        available = ", ".join(sorted(p.stem for p in LIBRARY_DIR.glob("*.rasp")))
        raise self.error(RaspNameError, f"cannot load '{name}': no such library ({available}) or file", stmt.span)

    def load(self, stmt: S.Load, env: Env) -> None:
        """A file's public names (those not starting with `_`) bound in the loading scope. The file runs once, in
        its own scope: it sees only what it defines and loads itself."""
        path = self.resolve_load(stmt)
        key = str(path)
        scope = self.module_scopes.get(key)
        if scope is None:
            scope = self.module_scopes[key] = Env()
            self.lower_source(read_source(path), str(path), main=False, env=scope)
        env.names.update({name: value for name, value in scope.names.items() if not name.startswith("_")})

    # ---- expressions ----------------------------------------------------------------------------

    def expr(self, e: S.Expr, env: Env) -> Value:
        self.enter(e)
        try:
            return self._expr(e, env)
        finally:
            self.depth -= 1

    def enter(self, e: S.Expr) -> None:
        """One level deeper; refused past MAX_NESTING (the passes after this one recurse as deep)."""
        self.depth += 1
        if self.depth > limits.MAX_NESTING:
            self.depth -= 1
            raise self.error(RaspSyntaxError, nesting_message(), e.span)

    def _expr(self, e: S.Expr, env: Env) -> Value:
        if isinstance(e, (S.Number, S.String, S.Bool)):
            return Const(e.value)
        if isinstance(e, S.Name):
            return self.name(e, env)
        if isinstance(e, (S.ListLit, S.TupleLit)):
            return self.list_literal(e, env)
        if isinstance(e, S.DictLit):
            return self.dict_literal(e, env)
        if isinstance(e, (S.ListComp, S.DictComp)):
            return self.comprehension(e, env)
        if isinstance(e, S.BinOp) and e.op == "in":
            return self.membership(e, env)
        if isinstance(e, S.BinOp) and e.op == "+":
            left, right = self.expr(e.left, env), self.expr(e.right, env)
            return self.concatenation(left, right, e.span) or self.elementwise("+", [left, right], e.span)
        if isinstance(e, S.UnaryOp) and e.op == "+":
            operand = self.as_operand(self.expr(e.operand, env), e.span)
            return self.elementwise("+", [Const(0), operand], e.span)  # a number stays one; a string is refused
        if isinstance(e, S.Index) and (value := self.index_value(e, env)) is not None:
            return value
        if isinstance(e, S.Lambda):
            return LambdaValue(e, env)
        if isinstance(e, S.Operator):
            raise self.error(RaspTypeError, f"a bare '{e.op}' is only allowed as select's predicate", e.span)
        if isinstance(e, S.BinOp) and e.op in ("and", "or"):
            left, right = self.expr(e.left, env), self.expr(e.right, env)
            if isinstance(left, SelRef) or isinstance(right, SelRef):
                return self.combine_selectors(e.op, left, right, e)
            return self.elementwise(e.op, [left, right], e.span)
        if isinstance(e, S.UnaryOp) and e.op == "not":
            operand = self.expr(e.operand, env)
            if isinstance(operand, SelRef):
                return self.negate_selector(operand, e)
            return self.elementwise("not", [operand], e.span)
        if isinstance(e, S.Call):
            return self.call(e, env)
        operation = scalar_operation(e)
        assert operation is not None, e
        op, operands = operation
        return self.elementwise(op, [self.expr(o, env) for o in operands], e.span)

    def name(self, e: S.Name, env: Env) -> Value:
        value = env.lookup(e.id)
        if value is not None:
            return value
        if e.id == "tokens":
            return SOpRef(self._tokens)
        if e.id == "indices":
            return SOpRef(self._indices)
        if e.id == "length":
            return SOpRef(self.length())
        if e.id in TOKEN_VIEWS:
            return self.token_view(e.id, e.span)
        if e.id == "tokens_asis":
            return SOpRef(self._tokens)
        if e.id in BUILTIN_FUNCTIONS:
            return Builtin(e.id)
        candidates = env.visible() | BUILTIN_SOPS | BUILTIN_FUNCTIONS
        close = difflib.get_close_matches(e.id, sorted(candidates), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise self.error(RaspNameError, f"name '{e.id}' is not defined{hint}", e.span)

    def select_all(self) -> SelRef:
        return SelRef(
            self.graph.add("select", (self._tokens, self._tokens), fn=scalar.lit(True), n_keys=1, vtype="selector")
        )

    def length(self) -> int:
        """`length` is the width of the select-all selector: i + 1 causally, n bidirectionally."""
        op_id = self.graph.add("selector_width", (self.select_all().id,), vtype="int")
        if "length" not in self.graph.op(op_id).names:
            self.graph.op(op_id).names.append("length")
        return op_id

    def constant(self, e: S.Expr, env: Env) -> Any:
        """A value known when the program is built (a default, a lookup table, an input)."""
        value = self.expr(e, env)
        if not isinstance(value, Const):
            raise self.error(RaspTypeError, f"expected a constant here, got {describe_value(value)}", e.span)
        return value.value

    # ---- elementwise operations -----------------------------------------------------------------

    def as_operand(self, value: Value, span: Span, what: str = "an operand") -> Value:
        if isinstance(value, (Const, SOpRef)):
            return value
        if isinstance(value, SelRef):
            raise self.error(
                RaspTypeError,
                f"a selector cannot be used as {what}; aggregate it or take its selector_width first",
                span,
            )
        if isinstance(value, (ListValue, DictValue)):
            raise self.error(
                RaspTypeError,
                f"{describe_value(value)} cannot be used as {what}; index it (x[0]) or loop over it",
                span,
            )
        if isinstance(value, Applied):
            raise self.error(RaspTypeError, f"{describe_value(value)} is only shown; use the s-op itself", span)
        raise self.error(RaspTypeError, f"{describe_value(value)} cannot be used as {what}; call it", span)

    def elementwise(self, op: str, operands: list[Value], span: Span) -> Value:
        operands = [self.as_operand(v, span) for v in operands]
        inputs: list[int] = []
        fns: list[scalar.Fn] = []
        for value in operands:
            if isinstance(value, Const):
                fns.append(scalar.lit(value.value))
                continue
            op_ = self.graph.op(value.id)
            if op_.kind == "constant":
                fns.append(scalar.lit(op_.value))
                continue
            if value.id not in inputs:
                inputs.append(value.id)
            fns.append(scalar.arg(inputs.index(value.id)))
        if (
            op == "index"
            and fns[0][0] != "lit"
            or op == "index"
            and not isinstance(scalar.lit_value(fns[0]), scalar.Table)
        ):
            raise self.error(RaspTypeError, "only a constant list or dict can be indexed", span)
        fn = (op, *fns)
        any_sop = any(isinstance(v, SOpRef) for v in operands)
        return self.apply_fn(fn, inputs, span, as_sop=any_sop)

    def apply_fn(self, fn: scalar.Fn, inputs: list[int], span: Span, as_sop: bool = True) -> Value:
        """The value of fn over the given s-ops: folded when it has no s-op inputs."""
        arg_types = tuple(self.graph.op(i).vtype for i in inputs)
        if not inputs:
            self.check_folded_size(fn, span)
        try:
            vtype = scalar_types.infer_type(fn, arg_types)
            if not inputs:
                folded = scalar.apply(fn, ())
        except scalar.EvalProblem as problem:
            raise self.error(RaspTypeError, str(problem), span) from None
        if not inputs:
            if as_sop:
                return SOpRef(
                    self.graph.add("constant", value=folded, span=span, vtype=scalar_types.value_type(folded))
                )
            return Const(folded)
        kind = "map" if len(inputs) == 1 else "zipmap"
        return SOpRef(self.graph.add(kind, tuple(inputs), span=span, fn=fn, vtype=vtype))

    def check_folded_size(self, fn: scalar.Fn, span: Span) -> None:
        """Refuse a constant string repetition past MAX_STRING before it is built (`'ab' * 9999999999`)."""
        if fn[0] != "*" or fn[1][0] != "lit" or fn[2][0] != "lit":
            return
        a, b = scalar.lit_value(fn[1]), scalar.lit_value(fn[2])
        text, times = (a, b) if isinstance(a, str) else (b, a)
        if isinstance(text, str) and isinstance(times, int) and len(text) * times > limits.MAX_STRING:
            raise self.error(
                RaspTypeError,
                f"this string would be {len(text) * times} characters long, more than the limit of "
                f"{limits.MAX_STRING} ({limits.how_to_raise('MAX_STRING')})",
                span,
            )

    def as_sop(self, value: Value, span: Span, what: str) -> int:
        value = self.as_operand(value, span, what)
        if isinstance(value, Const):
            if isinstance(value.value, (list, dict)):
                raise self.error(RaspTypeError, f"a list or dict cannot be used as {what}", span)
            return self.graph.add("constant", value=value.value, span=span, vtype=scalar_types.value_type(value.value))
        return value.id
