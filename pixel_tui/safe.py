"""The one boundary untrusted text crosses before it reaches a terminal: control characters made visible.

Everything the host hands pixel-tui (container names, images, labels, env, commands, log lines, ledger
ids and fields, lock contents, and the config and theme strings echoed in messages) may carry escape
sequences that retitle the terminal, clear it or recolour it. Before such text is drawn or printed it
goes through one of these functions:

- `printable(text)` for one line: every C0 and C1 control character, DEL, and the Unicode controls
  that reorder or break lines (bidi overrides and isolates, line and paragraph separators) become
  visible escapes (`\\x1b`, `\\n`, `\\u202e`); nothing is dropped, so the operator sees what is there.
- `printable_lines(text)` for text where line breaks are meant (a detail value, a message): newlines
  are kept, tabs become spaces, every other control character is escaped as above.
- `sgr_only(text)` for a container's log, where colours may be rendered: SGR sequences (`ESC [ ... m`)
  are kept, every other escape sequence and control character is escaped.
- `displayable(value)` applies `printable` to every string inside a snapshot, a container detail or
  any frozen dataclass, tuple or mapping of them, returning the very same object when nothing needed
  escaping, so the common case costs one regular-expression search per string.

`--json` does not go through here: JSON escapes control characters itself and keeps the data exact.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")

# C1 controls, DEL, and the Unicode format characters that reorder text or break lines.
_OTHER_CONTROLS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHER_CONTROLS}]")
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_CONTROLS}]")  # as _UNSAFE, newline allowed
_SGR = re.compile(r"\x1b\[[0-9;:]{0,64}m")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character shown as a visible escape; one line, safe for any terminal."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """Like `printable`, but line breaks are kept and tabs become spaces (multi-line text)."""
    text = text.replace("\r\n", "\n").expandtabs(4)
    if _UNSAFE_IN_LINES.search(text) is None:
        return text
    return _UNSAFE_IN_LINES.sub(_escape, text)


def sgr_only(text: str) -> str:
    """A log for a colour terminal: SGR colour sequences kept, every other control character escaped.

    Lines stay lines; a carriage return inside a line (progress bars) is shown as `\\r`, not obeyed.
    """
    lines = text.replace("\r\n", "\n").expandtabs(8).split("\n")
    return "\n".join(_sgr_line(line) for line in lines)


def _sgr_line(line: str) -> str:
    if _UNSAFE.search(line) is None:
        return line
    parts: list[str] = []
    position = 0
    for match in _SGR.finditer(line):
        parts.append(printable(line[position : match.start()]))
        parts.append(match.group())
        position = match.end()
    parts.append(printable(line[position:]))
    return "".join(parts)


def displayable(value: T) -> T:
    """`value` with `printable` applied to every string in it (dataclass fields, tuples, mapping keys and
    values); the same object when nothing had to change."""
    return _clean(value)


def _clean(value: Any) -> Any:
    # Called for every field of every container and worker each collection (1 600 times a cycle at 100
    # containers): the handler is looked up once per type, not found through a chain of isinstance calls.
    kind = type(value)
    handler = _HANDLERS.get(kind)
    if handler is None:
        handler = _HANDLERS[kind] = _handler_for(kind)
    return handler(value)


def _unchanged(value: Any) -> Any:
    return value


def _clean_tuple(value: tuple[Any, ...]) -> tuple[Any, ...]:
    cleaned = tuple(map(_clean, value))
    for new, old in zip(cleaned, value, strict=True):
        if new is not old:
            return cleaned
    return value


def _clean_mapping(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    changed = False
    items = []
    for key, item in value.items():
        new_key, new_item = _clean(key), _clean(item)
        changed = changed or new_key is not key or new_item is not item
        items.append((new_key, new_item))
    return dict(items) if changed else value


def _clean_dataclass(value: Any) -> Any:
    # The hot loop at 1 000 containers (12 000 fields a collection): plain strings and values that hold no
    # text are judged here, without a call per field; the type of each value decides, never the annotation.
    changes = {}
    kind: type = type(value)
    fields = getattr(value, "__dict__", None)  # a subscript is cheaper than a getattr (slotted: no __dict__)
    for name in _field_names(kind):
        old = fields[name] if fields is not None else getattr(value, name)
        held = type(old)
        if held in _NO_TEXT:
            continue
        if held is str:
            if _UNSAFE.search(old) is None:
                continue
            new = _UNSAFE.sub(_escape, old)
        else:
            new = _clean(old)
            if new is old:
                continue
        changes[name] = new
    return dataclasses.replace(value, **changes) if changes else value


_NO_TEXT = frozenset({type(None), bool, int, float, datetime, date, timedelta})
"""Exact types that never hold text (subclasses go through their handler)."""


def _handler_for(kind: type) -> Callable[[Any], Any]:
    """How values of exactly this type are cleaned (by what they are, never by what a field is annotated as:
    a number field that arrived holding text is cleaned as text)."""
    if issubclass(kind, str):
        return printable
    if kind is type(None) or issubclass(kind, int | float | complex | datetime | date | timedelta):
        return _unchanged  # numbers, flags (bool is an int), times: nothing a terminal would obey
    if issubclass(kind, tuple):
        return _clean_tuple
    if issubclass(kind, Mapping):
        return _clean_mapping
    if dataclasses.is_dataclass(kind):
        return _clean_dataclass
    return _unchanged  # enums of numbers and anything else that is not text


_HANDLERS: dict[type, Callable[[Any], Any]] = {}
"""The handler of each type met so far."""


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls) if field.init)
