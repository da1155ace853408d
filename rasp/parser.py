"""Text → syntax tree, with Lark and the grammar in grammar.lark.

Syntax errors become `RaspSyntaxError` with a 1-based line and column and what was expected, in words.
"""

from __future__ import annotations

import ast as _pyast
import warnings
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from . import limits
from . import syntax as S
from .errors import RaspError, RaspInputError, RaspSyntaxError, Span
from .syntax_errors import syntax_error

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        GRAMMAR_PATH.read_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
    )


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark parse tree → typed syntax tree with spans."""

    def __init__(self, filename: str, source: str):
        super().__init__()
        self.filename = filename
        self.source = source

    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return S.NO_SPAN
        return Span(self.filename, meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> Span:
        return Span(self.filename, token.line, token.column, token.end_line, token.end_column)

    # statements
    def start(self, meta, children):
        return S.Module(tuple(children), span=self._span(meta))

    def assign(self, meta, children):
        name, value = children
        return S.Assign(str(name), value, span=self._span(meta))

    def unpack(self, meta, children):
        *names, value = children
        return S.Unpack(tuple(str(n) for n in names), value, span=self._span(meta))

    def funcdef(self, meta, children):
        name, params, *body, result = children
        return S.FuncDef(str(name), tuple(params or ()), tuple(body), result, span=self._span(meta))

    def for_loop(self, meta, children):
        targets, iterable, *body = children
        return S.ForLoop(targets, iterable, tuple(body), span=self._span(meta))

    def targets(self, meta, children):
        return tuple(str(c) for c in children)

    def tuple(self, meta, children):
        return S.TupleLit(tuple(children), span=self._span(meta))

    def set_example(self, meta, children):
        subset, example = children
        words = f"set {subset} example" if subset else "set example"
        return S.ReplCommand(words, example, span=self._span(meta))

    def show_example(self, meta, children):
        (subset,) = children
        return S.ReplCommand(f"show {subset} example" if subset else "show example", span=self._span(meta))

    def seq_display(self, meta, children):
        return S.ReplCommand(f"full seq display {children[0]}", span=self._span(meta))

    def exit(self, meta, children):
        return S.ReplCommand("exit", span=self._span(meta))

    def load(self, meta, children):
        (module,) = children
        return S.Load(_pyast.literal_eval(str(module)), span=self._span(meta))

    def directive(self, meta, children):
        name, value = children
        return S.Directive(str(name), str(value), span=self._span(meta))

    def expr_stmt(self, meta, children):
        return S.ExprStmt(children[0], span=self._span(meta))

    def params(self, meta, children):
        seen: set[str] = set()
        for token in children:
            if str(token) in seen:
                raise RaspSyntaxError(f"parameter '{token}' is named twice", self._token_span(token), self.source)
            seen.add(str(token))
        return tuple(str(c) for c in children)

    # expressions
    def lambda_(self, meta, children):
        params, body = children
        return S.Lambda(tuple(params or ()), body, span=self._span(meta))

    def ifexp(self, meta, children):
        body, test, orelse = children
        return S.IfExp(body, test, orelse, span=self._span(meta))

    def or_op(self, meta, children):
        return S.BinOp("or", children[0], children[1], span=self._span(meta))

    def and_op(self, meta, children):
        return S.BinOp("and", children[0], children[1], span=self._span(meta))

    def not_op(self, meta, children):
        return S.UnaryOp("not", children[0], span=self._span(meta))

    def compare(self, meta, children):
        left, op, right = children
        return S.BinOp(str(op), left, right, span=self._span(meta))

    def binop(self, meta, children):
        left, op, right = children
        return S.BinOp(str(op), left, right, span=self._span(meta))

    def neg(self, meta, children):
        return S.UnaryOp("-", children[0], span=self._span(meta))

    def pos(self, meta, children):
        return S.UnaryOp("+", children[0], span=self._span(meta))

    def contains(self, meta, children):
        left, right = children
        return S.BinOp("in", left, right, span=self._span(meta))

    def list_comp(self, meta, children):
        value, targets, iterable = children
        return S.ListComp(value, targets, iterable, span=self._span(meta))

    def dict_comp(self, meta, children):
        key, value, targets, iterable = children
        return S.DictComp(key, value, targets, iterable, span=self._span(meta))

    def call(self, meta, children):
        name, arguments = children
        arguments = arguments or []
        args = tuple(a for a in arguments if not isinstance(a, S.Keyword))
        keywords = tuple(a for a in arguments if isinstance(a, S.Keyword))
        seen_keyword = False
        for a in arguments:
            if isinstance(a, S.Keyword):
                seen_keyword = True
            elif seen_keyword:
                raise RaspSyntaxError("a positional argument follows a keyword argument", a.span, self.source)
        return S.Call(str(name), args, keywords, span=self._span(meta))

    def arguments(self, meta, children):
        return [c for c in children if c is not None]

    def keyword(self, meta, children):
        name, value = children
        return S.Keyword(str(name), value, span=self._span(meta))

    def operator(self, meta, children):
        return S.Operator(str(children[0]), span=self._span(meta))

    def index(self, meta, children):
        table, key = children
        return S.Index(table, key, span=self._span(meta))

    def number(self, meta, children):
        text = str(children[0])
        span = self._span(meta)
        value: int | float = float(text) if not text.isdigit() else 0
        # An integer past float range cannot meet a float (a float literal past it is inf, as in Python); one
        # of more than 309 digits is past it without converting it (Python refuses past 4300 digits).
        too_long = text.isdigit() and len(text.lstrip("0")) > 309
        if text.isdigit() and not too_long:
            value = int(text)
        if too_long or limits.exceeds_magnitude(value):
            raise RaspSyntaxError(
                f"the integer {_shorten(text)} is out of range (at most about 1.8e308; a float literal such as "
                "1e999 is infinity)",
                span,
                self.source,
            )
        return S.Number(value, span=span)

    def string(self, meta, children):
        return S.String(string_literal(children[0], self._token_span(children[0]), self.source), span=self._span(meta))

    def true(self, meta, children):
        return S.Bool(True, span=self._span(meta))

    def false(self, meta, children):
        return S.Bool(False, span=self._span(meta))

    def name(self, meta, children):
        return S.Name(str(children[0]), span=self._span(meta))

    def list(self, meta, children):
        return S.ListLit(tuple(c for c in children if c is not None), span=self._span(meta))

    def dict(self, meta, children):
        return S.DictLit(tuple(c for c in children if c is not None), span=self._span(meta))

    def pair(self, meta, children):
        return (children[0], children[1])


# Lark names the `lambda` rule "lambda", a Python keyword.
setattr(_ToAst, "lambda", _ToAst.lambda_)


def _shorten(text: str, keep: int = 24) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} characters)"


def string_literal(token: Token, span: Span, source: str) -> str:
    """A string literal's value, with Python's escapes; bad or doubtful escapes are syntax errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # '\q' is only a warning to Python
            value = _pyast.literal_eval(str(token))
    except (SyntaxError, ValueError, Warning) as exc:
        reason = str(exc.args[0] if exc.args else exc).removeprefix("(unicode error) ")
        raise RaspSyntaxError(f"bad escape in string {_shorten(str(token))}: {reason}", span, source) from None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RaspSyntaxError(
            f"string {_shorten(str(token))} contains a lone surrogate, which is not a character", span, source
        ) from None
    return value


