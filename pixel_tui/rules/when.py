"""The `when` grammar of docs/rules.md: a tokenizer and a recursive-descent parser into a condition.

A condition is a small tree evaluated against one target's facts (`rules.facts`): a mapping of field name to
value, where a field that does not apply to the target is absent and every comparison with it is false.
Errors name the column (1-based) of the text where the parser stopped, so a rule's author finds the spot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pixel_tui.levels import Level

NUMBER, TEXT, BOOL, LEVEL = "number", "text", "bool", "level"
"""The types a field holds and a value is written in."""

HOST_METRICS = ("cpu", "memory", "swap", "disk", "load")
"""The `host.<metric>` figures (percent; load per core in percent)."""

KINDS = ("worker", "container", "ghost", "orphan", "lock", "host")
"""Every kind of target a rule evaluates against."""

FIELDS: dict[str, str] = {
    "kind": TEXT,
    "name": TEXT,
    "state": TEXT,
    "timed_out": BOOL,
    "age_s": NUMBER,
    "health": TEXT,
    "health_for_s": NUMBER,
    "restarts": NUMBER,
    "stale_s": NUMBER,
    "swapoff_fits": BOOL,
    "host.level": LEVEL,
    **{f"host.{metric}": NUMBER for metric in HOST_METRICS},
    **{f"host.{metric}.level": LEVEL for metric in HOST_METRICS},
}
"""Every field a condition may name, and its type; `label.<key>` (text) is the one family beyond these."""

LABEL = "label."
LEVELS = {level.value: level for level in Level}
UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
OPS = ("==", "!=", "<=", ">=", "<", ">")
MAX_TEXT = 2000
"""A `when` longer than this is refused outright (no rule needs it; a runaway paste is not parsed)."""
MAX_DEPTH = 50
"""Parentheses and `not`s nested deeper than this are refused (no recursion runs away)."""


class WhenError(ValueError):
    """A `when` that does not parse; `column` is 1-based, into the text."""

    def __init__(self, column: int, message: str) -> None:
        super().__init__(f"when: column {column}: {message}")
        self.column = column
        self.message = message


def field_type(name: str) -> str | None:
    """The type of a field by name; None when there is no such field."""
    if name.startswith(LABEL):
        return TEXT if len(name) > len(LABEL) else None
    return FIELDS.get(name)


# -- the condition tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A bare field: true when present and truthy."""

    name: str

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """True when the field is present and truthy."""
        return bool(facts.get(self.name))


@dataclass(frozen=True)
class Compare:
    """`field op value`; false whenever the field is absent from the target or of another type."""

    name: str
    op: str
    value: Any

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """The comparison on the target's facts."""
        if self.name not in facts:
            return False
        have = facts[self.name]
        want = self.value
        if isinstance(want, Level):
            level = LEVELS.get(str(have))
            if level is None:
                return False
            have, want = level.rank, want.rank
        elif isinstance(want, bool) or isinstance(have, bool):
            if not (isinstance(want, bool) and isinstance(have, bool)):
                return False
        elif isinstance(want, float):
            if not isinstance(have, int | float):
                return False
        elif not isinstance(have, str):
            return False
        return _compare(have, self.op, want)


@dataclass(frozen=True)
class Not:
    """`not factor`."""

    inner: Node

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """The negation."""
        return not self.inner.holds(facts)


