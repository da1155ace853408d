"""Hypothesis strategies: random well-formed RASP programs, as source text, and inputs for them.

The generator tracks, for every s-op it can refer to, what values it carries (`Info`): integers with a
sound range, booleans, exact fractions (means of integers: the same correctly rounded float in every
evaluator), inexact floats (means of fractions, whose last bit depends on summation order), strings
from a known set, or a mix of strings and numbers. With that it only writes programs that cannot fail
at run time on inputs from `inputs()`:

- division, `//` and `%` only by positive constants, or, inside a lambda, by a variable guarded by a
  conditional `(a / b) if (b != 0) else c` (conditionals in one function are lazy, as in Python; at
  top level every operation is an s-op of its own, evaluated at every position);
- table lookups only with keys whose whole range the table covers;
- a mean of strings only over a selector that selects at most one key (`select(indices, q, ==)`);
- max/min only over values of one kind; `<` never between a string and a number;
- magnitudes stay far below 2**53, so numpy's int64 and Python's ints agree;
- inexact floats never reach a comparison, `round`, `//`, `%`, a table or a selector, where a
  last-bit difference could change the result (they are compared with a tolerance at the end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hypothesis import strategies as st

MAX_LENGTH = 12
MAX_BOUND = 10**6
STRINGS = ("a", "b", "c")
EXTRA_STRINGS = ("x", "yy", "")
MIXED_TOKENS = (0, 1, 2, "+", "=")  # like `--tokens "1 + 2 ="` after the integer rule
NUMERIC = ("int", "bool", "frac", "float")
EXACT = ("int", "bool", "frac")
INTEGRAL = ("int", "bool")
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class Info:
    """What values an s-op (or a lambda parameter) carries."""

    kind: str  # int, bool, frac (exact float), float (inexact), str, mixed (str and numbers)
    lo: float = 0
    hi: float = 0
    strs: frozenset | None = None  # the strings it can hold (None: unknown)
    domain: frozenset | None = None  # every value it can hold, when that is known and mixed (tokens)

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    @property
    def exact(self) -> bool:
        return self.kind != "float"

    @property
    def integral(self) -> bool:
        return self.kind in INTEGRAL

    @property
    def bound(self) -> float:
        return max(abs(self.lo), abs(self.hi))


BOOL = Info("bool", 0, 1)


def number_info(kind: str, lo: float, hi: float) -> Info:
    if kind == "int":
        lo, hi = math.floor(lo), math.ceil(hi)
    return Info(kind, lo, hi)


def join_kinds(*kinds: str) -> str:
    kinds_set = set(kinds)
    if len(kinds_set) == 1:
        return kinds[0]
    if kinds_set <= set(NUMERIC):
        for kind in ("float", "frac", "int"):
            if kind in kinds_set:
                return kind
    if kinds_set <= {"str"}:
        return "str"
    return "mixed"


def union(a: Info, b: Info) -> Info:
    kind = join_kinds(a.kind, b.kind)
    strs = None
    if a.strs is not None and b.strs is not None:
        strs = a.strs | b.strs
    elif a.kind not in ("str", "mixed"):
        strs = b.strs
    elif b.kind not in ("str", "mixed"):
        strs = a.strs
    numbers = [i for i in (a, b) if i.numeric]
    lo = min((i.lo for i in numbers), default=0)
    hi = max((i.hi for i in numbers), default=0)
    if kind == "mixed":
        return Info("mixed", lo, hi, strs)
    if kind == "str":
        return Info("str", strs=strs)
    return number_info(kind, lo, hi)


def constant_info(value: object) -> Info:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return Info("int", value, value)
    if isinstance(value, float):
        return Info("frac", value, value)
    return Info("str", strs=frozenset([value]))


def literal(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


@dataclass
class Scope:
    """What an expression may refer to: s-ops (or lambda parameters), selectors, constants."""

    values: list[tuple[str, Info]]
    selectors: list[tuple[str, bool]] = field(default_factory=list)  # (text, selects at most one key)
    constants: list[tuple[str, Info]] = field(default_factory=list)
    lambda_body: bool = False


@dataclass(frozen=True)
class GeneratedProgram:
    source: str
    token_kind: str  # "int", "str" or "mixed" (ints and strings)
    token_lo: int = 0
    token_hi: int = 0

    def __repr__(self) -> str:  # hypothesis prints this on failure
        return f"GeneratedProgram(token_kind={self.token_kind!r}, token_lo={self.token_lo}, token_hi={self.token_hi}, source=\n{self.source}\n)"


class Builder:
    def __init__(self, draw, token_kind: str, token_lo: int, token_hi: int):
        self.draw = draw
        self.token_kind = token_kind
        if token_kind == "int":
            tokens = Info("int", token_lo, token_hi)
        elif token_kind == "mixed":
            strs = frozenset(t for t in MIXED_TOKENS if isinstance(t, str))
            tokens = Info("mixed", 0, 2, strs=strs, domain=frozenset(MIXED_TOKENS))
        else:
            tokens = Info("str", strs=frozenset(STRINGS))
        self.builtins = [
            ("tokens", tokens),
            ("indices", Info("int", 0, MAX_LENGTH - 1)),
            ("length", Info("int", 1, MAX_LENGTH)),
        ]
        self.counter = 0
        self.lines: list[str] = []

    # ---- drawing --------------------------------------------------------------------------------

    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ---- leaves ---------------------------------------------------------------------------------

    def atoms(self, scope: Scope, want: str, exact: bool = True) -> list[tuple[str, Info]]:
        candidates = scope.values + scope.constants
        return [(t, i) for t, i in candidates if self.fits(i, want, exact)]

    @staticmethod
    def fits(info: Info, want: str, exact: bool = True) -> bool:
        if exact and not info.exact:
            return False
        if want == "num":
            return info.numeric
        if want == "int":
            return info.integral
        if want == "bool":
            return info.kind == "bool"
        if want == "str":
            return info.kind == "str"
        return True  # any

    def literal_of(self, want: str) -> tuple[str, Info]:
        if want == "any":
            want = self.pick(["num", "int", "bool", "str"])
        if want == "int":
            value = self.integer(-3, 5)
        elif want == "num":
            value = self.pick([0, 1, 2, 3, -1, 0.5, 1.5, 2.25])
        elif want == "bool":
            value = self.pick([True, False])
        else:
            value = self.pick(STRINGS + EXTRA_STRINGS)
        return literal(value), constant_info(value)

    def leaf(self, scope: Scope, want: str, exact: bool = True) -> tuple[str, Info]:
        atoms = self.atoms(scope, want, exact)
        if atoms and self.chance(80):
            return self.pick(atoms)
        if want == "bool" and not atoms:
            return self.comparison(scope, 0)
        return self.literal_of(want)

    # ---- expressions ----------------------------------------------------------------------------

    def expr(self, scope: Scope, want: str, depth: int, exact: bool = True) -> tuple[str, Info]:
        """An expression of the wanted kind; compound ones come parenthesised."""
        if want == "any":
            want = self.pick(["num", "num", "int", "bool", "str"] if self.has_str(scope) else ["num", "int", "bool"])
        if depth <= 0 or self.chance(30):
            return self.leaf(scope, want, exact)
        if want == "bool":
            form = self.pick(["compare", "compare", "logic", "not", "if", "table"])
            if form == "compare":
                return self.comparison(scope, depth)
            if form == "logic":
                a, b = self.expr(scope, "bool", depth - 1), self.expr(scope, "bool", depth - 1)
                return f"({a[0]} {self.pick(['and', 'or'])} {b[0]})", BOOL
            if form == "not":
                a = self.expr(scope, "bool", depth - 1)
                return f"(not {a[0]})", BOOL
            if form == "if":
                return self.conditional(scope, "bool", depth, exact)
            return self.table(scope, "bool", depth) or self.leaf(scope, want)
        if want == "str":
            form = self.pick(["concat", "if", "table", "table"])
            if form == "concat":
                a, b = self.expr(scope, "str", depth - 1), self.expr(scope, "str", depth - 1)
                strs = None
                if a[1].strs is not None and b[1].strs is not None and len(a[1].strs) * len(b[1].strs) <= 30:
                    strs = frozenset(x + y for x in a[1].strs for y in b[1].strs)
                return f"({a[0]} + {b[0]})", Info("str", strs=strs)
            if form == "if":
                return self.conditional(scope, "str", depth, exact)
            return self.table(scope, "str", depth) or self.leaf(scope, want)
        return self.number(scope, want, depth, exact)

    def has_str(self, scope: Scope) -> bool:
        return any(i.kind == "str" for _, i in scope.values + scope.constants)

    def number(self, scope: Scope, want: str, depth: int, exact: bool) -> tuple[str, Info]:
        forms = ["add", "add", "mul", "mod", "floordiv", "neg", "abs", "minmax", "indicator", "if", "table", "round"]
        if scope.lambda_body:  # at top level each operation is an s-op of its own, evaluated everywhere
            forms += ["guarded"]
        if want == "num":
            forms += ["div"]
        form = self.pick(forms)
        sub = want if want == "int" else "num"
        if form in ("add", "mul", "minmax"):
            a, b = self.operand(scope, sub, depth - 1, exact), self.operand(scope, sub, depth - 1, exact)
            (ta, ia), (tb, ib) = a, b
            kind = join_kinds(ia.kind, ib.kind)
            if form == "minmax":
                fn = self.pick(["min", "max"])
                pair = (min(ia.lo, ib.lo), min(ia.hi, ib.hi)) if fn == "min" else (max(ia.lo, ib.lo), max(ia.hi, ib.hi))
                return f"{fn}({ta}, {tb})", (BOOL if kind == "bool" else number_info(kind, *pair))
            kind = "int" if kind == "bool" else kind
            if form == "add":
                op = self.pick(["+", "-"])
                lo, hi = (ia.lo + ib.lo, ia.hi + ib.hi) if op == "+" else (ia.lo - ib.hi, ia.hi - ib.lo)
            else:
                if ia.bound * ib.bound > MAX_BOUND:
                    return a
                op = "*"
                corners = [x * y for x in (ia.lo, ia.hi) for y in (ib.lo, ib.hi)]
                lo, hi = min(corners), max(corners)
            return f"({ta} {op} {tb})", number_info(kind, lo, hi)
        if form in ("mod", "floordiv", "div", "round"):
            text, info = self.expr(scope, sub, depth - 1, exact or form != "div")
            if not info.exact and form != "div":
                return text, info
            if form == "round":
                return f"round({text})", number_info("int", math.floor(info.lo), math.ceil(info.hi))
            c = self.integer(1, 4) if form != "div" else self.pick([2, 4, 5, 8])
            if form == "mod":
                kind = "int" if info.integral else "frac"
                return f"({text} % {c})", number_info(kind, 0, c - 1 if kind == "int" else c)
            if form == "floordiv":
                return f"({text} // {c})", number_info("int", math.floor(info.lo / c), math.floor(info.hi / c))
            kind = "float" if info.kind == "float" else "frac"
            return f"({text} / {c})", number_info(kind, info.lo / c, info.hi / c)
        if form in ("neg", "abs"):
            text, info = self.expr(scope, sub, depth - 1, exact)
            kind = "int" if info.kind == "bool" else info.kind
            if form == "neg":
                return f"(-{text})", number_info(kind, -info.hi, -info.lo)
            lo = info.lo if info.lo >= 0 else (-info.hi if info.hi <= 0 else 0)
            return f"abs({text})", number_info(kind, lo, info.bound)
        if form == "guarded":  # division by an s-op, guarded by a (lazy) conditional
            a = self.expr(scope, sub, depth - 1, True)
            b = self.expr(scope, "int", depth - 1, True)
            other = self.expr(scope, sub, depth - 1, True)
            op = self.pick(["/", "//", "%"] if want == "num" else ["//", "%"])
            text = f"(({a[0]} {op} {b[0]}) if ({b[0]} != 0) else {other[0]})"
            if op == "%":
                kind = "int" if a[1].integral else "frac"
                quotient = number_info(kind, -b[1].bound, b[1].bound)
            elif op == "//":
                quotient = number_info("int", -a[1].bound - 1, a[1].bound + 1)
            else:
                quotient = number_info("frac", -a[1].bound, a[1].bound)
            return text, union(quotient, other[1])
        if form == "indicator":
            text, _ = self.expr(scope, "bool", depth - 1)
            return f"indicator({text})", Info("int", 0, 1)
        if form == "if":
            return self.conditional(scope, sub, depth, exact)
        return self.table(scope, "int" if want == "int" else self.pick(["int", "int", "num"]), depth) or self.leaf(
            scope, want, exact
        )

    def operand(self, scope: Scope, want: str, depth: int, exact: bool) -> tuple[str, Info]:
        """An arithmetic operand: a number, or now and then a boolean (True + True is 2)."""
        if self.chance(15):
            return self.expr(scope, "bool", depth)
        return self.expr(scope, want, depth, exact)

    def conditional(self, scope: Scope, want: str, depth: int, exact: bool) -> tuple[str, Info]:
        a = self.expr(scope, want, depth - 1, exact)
        c = self.expr(scope, "bool", depth - 1)
        b = self.expr(scope, want, depth - 1, exact)
        return f"({a[0]} if {c[0]} else {b[0]})", union(a[1], b[1])

    def comparison(self, scope: Scope, depth: int) -> tuple[str, Info]:
        mixed_atoms = any(i.kind == "mixed" for _, i in scope.values + scope.constants)
        family = self.pick(["num", "num", "str", "mixed"] if self.has_str(scope) or mixed_atoms else ["num"])
        if family == "mixed":
            mixed = [(t, i) for t, i in scope.values + scope.constants if i.kind == "mixed" and i.exact]
            a = self.pick(mixed) if mixed and self.chance(70) else self.expr(scope, "str", depth - 1)
            b = self.expr(scope, self.pick(["num", "str"]), depth - 1)
            op = self.pick(["==", "!="])
        else:
            a = self.expr(scope, family, depth - 1)
            b = self.expr(scope, family, depth - 1)
            op = self.pick(COMPARISONS)
        return f"({a[0]} {op} {b[0]})", BOOL

    def table(self, scope: Scope, want: str, depth: int) -> tuple[str, Info] | None:
        """`[..][key]` or `{..}[key]` over a key whose every value the table covers."""
        keys = [(t, i) for t, i in scope.values + scope.constants if i.integral and i.hi - i.lo <= 12]
        keys += [(t, i) for t, i in scope.values + scope.constants if i.kind == "str" and i.strs and len(i.strs) <= 8]
        keys += [(t, i) for t, i in scope.values + scope.constants if i.domain is not None]
        if not keys:
            return None
        key_text, key_info = self.pick(keys)
        if key_info.domain is not None:
            domain: list = sorted(key_info.domain, key=repr)
        elif key_info.kind == "str":
            domain = sorted(key_info.strs)
        else:
            domain = list(range(int(key_info.lo), int(key_info.hi) + 1))

        def value():
            return self.literal_of("int" if want in ("int", "num") else want)

        use_list = key_info.integral and key_info.lo >= 0 and self.chance(60)
        if use_list:
            entries = [value() for _ in range(int(key_info.hi) + 1)]
            text = "[" + ", ".join(t for t, _ in entries) + "]"
        else:
            keyed = [(k, value()) for k in domain]
            if self.chance(30):
                keyed.append((self.pick([99, "zz"]) if key_info.kind != "str" else "zz", value()))
            entries = [v for _, v in keyed]
            text = "{" + ", ".join(f"{literal(k)}: {t}" for k, (t, _) in keyed) + "}"
        info = entries[0][1]
        for _, i in entries[1:]:
            info = union(info, i)
        return f"{text}[{key_text}]", info

    # ---- lambdas --------------------------------------------------------------------------------

    def lambda_text(self, scope: Scope, infos: list[Info], want: str, depth: int) -> tuple[str, Info]:
        params = ["x", "y", "z"][: len(infos)]
        inner = Scope(list(zip(params, infos)), constants=scope.constants, lambda_body=True)
        exact = all(i.exact for i in infos)
        body = self.expr(inner, want, depth, exact=exact)
        return f"lambda {', '.join(params)}: {body[0]}", body[1]

    # ---- s-ops ----------------------------------------------------------------------------------

    def sop(self, scope: Scope) -> tuple[str, Info]:
        """The right-hand side of an s-op binding (elementwise, map, zipmap, aggregate, width)."""
        form = self.pick(["expr", "expr", "map", "zipmap", "aggregate", "aggregate", "width", "hint"])
        if form == "expr":
            return self.expr(scope, "any", self.integer(1, 3), exact=self.chance(70))
        if form == "map":
            source = self.pick(scope.values)
            body, info = self.lambda_text(scope, [source[1]], "any", self.integer(1, 3))
            return f"map({body}, {source[0]})", info
        if form == "zipmap":
            sources = [self.pick(scope.values) for _ in range(self.pick([2, 2, 2, 3]))]
            if self.chance(15):
                sources[-1] = self.literal_of("int")
            body, info = self.lambda_text(scope, [i for _, i in sources], "any", self.integer(1, 3))
            name = self.pick(["zipmap", "zipmap", "seq_map"])
            return f"{name}({body}, {', '.join(t for t, _ in sources)})", info
        if form == "width":
            selector, _ = self.selector(scope, 2)
            return f"selector_width({selector})", Info("int", 0, MAX_LENGTH)
        if form == "hint":
            text, info = self.sop(scope)
            if info.kind in ("str", "mixed"):
                return f"categorical({text})", info
            return f"{self.pick(['numerical', 'categorical'])}({text})", info
        return self.aggregate(scope)

    def aggregate(self, scope: Scope) -> tuple[str, Info]:
        selector, unique = self.selector(scope, 2)
        reduce = self.pick(["mean", "mean", "max", "min"])
        if self.chance(60):
            text, info = self.pick(scope.values)
        else:
            text, info = self.expr(scope, "any", 1, exact=self.chance(70))
        if info.kind == "mixed" and (reduce != "mean" or not unique):
            text, info = "indices", Info("int", 0, MAX_LENGTH - 1)  # mixed values: only a pass-through
        if info.kind == "str" and reduce == "mean" and not unique:
            reduce = self.pick(["max", "min"])  # a mean of differing strings is an error
        # what the reduction gives, before the default
        if reduce == "mean" and info.numeric and not unique:
            result = Info("frac" if info.integral else "float", info.lo, info.hi)
        elif info.kind == "bool":
            result = Info("int", 0, 1)
        else:
            result = info
        default_given = self.chance(60)
        default: object = 0
        if default_given:
            if info.kind == "str":
                default = self.pick(STRINGS + EXTRA_STRINGS) if self.chance(75) else self.integer(-1, 2)
            elif info.numeric:
                default = self.pick([0, 1, -1, 2, 0.5, True])
            else:
                default = self.pick([0, "a", "x"])
        result = union(result, Info("int", 0, 1) if isinstance(default, bool) else constant_info(default))
        args, keywords = [selector, text], []
        if default_given:
            if self.chance(50):
                args.append(literal(default))
            else:
                keywords.append(f"default={literal(default)}")
        if reduce != "mean" or self.chance(20):
            if len(args) == 3 and self.chance(30):
                args.append(literal(reduce))
            else:
                keywords.append(f"reduce={literal(reduce)}")
        return f"aggregate({', '.join(args + keywords)})", result

    # ---- selectors ------------------------------------------------------------------------------

    def selector(self, scope: Scope, depth: int) -> tuple[str, bool]:
        """A selector expression and whether it selects at most one key per query."""
        if scope.selectors and self.chance(40):
            return self.pick(scope.selectors)
        if depth <= 0 or self.chance(60):
            return self.select(scope)
        form = self.pick(["and", "or", "not"])
        a = self.selector(scope, depth - 1)
        if form == "not":
            return f"(not {a[0]})", False
        b = self.selector(scope, depth - 1)
        unique = (a[1] or b[1]) if form == "and" else False
        return f"({a[0]} {form} {b[0]})", unique

    def select(self, scope: Scope) -> tuple[str, bool]:
        keyable = [(t, i) for t, i in scope.values if i.exact]
        if self.chance(25):  # the shift idiom: at most one key per query
            query = self.pick([v for v in keyable if v[1].numeric] or [("indices", Info("int", 0, 11))])
            offset = self.integer(-2, 2)
            query_text = query[0] if offset == 0 else f"{query[0]} {'+' if offset > 0 else '-'} {abs(offset)}"
            return f"select(indices, {query_text}, ==)", True
        keys = self.pick(keyable)
        same_family = [v for v in keyable if (v[1].kind == "str") == (keys[1].kind == "str")] or [keys]
        queries = self.pick(same_family if self.chance(80) else keyable)
        ordered = (keys[1].numeric and queries[1].numeric) or keys[1].kind == queries[1].kind == "str"
        predicate_form = self.pick(["op", "op", "op", "true", "lambda"])
        if predicate_form == "true":
            predicate = self.pick(["True", "True", "False"])
        elif predicate_form == "lambda":
            inner = Scope([("k", keys[1]), ("q", queries[1])], constants=scope.constants, lambda_body=True)
            body, _ = self.expr(inner, "bool", self.integer(1, 2))
            predicate = f"lambda k, q: {body}"
        else:
            predicate = self.pick(COMPARISONS if ordered else ["==", "!="])
        unique = keys[0] == "indices" and predicate == "=="
        return f"select({keys[0]}, {queries[0]}, {predicate})", unique

    # ---- statements -----------------------------------------------------------------------------

    def statements(self, scope: Scope, count: int, prefix: str, lines: list[str], indent: str = "") -> None:
        for _ in range(count):
            form = self.pick(["sop", "sop", "sop", "sop", "selector", "constant", "lambda"])
            if form == "constant" and not scope.lambda_body:
                name = self.fresh("c")
                text, info = self.literal_of(self.pick(["int", "int", "num", "str"]))
                lines.append(f"{indent}{name} = {text};")
                scope.constants.append((name, info))
            elif form == "selector":
                name = self.fresh(prefix + "s")
                text, unique = self.selector(scope, 2)
                lines.append(f"{indent}{name} = {text};")
                scope.selectors.append((name, unique))
            elif form == "lambda":
                source = self.pick(scope.values)
                lam = self.fresh("f")
                body, info = self.lambda_text(scope, [source[1]], "any", 2)
                lines.append(f"{indent}{lam} = {body};")
                name = self.fresh(prefix + "v")
                call = f"{lam}({source[0]})" if self.chance(50) else f"map({lam}, {source[0]})"
                lines.append(f"{indent}{name} = {call};")
                scope.values.append((name, info))
            else:
                name = self.fresh(prefix + "v")
                text, info = self.sop(scope)
                lines.append(f"{indent}{name} = {text};")
                scope.values.append((name, info))

    def function(self, scope: Scope) -> None:
        """`def fN(p, ..) { ...; return ..; }` and a call of it on s-ops of the kinds it was written for."""
        arguments = [self.pick(scope.values) for _ in range(self.integer(1, 2))]
        params = [f"p{i}" for i in range(len(arguments))]
        inner = Scope(
            [*zip(params, (i for _, i in arguments)), *self.builtins], constants=list(scope.constants), selectors=[]
        )
        name = self.fresh("fn")
        body: list[str] = []
        self.statements(inner, self.integer(0, 3), "t", body, indent="    ")
        result, info = self.sop(inner)
        self.lines.append(f"def {name}({', '.join(params)}) {{")
        self.lines.extend(body)
        self.lines.append(f"    return {result};")
        self.lines.append("}")
        for _ in range(self.integer(1, 2)):
            if self.chance(25):
                call = f"{name}({', '.join(f'{p}={t}' for p, (t, _) in reversed(list(zip(params, arguments))))})"
            else:
                call = f"{name}({', '.join(t for t, _ in arguments)})"
            bound = self.fresh("v")
            self.lines.append(f"{bound} = {call};")
            scope.values.append((bound, info))

    def program(self) -> str:
        scope = Scope(list(self.builtins))
        if self.chance(30):
            self.lines.append(f"@mode {self.pick(['causal', 'bidirectional'])};")
        for _ in range(self.integer(1, 10)):
            if self.chance(10):
                self.function(scope)
            else:
                self.statements(scope, 1, "", self.lines)
        if len(scope.values) == len(self.builtins):
            name = self.fresh("v")
            text, info = self.sop(scope)
            self.lines.append(f"{name} = {text};")
            scope.values.append((name, info))
        if self.chance(20):
            bound = [t for t, _ in scope.values[len(self.builtins) :]] + [t for t, _ in scope.selectors]
            self.lines.insert(self.pick([0, len(self.lines)]), f"@output {self.pick(bound)};")
        return "\n".join(self.lines) + "\n"


@st.composite
def programs(draw) -> GeneratedProgram:
    """A random well-formed program that cannot fail at run time on `inputs(program)`."""
    token_kind = draw(st.sampled_from(["int", "str", "mixed"]))
    lo, hi = (draw(st.integers(-3, 0)), draw(st.integers(1, 9))) if token_kind == "int" else (0, 0)
    builder = Builder(draw, token_kind, lo, hi)
    return GeneratedProgram(builder.program(), token_kind, lo, hi)


def sequences(program: GeneratedProgram, max_length: int = MAX_LENGTH) -> st.SearchStrategy[list]:
    if program.token_kind == "int":
        element = st.integers(program.token_lo, program.token_hi)
    elif program.token_kind == "mixed":
        element = st.sampled_from(MIXED_TOKENS)
    else:
        element = st.sampled_from(STRINGS)
    return st.lists(element, min_size=0, max_size=max_length)


@st.composite
def programs_and_batches(draw, max_batch: int = 4) -> tuple[GeneratedProgram, list[list]]:
    """A program and a (ragged) batch of inputs for it."""
    program = draw(programs())
    batch = draw(st.lists(sequences(program), min_size=1, max_size=max_batch))
    return program, batch
