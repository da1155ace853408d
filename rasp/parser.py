"""Text → syntax tree, with Lark and the grammar in grammar.lark.

Syntax errors become `RaspSyntaxError` with a 1-based line and column and what was expected, in words.
"""

from __future__ import annotations

import ast as _pyast
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr

from . import syntax as S
from .errors import RaspError, RaspSyntaxError, Span

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

# How named terminals read in an error message.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "COMP_OP": "a comparison operator (== != < <= > >=)",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/', '//' or '%'",
    "$END": "the end of the file",
}
_EXPRESSION_START = {"NAME", "NUMBER", "STRING"}
# Tokens that could only continue the expression before them: summarised as "an operator".
_OPERATORS = {"OR", "AND", "MUL_OP", "ADD_OP", "COMP_OP", "LSQB", "IF"}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        GRAMMAR_PATH.read_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def _describe_expected(names: set[str]) -> str:
    parser = _lark()
    terminals = {t.name: t for t in parser.terminals}
    if _EXPRESSION_START <= names:
        names = names - _EXPRESSION_START - {"LSQB", "LBRACE", "LPAR", "MINUS", "NOT", "LAMBDA", "TRUE", "FALSE"}
        words = ["an expression"]
    else:
        words = []
    if names & _OPERATORS and names - _OPERATORS:
        names = names - _OPERATORS
        words.append("an operator")
    for name in sorted(names):
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
        elif name in terminals and isinstance(terminals[name].pattern, PatternStr):
            words.append(f"'{terminals[name].pattern.value}'")
        else:
            words.append(name.lower())
    words = sorted(set(words), key=lambda w: (w in ("an expression", "an operator"), w))
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "NAME":
        return f"name '{token}'"
    if token.type == "NUMBER":
        return f"number {token}"
    if token.type == "STRING":
        return f"string {token}"
    return f"'{token}'"


def _acceptable(exc: UnexpectedInput) -> set[str]:
    """The exact set of terminals the parser could take here (Lark's own sets over-approximate)."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        return set(interactive.accepts())
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


def _syntax_error(exc: UnexpectedInput, source: str, filename: str) -> RaspSyntaxError:
    line, column = exc.line, exc.column
    expected = _acceptable(exc)
    if isinstance(exc, UnexpectedCharacters):
        message = f"unexpected character {source[exc.pos_in_stream]!r}"
        if expected:
            message += f"; expected {_describe_expected(expected)}"
    elif isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = source.rstrip().splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        message = f"unexpected end of file; expected {_describe_expected(expected)}"
    else:
        assert isinstance(exc, UnexpectedToken)
        message = f"unexpected {_describe_token(exc.token)}; expected {_describe_expected(expected)}"
        starts_line = not source.splitlines()[exc.line - 1][: exc.column - 1].strip()
        if "SEMICOLON" in expected and starts_line and exc.line > 1:
            message += " (is a ';' missing at the end of the previous statement?)"
    if line is None or line < 1:
        line, column = 1, 1
    width = len(exc.token) if isinstance(exc, UnexpectedToken) and exc.token.type != "$END" else 1
    return RaspSyntaxError(message, Span(filename, line, column, line, column + max(width, 1)), source)


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

    def funcdef(self, meta, children):
        name, params, *body, result = children
        return S.FuncDef(str(name), tuple(params or ()), tuple(body), result, span=self._span(meta))

    def load(self, meta, children):
        (module,) = children
        return S.Load(_pyast.literal_eval(str(module)), span=self._span(meta))

    def directive(self, meta, children):
        name, value = children
        return S.Directive(str(name), str(value), span=self._span(meta))

    def expr_stmt(self, meta, children):
        return S.ExprStmt(children[0], span=self._span(meta))

    def params(self, meta, children):
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
        value = int(text) if text.isdigit() else float(text)
        return S.Number(value, span=self._span(meta))

    def string(self, meta, children):
        return S.String(_pyast.literal_eval(str(children[0])), span=self._span(meta))

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


def parse_source(source: str, filename: str = "<input>") -> S.Module:
    """Parse a whole program. Raises RaspSyntaxError pointing at the first problem."""
    try:
        tree = _lark().parse(source)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, source, filename) from None
    try:
        return _ToAst(filename, source).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RaspError):
            raise exc.orig_exc from None
        raise