_EXPRESSION_RULES = {
    "lambda", "ifexp", "or_op", "and_op", "not_op", "compare", "contains", "binop", "neg", "pos", "call", "index",
    "list", "dict", "list_comp", "dict_comp", "tuple",
}  # fmt: skip


def _check_nesting(tree: Tree, source: str, filename: str) -> None:
    """Refuse expressions nested past MAX_NESTING before the recursive passes meet them (iteratively)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _EXPRESSION_RULES:
            depth += 1
            if depth > limits.MAX_NESTING:
                meta = node.meta
                span = Span(filename, meta.line, meta.column, meta.line, meta.column + 1)
                raise RaspSyntaxError(nesting_message(), span, source)
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))


def nesting_message() -> str:
    return (
        f"expressions are nested more than {limits.MAX_NESTING} levels deep here (counting the functions they "
        f"call); name intermediate results, or raise the limit ({limits.how_to_raise('MAX_NESTING')})"
    )


def parse_source(source: str, filename: str = "<input>") -> S.Module:
    """Parse a whole program. Raises RaspSyntaxError pointing at the first problem."""
    if not isinstance(source, str):
        raise RaspInputError(f"a program's source must be a str, not {type(source).__name__}")
    if len(source) > limits.MAX_SOURCE_CHARS:
        raise RaspInputError(
            f"{filename}: the program is {len(source)} characters long, more than the limit of "
            f"{limits.MAX_SOURCE_CHARS} ({limits.how_to_raise('MAX_SOURCE_CHARS')})"
        )
    try:
        tree = _lark().parse(source)
    except UnexpectedInput as exc:
        raise syntax_error(exc, source, filename, _lark()) from None
    _check_nesting(tree, source, filename)
    try:
        with limits.recursion_room():
            return _ToAst(filename, source).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RaspError):
            raise exc.orig_exc from None
        raise


def read_source(path: Path) -> str:
    """A program file's text (UTF-8); an unreadable or undecodable file is the user's error, with where."""
    limit = 4 * limits.MAX_SOURCE_CHARS  # bytes: at most 4 per character
    try:
        if not path.is_file():  # a directory, a device (/dev/zero), a pipe: nothing to parse
            raise RaspInputError(f"cannot read {path}: {'no such file' if not path.exists() else 'not a file'}")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise RaspInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise RaspInputError(
            f"{path}: the file is larger than {limit:,} bytes, past the limit of {limits.MAX_SOURCE_CHARS:,} "
            f"characters ({limits.how_to_raise('MAX_SOURCE_CHARS')})"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RaspInputError(
            f"{path}:{line}:{column}: the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)"
        ) from None
