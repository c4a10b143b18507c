"""Where a ledger's task records lie in its text, and how that text is laid out.

A writer that changes one task re-serializes that record alone and splices it back, so every other byte stays
as the orchestrator wrote it; a record it writes whole is dumped in the layout the file already has (indent,
separators, escaping, line ending). ledger/format.py holds the field names, statuses and time styles.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LocatedDocument:
    """A document parsed from its text, with where each task record lies in that text."""

    document: Any
    tasks: list[Any]
    spans: list[tuple[int, int]]
    """Character offsets (start, end) of each task record, in ledger order."""
    depth: int
    """How deep the records are nested: 1 in a bare list, 2 under `"tasks"`."""


_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's own, as json.loads skips it


def locate_tasks(text: str) -> LocatedDocument | None:
    """Parse the document as json.loads does, noting where each task record starts and ends.

    None when the text is not a list of tasks or an object holding one (or not JSON at all): the
    caller then asks `decode_document` for the reason. Knowing the spans lets a writer re-serialize
    only the records it changed and leave every other byte as the orchestrator wrote it.
    """
    tasks: list[Any] | None
    try:
        start = _WHITESPACE.match(text).end()  # type: ignore[union-attr]
        if text[start] == "[":
            tasks, spans, end = _items(text, start)
            document: Any = tasks
            depth = 1
        elif text[start] == "{":
            document, tasks, spans, end = _object_with_tasks(text, start)
            depth = 2
        else:
            return None
    except (ValueError, IndexError, RecursionError):
        return None
    if tasks is None or _WHITESPACE.match(text, end).end() != len(text):  # type: ignore[union-attr]
        return None
    return LocatedDocument(document, tasks, spans, depth)


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]


def _items(text: str, index: int) -> tuple[list[Any], list[tuple[int, int]], int]:
    """The elements of the array opening at `index`, their spans, and the offset after it."""
    items: list[Any] = []
    spans: list[tuple[int, int]] = []
    index = _skip(text, index + 1)
    if text[index] == "]":
        return items, spans, index + 1
    while True:
        item, end = _DECODER.raw_decode(text, index)
        items.append(item)
        spans.append((index, end))
        index = _skip(text, end)
        if text[index] == "]":
            return items, spans, index + 1
        if text[index] != ",":
            raise ValueError("expected , or ]")
        index = _skip(text, index + 1)


def _object_with_tasks(text: str, index: int) -> tuple[dict[str, Any], list[Any] | None, list[tuple[int, int]], int]:
    """The object opening at `index` and, when its `"tasks"` is an array, its elements and their spans."""
    document: dict[str, Any] = {}
    tasks: list[Any] | None = None
    spans: list[tuple[int, int]] = []
    index = _skip(text, index + 1)
    if text[index] == "}":
        return document, None, spans, index + 1
    while True:
        if text[index] != '"':
            raise ValueError("expected a key")
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index] != ":":
            raise ValueError("expected :")
        index = _skip(text, index + 1)
        if key == "tasks" and text[index] == "[":
            value, spans, index = _items(text, index)
            tasks = value
        else:
            value, index = _DECODER.raw_decode(text, index)
            if key == "tasks":
                tasks, spans = None, []
        document[key] = value  # a repeated key: the last value, at the first key's place, as json.loads does
        index = _skip(text, index)
        if text[index] == "}":
            return document, tasks, spans, index + 1
        if text[index] != ",":
            raise ValueError("expected , or }")
        index = _skip(text, index + 1)


@dataclass(frozen=True)
class Layout:
    """How a document's text is laid out: indent, separators, escaping, line ending and final newline."""

    indent: int | str | None = 2
    item_separator: str = ","
    key_separator: str = ": "
    ensure_ascii: bool = False
    newline: str = "\n"
    final_newline: bool = True

    def dump(self, document: Any) -> str:
        """The document as text in this layout."""
        text = json.dumps(
            document,
            indent=self.indent,
            separators=(self.item_separator, self.key_separator),
            ensure_ascii=self.ensure_ascii,
        )
        if self.newline != "\n":
            text = text.replace("\n", self.newline)  # JSON strings escape their newlines: only layout ones remain
        return text + (self.newline if self.final_newline else "")

    def dump_record(self, record: Any, depth: int) -> str:
        """One value as it is written `depth` levels deep in a document of this layout (its first line unindented)."""
        separators = (self.item_separator, self.key_separator)
        text = json.dumps(record, indent=self.indent, separators=separators, ensure_ascii=self.ensure_ascii)
        if self.indent is None:
            return text
        unit = " " * self.indent if isinstance(self.indent, int) else self.indent
        return text.replace("\n", self.newline + unit * depth)


def splice(text: str, spans: list[tuple[int, int]], replacements: dict[int, str]) -> str:
    """`text` with the spans at the given positions replaced; every other character kept."""
    parts: list[str] = []
    done = 0
    for position in sorted(replacements):
        start, end = spans[position]
        parts += [text[done:start], replacements[position]]
        done = end
    parts.append(text[done:])
    return "".join(parts)


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|([,:])([ \t]*)')
_INDENT = re.compile(r"\n([ \t]+)\S")
_ESCAPED_NON_ASCII = re.compile(r"\\u(?!00[0-7])[0-9a-fA-F]{4}")


def layout_of(text: str) -> Layout:
    """The layout of a document's text, detected: indent (spaces, a tab, none), separators, escaping, newlines."""
    newline = "\r\n" if "\r\n" in text else "\n"
    body = text.rstrip()
    indent: int | str | None = None
    if "\n" in body:
        match = _INDENT.search(body)
        if match is None:
            indent = 0
        else:
            whitespace = match.group(1)
            indent = len(whitespace) if set(whitespace) == {" "} else whitespace
    item_separator = None
    key_separator = None
    for token in _TOKENS.finditer(body):
        mark, space = token.groups()
        if mark == "," and item_separator is None:
            item_separator = "," + space if indent is None else ","
        elif mark == ":" and key_separator is None:
            key_separator = ":" + space
        if item_separator is not None and key_separator is not None:
            break
    escaped = text.isascii() and _ESCAPED_NON_ASCII.search(text) is not None
    return Layout(
        indent=indent,
        item_separator=item_separator if item_separator is not None else ("," if indent is not None else ", "),
        key_separator=key_separator if key_separator is not None else ": ",
        ensure_ascii=escaped,
        newline=newline,
        final_newline=text.endswith("\n"),
    )
