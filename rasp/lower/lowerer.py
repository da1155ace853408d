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

from .. import limits, scalar
from .. import syntax as S
from ..errors import RaspArityError, RaspError, RaspNameError, RaspSyntaxError, RaspTypeError, Span
from ..ir import Graph
from ..parser import nesting_message, parse_source, read_source
from .builtins import BuiltinCalls
from .values import (
    BUILTIN_FUNCTIONS,
    BUILTIN_SOPS,
    SCALAR_BUILTINS,
    Builtin,
    Const,
    Env,
    Function,
    LambdaValue,
    SelRef,
    SOpRef,
    Value,
    _kind_of,
)

LIBRARY_DIR = Path(__file__).parent.parent / "lib"
MODES = ("causal", "bidirectional")


def _scalar_operation(expr: S.Expr) -> tuple[str, tuple[S.Expr, ...]] | None:
    """The scalar operation an expression applies and its operands, or None if it is not one."""
    if isinstance(expr, S.BinOp):
        return expr.op, (expr.left, expr.right)
    if isinstance(expr, S.UnaryOp):
        return ("neg" if expr.op == "-" else "not"), (expr.operand,)
    if isinstance(expr, S.IfExp):
        return "if", (expr.test, expr.body, expr.orelse)
    if isinstance(expr, S.Index):
        return "index", (expr.table, expr.key)
    if isinstance(expr, S.Call) and expr.func in SCALAR_BUILTINS and not expr.keywords:
        return expr.func, expr.args
    return None


