"""The `history` command's output: the cycle table, CSV, JSON, and what `history import` did.

Text from imported files (sources, methods, notes, actions, reasons) is untrusted: the table, the CSV
and the import report pass every string through `printable`; the JSON keeps it exact, escaped by JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from pixel_tui import format as fmt
from pixel_tui.history.importer import AUDIT_LOG, ImportReport, ranges
from pixel_tui.history.model import FIELDS, Cycle, recovery_line, to_json
from pixel_tui.model import Level
from pixel_tui.safe import printable
from pixel_tui.schema import dumps

ACTIONS_WIDTH = 48
"""The widest the method/actions column gets, in terminal cells; longer text ends in an ellipsis."""

_HEADERS = ("CYCLE", "TIME (UTC)", "SWAP", "MEM", "DISK", "LOAD", "LEVEL", "METHOD/ACTIONS", "DURATION", "SOURCE")
_RIGHT = {0, 2, 3, 4, 5, 8}


def render_json(cycles: Sequence[Cycle]) -> str:
    """A JSON list of cycle objects with exactly the fields of `FIELDS`, in time order."""
    return dumps([to_json(cycle) for cycle in cycles])


def render_csv(cycles: Sequence[Cycle]) -> str:
    """CSV with a header of the JSON field names; empty cells for null, actions as a JSON list."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for cycle in cycles:
        document = to_json(cycle)
        row = []
        for name in FIELDS:
            value = document[name]
            if value is None:
                row.append("")
            elif name == "actions":
                row.append(printable(json.dumps(value, ensure_ascii=False)))
            elif isinstance(value, str):
                row.append(printable(value))
            else:
                row.append(str(value))
        writer.writerow(row)
    return buffer.getvalue().rstrip("\n")


def render_table(cycles: Sequence[Cycle], *, metric: str = "swap") -> str:
    """The cycle table for a person, oldest first, then the recovery line of `metric`."""
    if not cycles:
        return "no cycles recorded yet"
    rows = [_row(cycle) for cycle in cycles]
    widths = [max(fmt.cells(cell) for cell in column) for column in zip(_HEADERS, *rows, strict=True)]
    lines = []
    for row in (_HEADERS, *rows):
        cells = []
        for index, (cell, width) in enumerate(zip(row, widths, strict=True)):
            pad = " " * (width - fmt.cells(cell))
            cells.append(pad + cell if index in _RIGHT else cell + pad)
        lines.append("  ".join(cells).rstrip())
    recovery = recovery_line(list(cycles), metric)
    if recovery is not None:
        lines += ["", printable(recovery)]
    return "\n".join(lines)


def _row(cycle: Cycle) -> tuple[str, ...]:
    return (
        "?" if cycle.cycle is None else str(cycle.cycle),
        cycle.started_at.strftime("%Y-%m-%d %H:%M"),
        fmt.percent(cycle.swap_percent),
        fmt.percent(cycle.memory_percent),
        fmt.percent(cycle.disk_percent),
        "-" if cycle.load_per_core is None else f"{cycle.load_per_core:.2f}",
        _level(cycle.level),
        _clip(printable(method_and_actions(cycle)), ACTIONS_WIDTH),
        fmt.duration(cycle.duration_s),
        printable(cycle.source),
    )


def method_and_actions(cycle: Cycle) -> str:
    """`Crisis: tool docker_stats ok; tool docker_restart ok`, or `-` when the cycle has neither."""
    actions = "; ".join(cycle.actions)
    if cycle.method and actions:
        return f"{cycle.method}: {actions}"
    return cycle.method or actions or "-"


def _level(level: Level | None) -> str:
    if level is None:
        return "-"
    return level.value.upper() if level.rank >= Level.WARNING.rank else level.value


def _clip(text: str, width: int) -> str:
    if fmt.cells(text) <= width:
        return text
    kept = ""
    for char in text:
        if fmt.cells(kept + char) > width - 1:
            break
        kept += char
    return kept + "…"


def render_import(report: ImportReport) -> str:
    """What an import did: cycles added, how they were numbered and counted, cycles already present, lines skipped."""
    source = printable(report.source)
    added = [cycle.cycle for cycle in report.added if cycle.cycle is not None]
    present = [cycle.cycle for cycle in report.present if cycle.cycle is not None]
    lines = [f"{source} ({report.form}): {_cycles(len(added))} imported" + (f" ({ranges(added)})" if added else "")]
    lines += _how_counted(report)
    lines.append(f"already present: {_cycles(len(present))}" + (f" ({ranges(present)})" if present else ""))
    count = len(report.skipped)
    lines.append(f"skipped: {count} line{'' if count == 1 else 's'}" + (":" if count else ""))
    lines += [f"  line {skipped.line}: {printable(skipped.reason)}" for skipped in report.skipped]
    return "\n".join(lines)


def _how_counted(report: ImportReport) -> list[str]:
    """The numbering and the core count an import used, or why the options given were not used."""
    first, cores = report.first_cycle, report.cores
    if report.form != AUDIT_LOG:
        plain = report.form == "plain"  # else an empty file: nothing to say
        unused = [f"--first-cycle {first}: not used, plain records carry their own numbers"] if first and plain else []
        if cores is not None and plain:
            unused.append(f"--cores {cores.count}: not used, plain records give the load per core (or their cores)")
        return unused
    lines = []
    if report.held and (report.added or first):
        lines.append(
            f"numbering: after {report.held}, the last cycle this source holds"
            + (f" (--first-cycle {first} applies to a source's first import only)" if first else "")
        )
    elif report.held == 0:
        lines.append(f"numbering: from {first or 1}, the first import of this source" + ("" if first else " (default)"))
    if cores is None or not (report.added or cores.given):
        return lines
    if cores.count is None:
        lines.append("load per core: unknown, this host's CPU count cannot be read (give --cores N)")
    else:
        origin = "--cores" if cores.given else "this host's CPU count; give --cores N for a log from another host"
        lines.append(f"load per core: load1 / {cores.count} core{'' if cores.count == 1 else 's'} ({origin})")
    return lines


def _cycles(count: int) -> str:
    return f"{count} cycle{'' if count == 1 else 's'}"
