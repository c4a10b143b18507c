"""`pixel-tui history import FILE`: cycles from JSON lines, plain records or the orchestrator's audit log.

A file is in one of two forms, told by its first JSON object (docs/domain.md, "Importing cycles"):
plain cycle records (`records.PlainReader`) or the orchestrator's audit log of events
(`orchestrator_log.AuditReader`). Blank lines and lines starting with `#` are skipped. A line that
cannot be used (not JSON, a field out of range) is reported by its number with the reason, and the
rest is kept. Imported cycles carry the file's name as `source`. Plain records keep their numbers,
and (source, cycle) is their identity. The audit log has no cycle numbers: the store numbers its
cycles by their start (from `--first-cycle` on a source's first import, after its last number on
later ones), and (source, start) is their identity. Either way importing a file again, or again after
it grew or was trimmed, adds only what is new and never renumbers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pixel_tui.files import read_regular
from pixel_tui.history.model import OWN_SOURCE, Cycle
from pixel_tui.history.orchestrator_log import AuditReader
from pixel_tui.history.records import BadLine, PlainReader, Skipped
from pixel_tui.history.store import HistoryStore
from pixel_tui.model import Thresholds

AUDIT_LOG = "audit log"
"""The form of the orchestrator's audit log, as the import report names it."""

IMPORT_MAX_BYTES = 64 * 1024 * 1024
"""The largest file imported (an audit log of a year of cycles is a few megabytes)."""


@dataclass(frozen=True)
class Parsed:
    """What a file holds: its form (`plain`, `audit log` or `empty`), its cycles, the lines skipped."""

    source: str
    form: str
    cycles: tuple[Cycle, ...]
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True)
class Cores:
    """The core count an audit log's `load1` is divided by, and where it came from."""

    count: int | None
    """None when it is not known (this host's CPU count could not be read): the load per core is then unknown."""
    given: bool
    """True when given with `--cores`, False when it is this host's CPU count."""


def cores_for(given: int | None) -> Cores:
    """`given` (from `--cores`), else this host's CPU count."""
    if given is not None:
        if given < 1:
            raise ValueError(f"a core count is 1 or more, not {given}")
        return Cores(given, given=True)
    return Cores(os.cpu_count(), given=False)


@dataclass(frozen=True)
class ImportReport:
    """What `history import` did: cycles added, cycles already in the store, lines skipped, and how it counted."""

    source: str
    form: str
    added: tuple[Cycle, ...]
    present: tuple[Cycle, ...]
    skipped: tuple[Skipped, ...]
    first_cycle: int | None = None
    """`--first-cycle` as given; None when it was not."""
    held: int | None = None
    """Audit log: the highest number its source held before (0 on its first import); None when nothing was read."""
    cores: Cores | None = None
    """Audit log: what `load1` was divided by; plain records: `--cores` if it was given (and not used)."""


def source_name(path: str | Path) -> str:
    """The `source` of cycles imported from `path`: the file's name (never `pixel-tui`, the own cycles' source)."""
    name = Path(path).name or str(path)
    return f"{name}.import" if name == OWN_SOURCE else name


def import_file(
    path: str | Path,
    store: HistoryStore,
    thresholds: Thresholds | None = None,
    *,
    first_cycle: int | None = None,
    cores: int | None = None,
) -> ImportReport:
    """Read `path` and write its cycles to `store`.

    An audit log's cycles are numbered from `first_cycle` (default 1) on the first import of their
    source, after its last number on later ones; its load per core is `load1` / `cores` (default: this
    host's CPU count). Plain records carry their own numbers and loads and use neither.

    Raises FileNotFoundError or `pixel_tui.files.UnreadableFile` when the file cannot be read, and
    `HistoryUnavailable` when the store cannot be written.
    """
    if first_cycle is not None and first_cycle < 1:
        raise ValueError(f"the first cycle number is 1 or more, not {first_cycle}")
    counted = cores_for(cores)
    data, _ = read_regular(path, IMPORT_MAX_BYTES)
    parsed = parse(data, source_name(path), thresholds or Thresholds(), cores=counted.count)
    report = ImportReport(parsed.source, parsed.form, (), (), parsed.skipped, first_cycle=first_cycle)
    if parsed.form == AUDIT_LOG:
        added, present, held = (
            store.add_by_start(parsed.cycles, first=first_cycle or 1) if parsed.cycles else ([], [], None)
        )
        return replace(report, added=tuple(added), present=tuple(present), held=held, cores=counted)
    added, present = store.add_imported(parsed.cycles) if parsed.cycles else ([], [])
    return replace(report, added=tuple(added), present=tuple(present), cores=counted if counted.given else None)


def parse(data: bytes, source: str, thresholds: Thresholds, *, cores: int | None = None) -> Parsed:
    """The cycles of a JSON-lines document, in either form, and the lines that could not be used.

    `cores` divides an audit log's `load1` (None: its load per core is unknown); an audit log's cycles are
    not numbered yet.
    """
    skipped: list[Skipped] = []
    objects = list(_objects(data, skipped))
    if not objects:
        return Parsed(source, "empty", (), tuple(skipped))
    audit = "type" in objects[0][1]
    reader = AuditReader(source, thresholds, cores) if audit else PlainReader(source, thresholds)
    for number, record in objects:
        try:
            reader.feed(number, record)
        except BadLine as error:
            skipped.append(Skipped(number, str(error)))
    skipped.extend(reader.finish())
    return Parsed(source, AUDIT_LOG if audit else "plain", tuple(reader.cycles), tuple(sorted(skipped, key=_line)))


def _line(skipped: Skipped) -> int:
    return skipped.line


def _objects(data: bytes, skipped: list[Skipped]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8").strip().lstrip("\ufeff")
        except UnicodeDecodeError as error:
            skipped.append(Skipped(number, f"not UTF-8 text (byte {error.start + 1})"))
            continue
        if not text or text.startswith("#"):
            continue
        try:
            record = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as error:
            reason = _json_problem(error)
            skipped.append(Skipped(number, f"not JSON ({reason})"))
            continue
        if not isinstance(record, dict):
            skipped.append(Skipped(number, f"not a JSON object (a {type(record).__name__})"))
            continue
        yield number, record


def _json_problem(error: ValueError | RecursionError) -> str:
    if isinstance(error, json.JSONDecodeError):
        joint = " column" if error.msg.endswith(" at") else " at column"
        return f"{error.msg[:1].lower()}{error.msg[1:]}{joint} {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def ranges(numbers: list[int] | tuple[int, ...]) -> str:
    """[13, 14, 15, 18] -> '13-15, 18'."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    start = previous = None
    for number in [*ordered, None]:
        if number is not None and previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = number
    return ", ".join(parts)
