"""The built-in functions (select, aggregate, selector_width, map, …) and selector algebra, lowered to graph ops.

A mixin of `Lowerer`: these methods use its graph, scopes and expression lowering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import scalar, scalar_types
from .. import syntax as S
from ..errors import RaspArityError, RaspTypeError, Span
from ..ir import REDUCTIONS
from .values import (
    CONSTANT_BUILTINS,
    SCALAR_BUILTINS,
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


class BuiltinCalls:
    graph: Graph

    # ---- selectors ------------------------------------------------------------------------------

    def select_op(self, keys: tuple[int, ...], queries: tuple[int, ...], fn: scalar.Fn, span: Span) -> SelRef:
        """A select, with repeated key or query s-ops merged so equal selectors share one op."""
        unique_keys = tuple(dict.fromkeys(keys))
        unique_queries = tuple(dict.fromkeys(queries))
        mapping = {i: scalar.arg(unique_keys.index(k)) for i, k in enumerate(keys)}
        mapping.update(
            {len(keys) + i: scalar.arg(len(unique_keys) + unique_queries.index(q)) for i, q in enumerate(queries)}
        )
        fn = scalar.substitute(fn, mapping)
        op_id = self.graph.add(
            "select", unique_keys + unique_queries, span=span, fn=fn, n_keys=len(unique_keys), vtype="selector"
        )
        return SelRef(op_id)

    def combine_selectors(self, op: str, left: Value, right: Value, e: S.BinOp) -> SelRef:
        for value, part in ((left, e.left), (right, e.right)):
            if not isinstance(value, SelRef):
                raise self.error(
                    RaspTypeError, f"'{op}' combines two selectors, but this is {describe_value(value)}", part.span
                )
        a, b = self.graph.op(left.id), self.graph.op(right.id)
        keys, queries = a.keys + b.keys, a.queries + b.queries
        nk = len(keys)
        fa = scalar.substitute(
            a.fn, {i: scalar.arg(i if i < a.n_keys else nk + i - a.n_keys) for i in range(len(a.inputs))}
        )
        fb = scalar.substitute(
            b.fn,
            {
                i: scalar.arg(a.n_keys + i if i < b.n_keys else nk + len(a.queries) + i - b.n_keys)
                for i in range(len(b.inputs))
            },
        )
        return self.select_op(keys, queries, (op, fa, fb), e.span)

    def negate_selector(self, sel: SelRef, e: S.UnaryOp) -> SelRef:
        op = self.graph.op(sel.id)
        return self.select_op(op.keys, op.queries, ("not", op.fn), e.span)

    def call_builtin(self, e: S.Call, env: Env) -> Value:
        name = e.func
        if name in CONSTANT_BUILTINS:
            return self.call_constant_builtin(e, env)
        if name == "draw":
            return self.applied(self.expr(e.args[0], env) if e.args else Const(None), e, env, draw=True)
        if name in SCALAR_BUILTINS:
            params = ("a", "b")[: SCALAR_BUILTINS[name]]
            if len(e.args) != len(params) or e.keywords:
                raise self.error(RaspArityError, f"{name}() takes {len(params)} argument(s), got {len(e.args)}", e.span)
            return self.elementwise(name, [self.expr(a, env) for a in e.args], e.span)
        if name in ("map", "zipmap", "seq_map"):
            if len(e.args) < 2 or e.keywords:
                raise self.error(RaspArityError, f"{name}() takes a function and at least one s-op", e.span)
            fn = self.expr(e.args[0], env)
            values = [self.expr(a, env) for a in e.args[1:]]
            if name == "map" and len(values) != 1:
                raise self.error(RaspArityError, f"map() takes one s-op, got {len(values)}; use zipmap", e.span)
            if isinstance(fn, LambdaValue):
                return self.apply_lambda(fn, values, e.span)
            if isinstance(fn, Function):
                if len(fn.definition.params) != len(values):
                    raise self.error(
                        RaspArityError, f"{fn.definition.name}() takes {len(fn.definition.params)} argument(s)", e.span
                    )
                return self.call_function(fn, values, e.span)
            raise self.error(
                RaspTypeError,
                f"{name}() needs a lambda as its first argument, got {describe_value(fn)}",
                e.args[0].span,
            )
        if name == "select":
            return self.call_select(e, env)
        if name == "aggregate":
            return self.call_aggregate(e, env)
        if name == "selector_width":
            args = self.bind_arguments(name, ("selector",), e)
            sel = self.expr(args["selector"], env)
            if not isinstance(sel, SelRef):
                raise self.error(
                    RaspTypeError,
                    f"selector_width() needs a selector, got {describe_value(sel)}",
                    args["selector"].span,
                )
            return SOpRef(self.graph.add("selector_width", (sel.id,), span=e.span, vtype="int"))
        assert name in ("numerical", "categorical")
        args = self.bind_arguments(name, ("sop",), e)
        value = self.expr(args["sop"], env)
        if isinstance(value, SOpRef):
            op = self.graph.op(value.id)
            if name == "numerical" and op.kind == "aggregate" and op.reduce == "mean":
                values_type = self.graph.op(op.inputs[1]).vtype
                if values_type == "str":
                    raise self.error(
                        RaspTypeError, "a numerical mean of strings; aggregate numbers, or make it categorical", e.span
                    )
            op.encoding = name
            return value
        return self.as_operand(value, e.span, f"the argument of {name}()")

    def call_select(self, e: S.Call, env: Env) -> SelRef:
        args = self.bind_arguments("select", ("keys", "queries", "predicate"), e)
        keys = self.as_sop(self.expr(args["keys"], env), args["keys"].span, "select's keys")
        queries = self.as_sop(self.expr(args["queries"], env), args["queries"].span, "select's queries")
        pred = args["predicate"]
        k, q = scalar.arg(0), scalar.arg(1)
        if isinstance(pred, S.Operator):
            fn: scalar.Fn = (pred.op, k, q)
        else:
            value = self.expr(pred, env)
            if isinstance(value, Const) and isinstance(value.value, bool):
                fn = scalar.lit(value.value)
            elif isinstance(value, LambdaValue):
                if len(value.node.params) != 2:
                    raise self.error(
                        RaspArityError, "a select predicate is a lambda of two parameters (key, query)", pred.span
                    )
                fn = self.lambda_fn(value, dict(zip(value.node.params, (k, q))))
            else:
                raise self.error(
                    RaspTypeError,
                    "select's predicate must be a comparison (== != < <= > >=), True, False or lambda k, q: ...",
                    pred.span,
                )
        try:
            scalar_types.infer_type(fn, (self.graph.op(keys).vtype, self.graph.op(queries).vtype))
        except scalar.EvalProblem as problem:
            raise self.error(RaspTypeError, str(problem), e.span) from None
        return self.select_op((keys,), (queries,), fn, e.span)

    def call_aggregate(self, e: S.Call, env: Env) -> SOpRef:
        args = self.bind_arguments("aggregate", ("selector", "values", "default", "reduce"), e, required=2)
        sel = self.expr(args["selector"], env)
        if not isinstance(sel, SelRef):
            raise self.error(
                RaspTypeError, f"aggregate() needs a selector first, got {describe_value(sel)}", args["selector"].span
            )
        values = self.as_sop(self.expr(args["values"], env), args["values"].span, "aggregate's values")
        default = self.constant(args["default"], env) if "default" in args else 0
        if isinstance(default, (list, dict)):
            raise self.error(
                RaspTypeError, "aggregate's default must be a number, string or bool", args["default"].span
            )
        reduce = self.constant(args["reduce"], env) if "reduce" in args else "mean"
        if reduce not in REDUCTIONS:
            raise self.error(
                RaspTypeError,
                f"reduce must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduce!r}",
                args["reduce"].span,
            )
        return self.aggregate_op(sel, values, default, reduce, e.span)

    def aggregate_op(self, sel: SelRef, values: int, default: object, reduce: str, span: Span) -> SOpRef:
        values_type = self.graph.op(values).vtype
        if reduce == "mean" and values_type in scalar_types.NUMBER_TYPES:
            vtype = "float" if values_type == "float" else "any" if values_type == "bool" else values_type
        else:
            vtype = values_type
        op_id = self.graph.add("aggregate", (sel.id, values), span=span, value=default, reduce=reduce, vtype=vtype)
        return SOpRef(op_id)
