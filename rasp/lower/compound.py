"""The original RASP's build-time Python: lists and dicts that hold s-ops, comprehensions, `for` loops,
multiple assignment, `in`, range/zip/len, an s-op indexed at a position, and an s-op applied to an input.

All of it happens while the program is built (as in Weiss et al.'s interpreter, where these are Python values
around the s-ops): what a loop or comprehension runs over must be known then, and the graph holds only the
s-ops its iterations make. A mixin of `Lowerer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import limits, scalar
from .. import syntax as S
from ..errors import RaspArityError, RaspTypeError, Span
from .values import (
    TOKEN_VIEWS,
    Applied,
    Const,
    DictValue,
    Env,
    ListValue,
    SelRef,
    SOpRef,
    Value,
    describe_value,
)

if TYPE_CHECKING:
    from ..ir import Graph


def membership_fn(x: scalar.Fn, items: list[Any]) -> scalar.Fn:
    """`x in items` as comparisons (`x == a or x == b ...`, balanced so long lists stay shallow): every later
    stage already knows `==` and `or`."""
    if not items:
        return scalar.lit(False)
    if len(items) == 1:
        return ("==", x, scalar.lit(items[0]))
    half = len(items) // 2
    return ("or", membership_fn(x, items[:half]), membership_fn(x, items[half:]))


def _is_atom(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool))


class CompileTimeValues:
    graph: Graph
    unrolled: int

    # ---- containers -------------------------------------------------------------------------------

    def make_list(self, values: list[Value]) -> Value:
        if all(isinstance(v, Const) for v in values):
            return Const([v.value for v in values])
        return ListValue(tuple(values))

    def make_dict(self, pairs: list[tuple[Any, Value]]) -> Value:
        table = dict(pairs)  # a repeated key keeps its last value, as in Python
        if all(isinstance(v, Const) for v in table.values()):
            return Const({k: v.value for k, v in table.items()})
        return DictValue(tuple(table.items()))

    def dict_key(self, value: Value, span: Span) -> Any:
        if not isinstance(value, Const) or not _is_atom(value.value):
            shown = "a list or dict" if isinstance(value, Const) else describe_value(value)
            raise self.error(RaspTypeError, f"a dict key must be a number, string or bool, not {shown}", span)
        return value.value

    def list_literal(self, e: S.ListLit | S.TupleLit, env: Env) -> Value:
        return self.make_list([self.expr(item, env) for item in e.items])

    def dict_literal(self, e: S.DictLit, env: Env) -> Value:
        return self.make_dict([(self.dict_key(self.expr(k, env), k.span), self.expr(v, env)) for k, v in e.items])

    def items_of(self, value: Value, span: Span, what: str = "loop over") -> list[Value]:
        """The values a loop, comprehension or unpacking goes through: a list's items, a dict's keys (as in Python),
        a string's characters."""
        if isinstance(value, Const) and isinstance(value.value, (list, tuple, dict, str)):
            return [Const(item) for item in value.value]
        if isinstance(value, ListValue):
            return list(value.items)
        if isinstance(value, DictValue):
            return [Const(key) for key, _ in value.items]
        raise self.error(
            RaspTypeError,
            f"can only {what} a list, dict or string known when the program is built, not {describe_value(value)}",
            span,
        )

    def count_unrolled(self, n: int, span: Span) -> None:
        self.unrolled += n
        if self.unrolled > limits.MAX_UNROLLED:
            raise self.error(
                RaspTypeError,
                f"this takes the program past {limits.MAX_UNROLLED:,} list items and loop iterations built while it "
                f"is lowered ({limits.how_to_raise('MAX_UNROLLED')})",
                span,
            )

    def unpacked(self, names: tuple[str, ...], value: Value, span: Span) -> list[Value]:
        items = self.items_of(value, span, "unpack")
        if len(items) != len(names):
            raise self.error(RaspTypeError, f"{len(names)} names but {len(items)} values to unpack", span)
        return items

    def bind_targets(self, targets: tuple[str, ...], value: Value, env: Env, span: Span) -> None:
        """A loop's or comprehension's names for one item (several names unpack it: `for k, v in zip(a, b)`)."""
        if len(targets) == 1:
            env.names[targets[0]] = value
            return
        for name, item in zip(targets, self.unpacked(targets, value, span)):
            env.names[name] = item

    def concatenation(self, left: Value, right: Value, span: Span) -> Value | None:
        """`a + b` of two lists (`elements + sets`, `stages + [x]`), or None if either is not a list."""
        lists = [v for v in (left, right) if isinstance(v, ListValue) or isinstance(v, Const) and type(v.value) is list]
        if len(lists) < 2:
            return None
        items = self.items_of(left, span) + self.items_of(right, span)
        self.count_unrolled(len(items), span)
        return self.make_list(items)

    # ---- comprehensions and loops -----------------------------------------------------------------

    def comprehension(self, e: S.ListComp | S.DictComp, env: Env) -> Value:
        items = self.items_of(self.expr(e.iterable, env), e.iterable.span)
        self.count_unrolled(len(items), e.span)
        values: list[Value] = []
        pairs: list[tuple[Any, Value]] = []
        for item in items:
            scope = Env(parent=env)  # its names end with it, as in Python
            self.bind_targets(e.targets, item, scope, e.span)
            if isinstance(e, S.ListComp):
                values.append(self.expr(e.value, scope))
            else:
                pairs.append((self.dict_key(self.expr(e.key, scope), e.key.span), self.expr(e.value, scope)))
        return self.make_list(values) if isinstance(e, S.ListComp) else self.make_dict(pairs)

    def for_loop(self, stmt: S.ForLoop, env: Env, main: bool) -> None:
        """Each iteration's statements run in the enclosing scope, so `a = a + i;` accumulates (as in the
        original RASP and in Python)."""
        items = self.items_of(self.expr(stmt.iterable, env), stmt.iterable.span)
        self.count_unrolled(len(items), stmt.span)
        for item in items:
            self.bind_targets(stmt.targets, item, env, stmt.span)
            for inner in stmt.body:
                self.statement(inner, env, main)

    def unpack(self, stmt: S.Unpack, env: Env, main: bool) -> None:
        value = self.expr(stmt.value, env)
        for name, item in zip(stmt.names, self.unpacked(stmt.names, value, stmt.value.span)):
            self.bind(name, item, env, main)

    # ---- membership -------------------------------------------------------------------------------

    def membership(self, e: S.BinOp, env: Env) -> Value:
        left, right = self.expr(e.left, env), self.expr(e.right, env)
        if isinstance(right, Const) and isinstance(right.value, (list, dict)):
            items = list(right.value)
            if isinstance(left, Const):
                try:
                    return Const(left.value in right.value)
                except TypeError:
                    raise self.error(RaspTypeError, "a list or dict cannot be a dict key", e.left.span) from None
            if isinstance(left, SOpRef):
                if not all(_is_atom(item) for item in items):
                    raise self.error(
                        RaspTypeError, "'s-op in X' needs X to hold numbers, strings or bools only", e.right.span
                    )
                return self.apply_fn(membership_fn(scalar.arg(0), items), [left.id], e.span)
        if isinstance(right, Const) and isinstance(right.value, str):
            if isinstance(left, Const) and isinstance(left.value, str):
                return Const(left.value in right.value)
            raise self.error(
                RaspTypeError, "'x in a string' needs a string on the left; for an s-op, use a list", e.span
            )
        if isinstance(right, SOpRef) and isinstance(left, Const) and _is_atom(left.value):
            return self.occurs(left.value, right, e.span)
        raise self.error(
            RaspTypeError,
            "'in' takes a list or dict of constants on its right (or an s-op, with a constant on its left), "
            f"not {describe_value(left)} in {describe_value(right)}",
            e.span,
        )

    def occurs(self, atom: Any, sop: SOpRef, span: Span) -> Value:
        """`atom in sop`: whether atom is among sop's values at the positions the select-all sees (the whole input
        bidirectionally, those so far causally), as the original RASP computes it."""
        hits = self.elementwise("indicator", [self.elementwise("==", [sop, Const(atom)], span)], span)
        share = self.aggregate_op(self.select_all(), hits.id, 0, "mean", span)
        return self.elementwise(">", [share, Const(0)], span)

    # ---- indexing ---------------------------------------------------------------------------------

    def index_value(self, e: S.Index, env: Env) -> Value | None:
        """Indexing the elementwise `table[key]` does not cover, or None to leave it to that."""
        table, key = self.expr(e.table, env), self.expr(e.key, env)
        if isinstance(table, (ListValue, DictValue)) or isinstance(table, Const) and isinstance(table.value, str):
            if not isinstance(key, Const):
                raise self.error(
                    RaspTypeError,
                    f"a list of s-ops or a string is indexed by a constant, not {describe_value(key)}",
                    e.span,
                )
            container = table.value if isinstance(table, Const) else table.items
            if isinstance(table, DictValue):
                container = dict(table.items)
            try:
                item = container[key.value]
            except (IndexError, KeyError, TypeError):
                raise self.error(RaspTypeError, f"{key.value!r} is not an index or key here", e.key.span) from None
            return item if isinstance(table, (ListValue, DictValue)) else Const(item)
        if isinstance(table, SOpRef) and isinstance(key, Const) and type(key.value) is int:
            return self.value_at(table, key.value, e.span)
        return None

    def value_at(self, sop: SOpRef, position: int, span: Span) -> SOpRef:
        """`sop[k]`: sop's value at position k (from the end if k < 0) at every position, as in the original RASP
        (bidirectional reading; causally a position sees only itself and those before it)."""
        query: Value = Const(position)
        if position < 0:
            query = self.elementwise("+", [SOpRef(self.length()), Const(position)], span)
        query_id = self.as_sop(query, span, "a position")
        select = self.select_op((self._indices,), (query_id,), ("==", scalar.arg(0), scalar.arg(1)), span)
        return self.aggregate_op(select, sop.id, 0, "mean", span)

    # ---- built-ins from the original language -----------------------------------------------------

    def token_view(self, name: str, span: Span) -> SOpRef:
        """`tokens_str`, `tokens_int`, …: the input converted as the original RASP's REPL reads it."""
        return self.apply_fn((TOKEN_VIEWS[name], scalar.arg(0)), [self._tokens], span)

    def call_constant_builtin(self, e: S.Call, env: Env) -> Value:
        if e.keywords:
            raise self.error(RaspArityError, f"{e.func}() takes no keyword arguments", e.keywords[0].span)
        values = [self.expr(a, env) for a in e.args]
        if e.func == "len":
            if len(values) != 1:
                raise self.error(RaspArityError, f"len() takes 1 argument, got {len(values)}", e.span)
            return Const(len(self.items_of(values[0], e.args[0].span, "take the length of")))
        if e.func == "range":
            if not 1 <= len(values) <= 3 or not all(isinstance(v, Const) and type(v.value) is int for v in values):
                raise self.error(RaspTypeError, "range() takes 1 to 3 integers known when the program is built", e.span)
            numbers = range(*(v.value for v in values))
            self.count_unrolled(len(numbers), e.span)
            return Const(list(numbers))
        lists = [self.items_of(v, a.span, "zip") for v, a in zip(values, e.args)]
        if not lists or len({len(items) for items in lists}) > 1:
            lengths = ", ".join(str(len(items)) for items in lists) or "none"
            raise self.error(RaspTypeError, f"zip() takes lists of one length (got {lengths})", e.span)
        self.count_unrolled(len(lists[0]), e.span)
        return self.make_list([self.make_list(list(row)) for row in zip(*lists)])

    def applied(self, target: Value, e: S.Call, env: Env, draw: bool = False) -> Applied:
        """`hist("hello")`: an s-op or selector on an input (shown by the REPL; a file takes no output from it)."""
        if not isinstance(target, (SOpRef, SelRef)):
            raise self.error(
                RaspTypeError, f"only an s-op or selector can be drawn, not {describe_value(target)}", e.span
            )
        inputs = e.args[1:] if draw else e.args  # draw(sop, input) / sop(input)
        if e.keywords or len(inputs) > 1 or not draw and len(inputs) != 1:
            usage = 'draw(name) or draw(name, "abc")' if draw else 'name("abc") or name([1, 2])'
            raise self.error(RaspArityError, f"an s-op is applied to one input: {usage}", e.span)
        example = self.constant(inputs[0], env) if inputs else None
        if example is not None and not isinstance(example, (str, list)):
            raise self.error(RaspTypeError, "an input is a string or a list", inputs[0].span)
        return Applied(target, example, draw=draw)
