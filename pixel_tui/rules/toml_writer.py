"""A TOML writer for the one shape `rules.toml` has: arrays of tables holding strings, numbers, bools and inline tables.

tomllib reads TOML and nothing in the standard library writes it; this writes only what pixel-tui puts in
`rules.toml` (docs/rules.md), so that reading it back with tomllib gives the very values written
(tests/test_rules_toml.py holds the round trip). Anything else (a list, a date, NaN) is a TypeError or a
ValueError, never a file that reads differently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def key(name: str) -> str:
    """A key, bare when TOML allows it, else a quoted string."""
    if not isinstance(name, str):
        raise TypeError(f"a TOML key must be text, got {name!r}")
    return name if _BARE.fullmatch(name) else string(name)


def string(text: str) -> str:
    """A basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError("a lone surrogate cannot be written in TOML")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def value(item: Any) -> str:
    """One value: a string, a bool, an int, a finite float, or an inline table of those."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return string(item)
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if not math.isfinite(item):
            raise ValueError(f"{item!r} is not written in rules.toml")
        return repr(item)  # repr round-trips exactly, and always has a '.' or an 'e'
    if isinstance(item, Mapping):
        if not item:
            return "{}"
        return "{ " + ", ".join(f"{key(name)} = {value(inner)}" for name, inner in item.items()) + " }"
    raise TypeError(f"rules.toml holds text, numbers, bools and tables, not {type(item).__name__}")


def document(arrays: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], header: str = "") -> str:
    """A document of arrays of tables: each (dotted name, tables) as `[[name]]` blocks, in order.

    `header` is written first as comment lines."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for name, tables in arrays:
        dotted = ".".join(key(part) for part in name.split("."))
        for table in tables:
            if lines:
                lines.append("")
            lines.append(f"[[{dotted}]]")
            lines.extend(f"{key(field)} = {value(item)}" for field, item in table.items() if item is not None)
    return "\n".join(lines) + "\n"