class Lowerer(BuiltinCalls):
    """Lowers one program (and the libraries it loads) into one graph."""

    def __init__(self) -> None:
        self.graph = Graph()
        self.sources: dict[str, str] = {}
        self.loaded: set[str] = set()
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

    def lower_source(self, source: str, filename: str, main: bool = True) -> None:
        self.sources[filename] = source
        module = parse_source(source, filename)
        with limits.recursion_room():
            for statement in module.statements:
                self.statement(statement, self.globals, main)
        if main:
            self.statements.extend(module.statements)
        if main and self.output is not None and self.output not in self.bindings:
            raise self.error(RaspNameError, f"@output names '{self.output}', which is never bound", self.output_span)

    def statement(self, stmt: S.Statement, env: Env, main: bool) -> None:
        if isinstance(stmt, S.Assign):
            value = self.expr(stmt.value, env)
            env.names[stmt.name] = value
            if main and env is self.globals:
                self.bindings.pop(stmt.name, None)
                self.bindings[stmt.name] = value
                if isinstance(value, (SOpRef, SelRef)):
                    names = self.graph.op(value.id).names
                    if stmt.name not in names:
                        names.append(stmt.name)
            elif env is not self.globals and self._qualifiers and isinstance(value, (SOpRef, SelRef)):
                self.name_local(f"{self._qualifiers[-1]}.{stmt.name}", value.id)
        elif isinstance(stmt, S.FuncDef):
            env.names[stmt.name] = Function(stmt, env)
        elif isinstance(stmt, S.Load):
            self.load(stmt)
        elif isinstance(stmt, S.Directive):
            self.directive(stmt, main)
        elif isinstance(stmt, S.ExprStmt):
            self.last_expression = self.expr(stmt.value, env)

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
        name = stmt.module
        if not name.endswith(".rasp") and "/" not in name:
            path = LIBRARY_DIR / f"{name}.rasp"
        else:
            base = Path(stmt.span.file).parent if stmt.span.file and not stmt.span.file.startswith("<") else Path()
            path = (base / name).resolve()
        if not path.is_file():
            available = ", ".join(sorted(p.stem for p in LIBRARY_DIR.glob("*.rasp")))
            raise self.error(RaspNameError, f"cannot load '{name}': no such library ({available}) or file", stmt.span)
        return path

    def load(self, stmt: S.Load) -> None:
        path = self.resolve_load(stmt)
        key = str(path.resolve())
        if key in self.loaded:
            return
        self.loaded.add(key)
        self.lower_source(read_source(path), str(path), main=False)

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
        if isinstance(e, (S.ListLit, S.DictLit)):
            return Const(self.constant(e, env))
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
        operation = _scalar_operation(e)
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
        if e.id in BUILTIN_FUNCTIONS:
            return Builtin(e.id)
        candidates = env.visible() | BUILTIN_SOPS | BUILTIN_FUNCTIONS
        close = difflib.get_close_matches(e.id, sorted(candidates), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise self.error(RaspNameError, f"name '{e.id}' is not defined{hint}", e.span)

    def length(self) -> int:
        """`length` is the width of the select-all selector: i + 1 causally, n bidirectionally."""
        everything = self.graph.add(
            "select", (self._tokens, self._tokens), fn=scalar.lit(True), n_keys=1, vtype="selector"
        )
        op_id = self.graph.add("selector_width", (everything,), vtype="int")
        if "length" not in self.graph.op(op_id).names:
            self.graph.op(op_id).names.append("length")
        return op_id

    def constant(self, e: S.Expr, env: Env) -> Any:
        """A compile-time value (list and dict literals need these)."""
        if isinstance(e, S.ListLit):
            return [self.constant(item, env) for item in e.items]
        if isinstance(e, S.DictLit):
            table = {}
            for k, v in e.items:
                key = self.constant(k, env)
                if isinstance(key, (list, dict)):
                    raise self.error(RaspTypeError, "a dict key must be a number, string or bool", k.span)
                table[key] = self.constant(v, env)
            return table
        value = self.expr(e, env)
        if not isinstance(value, Const):
            raise self.error(RaspTypeError, f"expected a constant here, got {_kind_of(value)}", e.span)
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
        raise self.error(RaspTypeError, f"{_kind_of(value)} cannot be used as {what}; call it", span)

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
            vtype = scalar.infer_type(fn, arg_types)
            if not inputs:
                folded = scalar.apply(fn, ())
        except scalar.EvalProblem as problem:
            raise self.error(RaspTypeError, str(problem), span) from None
        if not inputs:
            if as_sop:
                return SOpRef(self.graph.add("constant", value=folded, span=span, vtype=scalar.value_type(folded)))
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
            return self.graph.add("constant", value=value.value, span=span, vtype=scalar.value_type(value.value))
        return value.id

    # ---- lambdas --------------------------------------------------------------------------------

    def lambda_fn(self, lam: LambdaValue, params: dict[str, scalar.Fn]) -> scalar.Fn:
        return self.scalar_expr(lam.node.body, params, lam.env)

    def scalar_expr(self, e: S.Expr, params: dict[str, scalar.Fn], env: Env) -> scalar.Fn:
        """A lambda body → Fn. Its names are the parameters and constants from the enclosing scope."""
        self.enter(e)
        try:
            return self._scalar_expr(e, params, env)
        finally:
            self.depth -= 1

    def _scalar_expr(self, e: S.Expr, params: dict[str, scalar.Fn], env: Env) -> scalar.Fn:
        if isinstance(e, (S.Number, S.String, S.Bool)):
            return scalar.lit(e.value)
        if isinstance(e, (S.ListLit, S.DictLit)):
            return scalar.lit(self.constant(e, env))
        if isinstance(e, S.Name):
            if e.id in params:
                return params[e.id]
            value = self.name(e, env)
            if isinstance(value, Const):
                return scalar.lit(value.value)
            raise self.error(
                RaspTypeError,
                f"'{e.id}' is {_kind_of(value)}; a lambda body may use only its parameters and constants",
                e.span,
            )
        operation = _scalar_operation(e)
        if operation is None:
            if isinstance(e, S.Call):
                allowed = ", ".join(sorted(SCALAR_BUILTINS))
                raise self.error(RaspTypeError, f"inside a lambda only {allowed} can be called, not {e.func}()", e.span)
            raise self.error(RaspTypeError, "this is not allowed inside a lambda body", e.span)
        op, operands = operation
        if op in SCALAR_BUILTINS and len(operands) != SCALAR_BUILTINS[op]:
            raise self.error(
                RaspArityError, f"{op}() takes {SCALAR_BUILTINS[op]} argument(s), got {len(operands)}", e.span
            )
        if op == "index":
            table = self.constant(operands[0], env)
            if not isinstance(table, (list, dict)):
                raise self.error(RaspTypeError, "only a constant list or dict can be indexed", operands[0].span)
            return ("index", scalar.lit(table), self.scalar_expr(operands[1], params, env))
        return (op, *(self.scalar_expr(o, params, env) for o in operands))

    def apply_lambda(self, lam: LambdaValue, values: list[Value], span: Span) -> Value:
        """map/zipmap: a lambda applied elementwise to s-ops (constants are substituted)."""
        names = lam.node.params
        if len(names) != len(values):
            raise self.error(
                RaspArityError,
                f"the lambda takes {len(names)} parameter(s) but is given {len(values)} s-op(s)"
                + (f" (the lambda is at {lam.node.span})" if lam.node.span.line != span.line else ""),
                lam.node.span if lam.node.span.line == span.line else span,  # an inline lambda, or the call
            )
        inputs: list[int] = []
        params: dict[str, scalar.Fn] = {}
        for name, value in zip(names, values):
            value = self.as_operand(value, span, "a map input")
            if isinstance(value, Const) or self.graph.op(value.id).kind == "constant":
                params[name] = scalar.lit(value.value if isinstance(value, Const) else self.graph.op(value.id).value)
                continue
            if value.id not in inputs:
                inputs.append(value.id)
            params[name] = scalar.arg(inputs.index(value.id))
        fn = self.lambda_fn(lam, params)
        return self.apply_fn(fn, inputs, span, as_sop=any(isinstance(v, SOpRef) for v in values))

    # ---- calls ----------------------------------------------------------------------------------

    def bind_arguments(
        self, name: str, params: tuple[str, ...], e: S.Call, required: int | None = None
    ) -> dict[str, S.Expr]:
        required = len(params) if required is None else required
        if len(e.args) > len(params):
            raise self.error(
                RaspArityError, f"{name}() takes at most {len(params)} argument(s), got {len(e.args)}", e.span
            )
        bound = dict(zip(params, e.args))
        for kw in e.keywords:
            if kw.name not in params:
                raise self.error(
                    RaspArityError,
                    f"{name}() has no argument '{kw.name}'; its arguments are {', '.join(params)}",
                    kw.span,
                )
            if kw.name in bound:
                raise self.error(RaspArityError, f"{name}() got '{kw.name}' twice", kw.span)
            bound[kw.name] = kw.value
        missing = [p for p in params[:required] if p not in bound]
        if missing:
            raise self.error(RaspArityError, f"{name}() is missing argument(s): {', '.join(missing)}", e.span)
        return bound

    def call(self, e: S.Call, env: Env) -> Value:
        callee = self.name(S.Name(e.func, span=e.span), env)
        if isinstance(callee, Builtin):
            return self.call_builtin(e, env)
        if isinstance(callee, Function):
            args = self.bind_arguments(e.func, callee.definition.params, e)
            values = [self.expr(args[p], env) for p in callee.definition.params]
            return self.call_function(callee, values, e.span)
        if isinstance(callee, LambdaValue):
            if e.keywords:
                raise self.error(RaspArityError, "a lambda takes no keyword arguments", e.keywords[0].span)
            return self.apply_lambda(callee, [self.expr(a, env) for a in e.args], e.span)
        raise self.error(RaspTypeError, f"'{e.func}' is {_kind_of(callee)}, not a function", e.span)

    def call_function(self, function: Function, values: list[Value], span: Span) -> Value:
        """The function's body inlined with these arguments. A call with the same arguments as an earlier one
        has the same value (bodies have no side effects), so it is looked up, not inlined again: a chain of
        functions that each call the next twice stays linear."""
        key = (function, *map(_call_key, values))
        if key in self._calls:
            return self._calls[key]
        value = self.inline(function, values, span)
        self._calls[key] = value
        return value

    def inline(self, function: Function, values: list[Value], span: Span) -> Value:
        name = function.definition.name
        if name in self.call_stack:
            raise self.error(
                RaspTypeError, f"{name}() calls itself; recursion cannot be unrolled into an s-op graph", span
            )
        self.inlined += 1
        if self.inlined > limits.MAX_INLINED_CALLS:
            raise self.error(
                RaspTypeError,
                f"inlining this call of {name}() takes the program past {limits.MAX_INLINED_CALLS} inlined function "
                f"calls; call functions fewer times, or raise the limit ({limits.how_to_raise('MAX_INLINED_CALLS')})",
                span,
            )
        scope = Env(parent=function.env, names=dict(zip(function.definition.params, values)))
        self.call_stack.append(name)
        qualified = self._qualify(function)
        if qualified:
            self._qualifiers.append(qualified)
        try:
            for stmt in function.definition.body:
                self.statement(stmt, scope, main=False)
            return self.expr(function.definition.result, scope)
        except RaspError as exc:
            if exc.span is not None and exc.span.file != span.file or (exc.span and exc.span.line != span.line):
                exc.message += f"\n  in {name}() called at {span}"
            raise
        finally:
            self.call_stack.pop()
            if qualified:
                self._qualifiers.pop()

    def _qualify(self, function: Function) -> str | None:
        """The qualified name of a call of one of the user's functions (None for the standard library's, whose
        insides are not the user's names)."""
        span = function.definition.span
        if span is not None and Path(span.file).parent == LIBRARY_DIR:
            return None
        base = ".".join([*self._qualifiers[-1:], function.definition.name])
        self._inlined_as[base] = self._inlined_as.get(base, 0) + 1
        count = self._inlined_as[base]
        return base if count == 1 else f"{base}#{count}"

    def name_local(self, qualified: str, op_id: int) -> None:
        self.local_names.setdefault(qualified, op_id)
        names = self.graph.op(op_id).names
        if qualified not in names:
            names.append(qualified)


def _call_key(value: Value) -> object:
    """A hashable stand-in for an argument value (constants by type and value: 1, 1.0 and True differ)."""
    if isinstance(value, Const):
        return ("const", type(value.value).__name__, repr(value.value))
    return value