@dataclass(frozen=True)
class All:
    """`a and b and ...`."""

    parts: tuple[Node, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """True when every part holds."""
        return all(part.holds(facts) for part in self.parts)


@dataclass(frozen=True)
class Any_:
    """`a or b or ...`."""

    parts: tuple[Node, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """True when some part holds."""
        return any(part.holds(facts) for part in self.parts)


Node = Field | Compare | Not | All | Any_


def _compare(have: Any, op: str, want: Any) -> bool:
    if op == "==":
        return bool(have == want)
    if op == "!=":
        return bool(have != want)
    if op == "<":
        return bool(have < want)
    if op == "<=":
        return bool(have <= want)
    if op == ">":
        return bool(have > want)
    return bool(have >= want)


@dataclass(frozen=True)
class Condition:
    """A parsed `when`: the tree, its text, and the kinds it names (`kind == '...'` anywhere)."""

    text: str
    root: Node
    kinds: frozenset[str]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """True when the condition holds on one target's facts."""
        return self.root.holds(facts)


# -- tokens ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<paren>[()])
  | (?P<number>-?\d+(?:\.\d+)?(?:[smhd](?![A-Za-z0-9_]))?)
  | (?P<text>'[^'\n]*'|"[^"\n]*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_][A-Za-z0-9_./-]*)?)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    column: int


def tokens(text: str) -> list[_Token]:
    """The tokens of `text`, blanks dropped; raises WhenError at the first character that starts none."""
    found: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char in "'\"":
                raise WhenError(position + 1, f"text opened with {char} is not closed on its line")
            if char == "=":
                raise WhenError(position + 1, "a single = is not an operator: write ==")
            raise WhenError(position + 1, f"unexpected character {char!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(_Token(kind, match.group(), position + 1))
        position = match.end()
    return found


# -- the parser -----------------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the grammar of docs/rules.md."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokens(text)
        self.at = 0
        self.depth = 0
        self.kinds: set[str] = set()

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def end_column(self) -> int:
        return len(self.text.rstrip()) + 1

    def word(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text == word:
            self.at += 1
            return True
        return False

    def parse(self) -> Node:
        if not self.tokens:
            raise WhenError(1, "empty condition")
        node = self.expr()
        token = self.peek()
        if token is not None:
            raise WhenError(token.column, f"expected and, or or the end, got {token.text!r}")
        return node

    def expr(self) -> Node:
        parts = [self.term()]
        while self.word("or"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Any_(tuple(parts))

    def term(self) -> Node:
        parts = [self.factor()]
        while self.word("and"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def factor(self) -> Node:
        token = self.peek()
        if token is None:
            raise WhenError(self.end_column(), "the condition ends too soon: a field, not or ( expected")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise WhenError(token.column, f"nested deeper than {MAX_DEPTH}")
        try:
            if self.word("not"):
                return Not(self.factor())
            if token.kind == "paren" and token.text == "(":
                self.at += 1
                node = self.expr()
                close = self.peek()
                if close is None or close.text != ")":
                    column = self.end_column() if close is None else close.column
                    raise WhenError(column, f"( at column {token.column} is not closed")
                self.at += 1
                return node
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Node:
        token = self.peek()
        assert token is not None  # factor checked
        if token.kind != "word" or token.text in ("and", "or", "not", "true", "false") or token.text in LEVELS:
            raise WhenError(token.column, f"a field expected, got {token.text!r}")
        kind = field_type(token.text)
        if kind is None:
            raise WhenError(token.column, f"unknown field {token.text!r}")
        self.at += 1
        op = self.peek()
        if op is None or op.kind != "op":
            return Field(token.text)
        self.at += 1
        value_token = self.peek()
        if value_token is None:
            raise WhenError(self.end_column(), f"a value expected after {op.text}")
        self.at += 1
        value = self.value(value_token, token.text, kind)
        if op.text not in ("==", "!=") and kind in (TEXT, BOOL):
            raise WhenError(op.column, f"{token.text} is {kind}: only == and != compare it")
        if token.text == "kind":
            if value not in KINDS:
                raise WhenError(value_token.column, f"unknown kind {value!r} (one of {', '.join(KINDS)})")
            if op.text == "==":
                self.kinds.add(value)
        return Compare(token.text, op.text, value)

    def value(self, token: _Token, name: str, kind: str) -> Any:
        value: Any
        if token.kind == "number":
            number = token.text
            scale = UNITS.get(number[-1], 1.0) if number[-1] in UNITS else 1.0
            value, got = float(number.rstrip("smhd")) * scale, NUMBER
        elif token.kind == "text":
            value, got = token.text[1:-1], TEXT
        elif token.kind == "word" and token.text in ("true", "false"):
            value, got = token.text == "true", BOOL
        elif token.kind == "word" and token.text in LEVELS:
            value, got = LEVELS[token.text], LEVEL
        else:
            raise WhenError(
                token.column, f"a value expected (number, 'text', true, false or a level), got {token.text!r}"
            )
        if got != kind:
            raise WhenError(token.column, f"{name} is {kind}, {token.text} is {got}")
        return value


def parse_when(text: str) -> Condition:
    """Parse a `when` into a Condition; raises WhenError naming the column where it went wrong."""
    if not isinstance(text, str):
        raise WhenError(1, "expected text")
    if len(text) > MAX_TEXT:
        raise WhenError(MAX_TEXT + 1, f"longer than {MAX_TEXT} characters")
    parser = _Parser(text)
    root = parser.parse()
    return Condition(text, root, frozenset(parser.kinds))
