"""Lambdas and the user's functions: a lambda body becomes a `scalar.Fn`; a call of a function inlines its body
(once per distinct arguments), naming the s-ops bound inside it by qualified names (`dyck1.n_opens`).

A mixin of `Lowerer`: these methods use its graph, scopes and expression lowering.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import limits, scalar
from .. import syntax as S
from ..errors import RaspArityError, RaspError, RaspTypeError, Span
from .compound import membership_fn
from .values import (
    LIBRARY_DIR,
    SCALAR_BUILTINS,
    Builtin,
    Const,
    Env,
    Function,
    LambdaValue,
    SelRef,
    SOpRef,
    Value,
    describe_value,
)

if TYPE_CHECKING:
    from ..ir import Graph


def scalar_operation(expr: S.Expr) -> tuple[str, tuple[S.Expr, ...]] | None:
    """The scalar operation an expression applies and its operands, or None if it is not one."""
    if isinstance(expr, S.BinOp) and expr.op != "in":
        return expr.op, (expr.left, expr.right)
    if isinstance(expr, S.UnaryOp) and expr.op in ("-", "not"):
        return ("neg" if expr.op == "-" else "not"), (expr.operand,)
    if isinstance(expr, S.IfExp):
        return "if", (expr.test, expr.body, expr.orelse)
    if isinstance(expr, S.Index):
        return "index", (expr.table, expr.key)
    if isinstance(expr, S.Call) and expr.func in SCALAR_BUILTINS and not expr.keywords:
        return expr.func, expr.args
    return None


class FunctionCalls:
    graph: Graph
    call_stack: list[str]
    local_names: dict[str, int]

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
        if isinstance(e, S.BinOp) and e.op == "in":
            items = self.constant(e.right, env)
            if not isinstance(items, (list, dict)):
                raise self.error(RaspTypeError, "inside a lambda, 'x in X' needs X to be a list or dict", e.right.span)
            return membership_fn(self.scalar_expr(e.left, params, env), list(items))
        if isinstance(e, S.UnaryOp) and e.op == "+":
            return ("+", scalar.lit(0), self.scalar_expr(e.operand, params, env))
        if isinstance(e, S.Name):
            if e.id in params:
                return params[e.id]
            value = self.name(e, env)
            if isinstance(value, Const):
                return scalar.lit(value.value)
            raise self.error(
                RaspTypeError,
                f"'{e.id}' is {describe_value(value)}; a lambda body may use only its parameters and constants",
                e.span,
            )
        operation = scalar_operation(e)
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
        if isinstance(callee, (SOpRef, SelRef)):
            return self.applied(callee, e, env)
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
        raise self.error(RaspTypeError, f"'{e.func}' is {describe_value(callee)}, not a function", e.span)

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
        self.local_names[qualified] = op_id  # a name bound again (in a loop) is its last value
        names = self.graph.op(op_id).names
        if qualified not in names:
            names.append(qualified)


def _call_key(value: Value) -> object:
    """A hashable stand-in for an argument value (constants by type and value: 1, 1.0 and True differ)."""
    if isinstance(value, Const):
        return ("const", type(value.value).__name__, repr(value.value))
    return value
