"""Okta's filter / search expression language (SCIM-like) for ``/api/v1/users`` and groups.

Grammar: ``expr := term ("or" term)*``, ``term := factor ("and" factor)*``,
``factor := "not"? ( "(" expr ")" | attr op value | attr "pr" )`` with operators
``eq ne gt ge lt le sw co ew pr``; values are double-quoted strings (``\\"`` escapes),
``true``/``false``/``null`` or numbers. String comparisons are case-insensitive, and an array
attribute matches when any element does. ``filter=`` accepts only the attributes and operators
Okta's filter supports; anything else is E0000031.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = {"eq", "ne", "gt", "ge", "lt", "le", "sw", "co", "ew", "pr"}
_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|"(?P<str>(?:[^"\\]|\\.)*)"|(?P<word>[A-Za-z0-9_.:\-+]+))')

Record = Callable[[str], Any]  # attribute path -> value (None when absent)


class SearchError(ValueError):
    pass


@dataclass(frozen=True)
class Comparison:
    attr: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or | not
    parts: tuple[Any, ...]


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SearchError(f"unexpected character at {pos}")
        pos = m.end()
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value)
        tokens.append((kind, value))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise SearchError("unexpected end of expression")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].lower() == word:
            self.i += 1
            return True
        return False

    def expr(self) -> Any:
        parts = [self.term()]
        while self.keyword("or"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def term(self) -> Any:
        parts = [self.factor()]
        while self.keyword("and"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def factor(self) -> Any:
        if self.keyword("not"):
            return BoolOp("not", (self.factor(),))
        kind, value = self.take()
        if kind == "lp":
            inner = self.expr()
            if self.take()[0] != "rp":
                raise SearchError("missing )")
            return inner
        if kind != "word":
            raise SearchError("attribute expected")
        attr = value
        kind, op = self.take()
        op = op.lower()
        if kind != "word" or op not in OPERATORS:
            raise SearchError(f"unknown operator {op!r}")
        if op == "pr":
            return Comparison(attr, "pr")
        kind, raw = self.take()
        if kind == "str":
            return Comparison(attr, op, raw)
        if kind == "word":
            literal = {"true": True, "false": False, "null": None}
            if raw.lower() in literal:
                return Comparison(attr, op, literal[raw.lower()])
            try:
                return Comparison(attr, op, float(raw) if "." in raw else int(raw))
            except ValueError:
                raise SearchError(f"bad value {raw!r}") from None
        raise SearchError("value expected")


def parse(text: str, *, allowed: Mapping[str, set[str]] | None = None) -> Any:
    """Parse an expression; with ``allowed`` (attr -> operators) reject anything else."""
    if len(text) > 2000:
        raise SearchError("expression too long")
    parser = _Parser(tokenize(text))
    try:
        tree = parser.expr()
    except RecursionError:
        raise SearchError("expression nested too deeply") from None
    if parser.peek() is not None:
        raise SearchError("trailing input")
    if allowed is not None:
        _check_allowed(tree, allowed)
    return tree


def _check_allowed(node: Any, allowed: Mapping[str, set[str]]) -> None:
    if isinstance(node, BoolOp):
        if node.op == "not":
            raise SearchError("not is unsupported here")
        for part in node.parts:
            _check_allowed(part, allowed)
        return
    ops = allowed.get(node.attr)
    if ops is None or node.op not in ops:
        raise SearchError(f"{node.attr} {node.op} is not supported")


def matches(node: Any, record: Record) -> bool:
    if isinstance(node, BoolOp):
        if node.op == "and":
            return all(matches(p, record) for p in node.parts)
        if node.op == "or":
            return any(matches(p, record) for p in node.parts)
        return not matches(node.parts[0], record)
    value = record(node.attr)
    values = value if isinstance(value, list) else [value]
    if node.op == "pr":
        return any(v not in (None, "") for v in values)
    if node.op == "ne":
        return not any(_compare(v, "eq", node.value) for v in values)
    return any(_compare(v, node.op, node.value) for v in values)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None or expected is None:
        return op == "eq" and actual is expected
    if isinstance(actual, bool) or isinstance(expected, bool):
        return op == "eq" and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        a: Any = actual
        b: Any = expected
    else:
        a, b = str(actual).lower(), str(expected).lower()
    if op == "eq":
        return bool(a == b)
    if op == "sw":
        return isinstance(a, str) and a.startswith(b)
    if op == "ew":
        return isinstance(a, str) and a.endswith(b)
    if op == "co":
        return isinstance(a, str) and b in a
    try:
        return bool({"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op])
    except TypeError:
        return False
