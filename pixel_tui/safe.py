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
- `Boundary()` is `displayable` for a stream of snapshots (the console's): a frozen dataclass met in the
  previous call, the very object, is given what it was cleaned to then without being walked again.

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
    return _kept_unless_changed(tuple(map(_clean, value)), value)


def _kept_unless_changed(cleaned: tuple[Any, ...], value: tuple[Any, ...]) -> tuple[Any, ...]:
    """`value` itself when every item of `cleaned` is the very item it came from, else `cleaned`."""
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


class Boundary:
    """`displayable` for a stream of dataclasses that mostly repeat, as the console's snapshots do: an item of one
    of its tuples (a container, a worker, an event) that is a frozen dataclass met in the previous call, the very
    object, is given what it was cleaned to then without being walked again.

    The collector gives an idle container the same Container from one collection to the next: at 1 000 idle
    containers, walking each one's fields again every second was the event loop's largest cost. Only frozen
    dataclasses are kept (their mappings are never changed in place: a snapshot is immutable), by identity,
    and only from one call to the next.
    """

    def __init__(self) -> None:
        self._previous: dict[int, tuple[Any, Any]] = {}
        self._current: dict[int, tuple[Any, Any]] = {}

    def __call__(self, value: T) -> T:
        """`value` with `printable` applied to every string in it; the same object when nothing had to change."""
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            return displayable(value)
        kind: type = type(value)
        changes = {}
        try:
            for name in _field_names(kind):
                old = getattr(value, name)
                new = self._items(old) if type(old) is tuple else _clean(old)
                if new is not old:
                    changes[name] = new
        finally:
            self._previous, self._current = self._current, {}
        return dataclasses.replace(value, **changes) if changes else value  # type: ignore[type-var]

    def _items(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        return _kept_unless_changed(tuple(map(self._item, values)), values)

    def _item(self, value: Any) -> Any:
        kind: type = type(value)
        if not _frozen(kind):
            return _clean(value)
        key = id(value)
        kept = self._previous.get(key)
        if kept is None or kept[0] is not value:
            kept = (value, _clean(value))
        self._current[key] = kept
        return kept[1]


@cache
def _frozen(kind: type) -> bool:
    """True for a frozen dataclass (its instances never change)."""
    params = getattr(kind, "__dataclass_params__", None)
    return params is not None and bool(params.frozen)
