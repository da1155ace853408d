"""Syntax tree → dialect text, with the fewest parentheses the grammar needs.

`to_source(parse_source(text))` parses back to an equal tree (syntax nodes compare without spans), so
the printer is a formatter: comments and redundant parentheses are dropped, layout is normalised.

Precedence levels follow rasp/grammar.lark, lowest first:

    0 lambda   1 x if c else y   2 or   3 and   4 not   5 comparisons and `in` (non-associative)
    6 + -      7 * / // %        8 unary - +    9 calls, indexing, atoms
"""

from __future__ import annotations

import math

from . import syntax as S

LAMBDA, CONDITIONAL, OR, AND, NOT, COMPARISON, SUM, PRODUCT, UNARY, POSTFIX = range(10)

_BINARY_LEVEL = {
    "or": OR,
    "and": AND,
    **{op: COMPARISON for op in ("==", "!=", "<", "<=", ">", ">=", "in")},
    "+": SUM,
    "-": SUM,
    "*": PRODUCT,
    "/": PRODUCT,
    "//": PRODUCT,
    "%": PRODUCT,
}

INDENT = "    "


def to_source(module: S.Module) -> str:
    """A whole program as text: one statement per line, a blank line around function definitions."""
    chunks: list[str] = []
    for statement in module.statements:
        text = statement_source(statement)
        if isinstance(statement, S.FuncDef) and chunks and chunks[-1] != "":
            chunks.append("")
        chunks.append(text)
        if isinstance(statement, S.FuncDef):
            chunks.append("")
    while chunks and chunks[-1] == "":
        chunks.pop()
    return "\n".join(chunks) + "\n" if chunks else ""


def statement_source(stmt: S.Statement, indent: str = "") -> str:
    if isinstance(stmt, S.Assign):
        return f"{indent}{stmt.name} = {_value_source(stmt.value)};"
    if isinstance(stmt, S.Unpack):
        return f"{indent}{', '.join(stmt.names)} = {_value_source(stmt.value)};"
    if isinstance(stmt, S.FuncDef):
        lines = [f"{indent}def {stmt.name}({', '.join(stmt.params)}) {{"]
        lines += [statement_source(a, indent + INDENT) for a in stmt.body]
        lines.append(f"{indent}{INDENT}return {_value_source(stmt.result)};")
        lines.append(f"{indent}}}")
        return "\n".join(lines)
    if isinstance(stmt, S.ForLoop):
        lines = [f"{indent}for {', '.join(stmt.targets)} in {expr_source(stmt.iterable)} {{"]
        lines += [statement_source(a, indent + INDENT) for a in stmt.body]
        lines.append(f"{indent}}}")
        return "\n".join(lines)
    if isinstance(stmt, S.ReplCommand):
        example = f" {expr_source(stmt.example)}" if stmt.example is not None else ""
        return f"{indent}{stmt.words}{example};"
    if isinstance(stmt, S.Load):
        return f"{indent}load {_string(stmt.module)};"
    if isinstance(stmt, S.Directive):
        return f"{indent}@{stmt.name} {stmt.value};"
    if isinstance(stmt, S.ExprStmt):
        return f"{indent}{expr_source(stmt.value)};"
    raise TypeError(f"not a statement: {stmt!r}")


def _value_source(e: S.Expr) -> str:
    """The right of an assignment or a return: a tuple's items unparenthesised (`a, b`)."""
    if isinstance(e, S.TupleLit):
        return ", ".join(expr_source(item) for item in e.items)
    return expr_source(e)


def expr_source(e: S.Expr, level: int = LAMBDA) -> str:
    """An expression as text, parenthesised if it binds more loosely than `level` allows."""
    own, text = _show(e)
    return f"({text})" if own < level else text


def _show(e: S.Expr) -> tuple[int, str]:
    """(precedence level, text) of an expression."""
    if isinstance(e, S.Number):
        text = _number(e.value)
        return (UNARY if text.startswith("-") else POSTFIX), text
    if isinstance(e, S.String):
        return POSTFIX, _string(e.value)
    if isinstance(e, S.Bool):
        return POSTFIX, "True" if e.value else "False"
    if isinstance(e, S.Name):
        return POSTFIX, e.id
    if isinstance(e, S.Operator):
        return POSTFIX, e.op
    if isinstance(e, S.ListLit):
        return POSTFIX, "[" + ", ".join(expr_source(item) for item in e.items) + "]"
    if isinstance(e, S.DictLit):
        pairs = (f"{expr_source(k, CONDITIONAL)}: {expr_source(v)}" for k, v in e.items)
        return POSTFIX, "{" + ", ".join(pairs) + "}"
    if isinstance(e, (S.ListComp, S.DictComp)):
        loop = f"for {', '.join(e.targets)} in {expr_source(e.iterable, CONDITIONAL)}"
        if isinstance(e, S.ListComp):
            return POSTFIX, f"[{expr_source(e.value)} {loop}]"
        return POSTFIX, f"{{{expr_source(e.key, CONDITIONAL)}: {expr_source(e.value)} {loop}}}"
    if isinstance(e, S.TupleLit):  # only where a tuple may stand (assignments, return)
        raise TypeError("a tuple is printed by the statement that holds it")
    if isinstance(e, S.Call):
        args = [expr_source(a) for a in e.args]
        args += [f"{k.name}={expr_source(k.value)}" for k in e.keywords]
        return POSTFIX, f"{e.func}({', '.join(args)})"
    if isinstance(e, S.Index):
        return POSTFIX, f"{expr_source(e.table, POSTFIX)}[{expr_source(e.key)}]"
    if isinstance(e, S.UnaryOp):
        if e.op == "not":
            return NOT, f"not {expr_source(e.operand, NOT)}"
        operand = expr_source(e.operand, UNARY)
        return UNARY, f"{e.op} {operand}" if operand.startswith(("-", "+")) else f"{e.op}{operand}"
    if isinstance(e, S.BinOp):
        level = _BINARY_LEVEL[e.op]
        # Left-associative operators take their own level on the left; comparisons chain in neither side.
        left_level = level + 1 if level == COMPARISON else level
        return level, f"{expr_source(e.left, left_level)} {e.op} {expr_source(e.right, level + 1)}"
    if isinstance(e, S.IfExp):
        body, test = expr_source(e.body, OR), expr_source(e.test, OR)
        return CONDITIONAL, f"{body} if {test} else {expr_source(e.orelse, CONDITIONAL)}"
    if isinstance(e, S.Lambda):
        params = " " + ", ".join(e.params) if e.params else ""
        return LAMBDA, f"lambda{params}: {expr_source(e.body)}"
    if isinstance(e, S.Keyword):  # only inside calls, but printable on its own for messages
        return LAMBDA, f"{e.name}={expr_source(e.value)}"
    raise TypeError(f"not an expression: {e!r}")


def _number(value: int | float) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        raise ValueError("NaN has no literal form")
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


def _string(value: str) -> str:
    """A string literal, double-quoted unless the text holds a double quote and no single one."""
    text = repr(value)  # Python's escapes are the dialect's (the parser reads them with literal_eval)
    if text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text
