"""Syntax errors in words: which token came, and what the grammar could have taken there (`an expression`,
`';'`, `a name`), with the line and column, from Lark's exception."""

from __future__ import annotations

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from .errors import RaspSyntaxError, Span, source_lines

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
_OPERATORS = {"OR", "AND", "MUL_OP", "ADD_OP", "COMP_OP", "LSQB", "IF", "IN"}


def _describe_expected(names: set[str], parser: Lark) -> str:
    terminals = {t.name: t for t in parser.terminals}
    if _EXPRESSION_START <= names:
        names = (
            names - _EXPRESSION_START - {"LSQB", "LBRACE", "LPAR", "MINUS", "PLUS", "NOT", "LAMBDA", "TRUE", "FALSE"}
        )
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


def syntax_error(exc: UnexpectedInput, source: str, filename: str, parser: Lark) -> RaspSyntaxError:
    """Lark's exception as a RaspSyntaxError: where, what came, and what could have come, in words."""
    line, column = exc.line, exc.column
    expected = _acceptable(exc)
    if isinstance(exc, UnexpectedCharacters):
        message = f"unexpected character {source[exc.pos_in_stream]!r}"
        if expected:
            message += f"; expected {_describe_expected(expected, parser)}"
    elif isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = source_lines(source.rstrip()) or [""]
        line, column = len(lines), len(lines[-1]) + 1
        message = f"unexpected end of file; expected {_describe_expected(expected, parser)}"
    else:
        assert isinstance(exc, UnexpectedToken)
        message = f"unexpected {_describe_token(exc.token)}; expected {_describe_expected(expected, parser)}"
        starts_line = not source_lines(source)[exc.line - 1][: exc.column - 1].strip()
        if "SEMICOLON" in expected and starts_line and exc.line > 1:
            message += " (is a ';' missing at the end of the previous statement?)"
    if line is None or line < 1:
        line, column = 1, 1
    width = len(exc.token) if isinstance(exc, UnexpectedToken) and exc.token.type != "$END" else 1
    return RaspSyntaxError(message, Span(filename, line, column, line, column + max(width, 1)), source)
