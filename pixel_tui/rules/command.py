"""`pixel-tui rules`: list, show and test the rules, mine proposals, and move a rule on the ladder, headless.

Exit codes as `act`: 0 done, 1 refused (an unknown id, read-only, a move the ladder does not have; the
reason on stderr), 3 usage, or a file that cannot be read or written (`rules.toml`, the history).
`list`, `show`, `test` and `propose` take `--json`. `propose` mines the audit log and the history and
writes the new proposals into `rules.toml` (state `proposed`); `list` only reads.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pixel_tui.model import utcnow
from pixel_tui.paths import Paths
from pixel_tui.rules import rules_file
from pixel_tui.rules.book import FileRulesBook, Refused
from pixel_tui.rules.display import budget_text
from pixel_tui.rules.grammar import parse_rules
from pixel_tui.rules.model import Rule, RuleError, RuleStatus
from pixel_tui.rules.sources import builtin_rules, rules_path
from pixel_tui.safe import printable, printable_lines
from pixel_tui.schema import dumps
from pixel_tui.settings import Settings

EXIT_DONE, EXIT_REFUSED, EXIT_UNKNOWN = 0, 1, 3
COMMANDS = ("list", "show", "test", "propose", "promote", "shadow", "reject", "disable")
"""The `rules` subcommands; the first four read (`propose` writes proposals only), the last four change a state."""
NEEDS_ID = ("show", "test", "promote", "shadow", "reject", "disable")
LISTS = ("list", "show", "test", "propose")
"""The subcommands that take `--json`."""


def base_rules(settings: Settings) -> tuple[list[Rule], list[RuleError]]:
    """The built-in rules and the config's, later winning by id, as autoheal reads them (`rules.sources`)."""
    rules, errors = builtin_rules(settings)
    autoheal = settings.autoheal
    mine, bad = parse_rules(list(autoheal.rules), source=settings.source or "config", lines=autoheal.rule_lines or None)
    by_id = {rule.id: rule for rule in rules}
    by_id.update((rule.id, rule) for rule in mine)
    return list(by_id.values()), errors + bad


def book_for(paths: Paths, settings: Settings, config: Path, clock: Callable[[], datetime] = utcnow) -> FileRulesBook:
    """The book of this host: `rules.toml` beside `config`, the audit log and the base rules."""
    from pixel_tui.remediate.audit import AuditLog

    base, errors = base_rules(settings)
    log = AuditLog(paths.audit_log)
    path = rules_path(settings, config) or rules_file.path_beside(config)
    return FileRulesBook(path, base=base, base_errors=errors, disabled=settings.autoheal.disable,
                     audit=lambda: log.read()[0], read_only=settings.read_only, settings=settings.rules,
                     config=config, clock=clock)  # fmt: skip


def stored_cycles(paths: Paths, settings: Settings) -> list[Any]:
    """The stored cycles, oldest first; none when there is no store yet (listing never creates one)."""
    from pixel_tui.history.store import HistoryStore

    try:
        if not paths.history_db.exists():
            return []
    except OSError:
        pass
    store = HistoryStore.for_settings(paths.history_db, settings.history, heal=False)
    try:
        return store.recent()
    finally:
        store.close()


def status_json(status: RuleStatus) -> dict[str, Any]:
    """A rule and its counters as `rules list --json` and `rules show --json` print them."""
    rule = status.rule
    return {
        "id": rule.id, "state": rule.state.value, "when": rule.when, "do": rule.do, "grace_s": rule.grace_s,
        "budget": budget_text(rule.budget), "scope": {"labels": dict(rule.scope.labels),
        "name": rule.scope.name}, "source": rule.source, "line": rule.line, "proposed_at": rule.proposed_at,
        "evidence": rule.evidence, "hits": status.hits, "actions": status.actions, "recoveries": status.recoveries,
        "not_recovered": status.not_recovered, "budget_left": status.budget_left, "last": status.last,
        "notes": list(status.notes),
    }  # fmt: skip


def _table(statuses: list[RuleStatus], width: int | None = None) -> str:
    """The rules one a line; within `width` columns (a terminal's), LAST and then DO are left out (`show` has them)."""
    if not statuses:
        return "no rules"
    head = ("ID", "STATE", "DO", "HITS", "ACTED", "RECOVERED", "NOT", "LEFT", "LAST")
    rows = [head] + [
        (s.rule.id, s.rule.state.value, s.rule.do, str(s.hits), str(s.actions), str(s.recoveries),
         str(s.not_recovered), "-" if s.budget_left is None else str(s.budget_left), s.last or "-")
        for s in statuses
    ]  # fmt: skip
    cells = [[printable(cell) for cell in row] for row in rows]
    for dropped in ("LAST", "DO"):
        widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]
        if width is None or sum(widths) + 2 * (len(widths) - 1) <= width:
            break
        column = cells[0].index(dropped)
        cells = [row[:column] + row[column + 1 :] for row in cells]
    widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]
    return "\n".join(
        "  ".join(cell.ljust(size) for cell, size in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def _columns(stream: TextIO) -> int | None:
    """The terminal's width when `stream` is one; None for a pipe or a file (every column is printed)."""
    try:
        return shutil.get_terminal_size().columns if stream.isatty() else None
    except (AttributeError, ValueError, OSError):
        return None


def _show(status: RuleStatus) -> str:
    rule = status.rule
    rule = replace(rule, when=printable(rule.when), evidence=printable(rule.evidence or "") or None)
    where = rule.source if rule.line is None else f"{rule.source}:{rule.line}"
    lines = [f"rule {rule.id} ({rule.state.value}, from {where})", f"  when    {rule.when}", f"  do      {rule.do}",
             f"  grace   {rule.grace_s:g} s", f"  budget  {budget_text(rule.budget)}"]  # fmt: skip
    if rule.scope.labels or rule.scope.name:
        labels = ", ".join(f"{key}={value}" for key, value in rule.scope.labels)
        lines.append(f"  scope   {' '.join(part for part in (labels, rule.scope.name or '') if part)}")
    if rule.evidence:
        lines.append(f"  proposed {rule.proposed_at or '?'}: {rule.evidence}")
    left = "-" if status.budget_left is None else str(status.budget_left)
    lines.append(f"  hits {status.hits}, acted {status.actions}, recovered {status.recoveries}, "
                 f"not recovered {status.not_recovered}, budget left {left}")  # fmt: skip
    lines.append(f"  last    {status.last or '-'}")
    lines += [f"  note    {note}" for note in status.notes]
    return "\n".join(lines)


def run_rules(paths: Paths, settings: Settings, config: Path, command: str, rule_id: str | None, *, as_json: bool,
              stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr, clock: Callable[[], datetime] = utcnow,
              ) -> int:  # fmt: skip
    """Run `pixel-tui rules COMMAND [ID]`; returns the exit code. `clock` is the tests' seam."""
    from pixel_tui.history.store import HistoryUnavailable
    from pixel_tui.remediate.audit import AuditLog
    from pixel_tui.rules.replay import as_json as replay_json
    from pixel_tui.rules.replay import render, replay

    book = book_for(paths, settings, config, clock)
    try:
        if command == "list":
            for error in book.errors():
                stderr.write(f"pixel-tui rules: {printable(str(error))}\n")
            statuses = book.statuses()
            text = dumps([status_json(s) for s in statuses]) if as_json else _table(statuses, _columns(stdout))
            stdout.write(text + "\n")
            return EXIT_DONE
        if command == "show":
            assert rule_id is not None
            book.rule(rule_id)
            status = next(s for s in book.statuses() if s.rule.id == rule_id)
            stdout.write((dumps(status_json(status)) if as_json else printable_lines(_show(status))) + "\n")
            return EXIT_DONE
        if command == "test":
            assert rule_id is not None
            rule = book.rule(rule_id)
            result = replay(
                rule, stored_cycles(paths, settings), AuditLog(paths.audit_log).read()[0], settings.thresholds
            )
            stdout.write((dumps(replay_json(result)) if as_json else printable_lines(render(result))) + "\n")
            return EXIT_DONE
        if command == "propose":
            from pixel_tui.notify.observer import delivery_bound, observe

            notices = observe(settings, headless=True)  # each new proposal is a notice, sent before it exits
            try:
                found = book.propose(stored_cycles(paths, settings), settings.thresholds)
            finally:
                notices.close(delivery_bound(settings.notify))
            if as_json:
                stdout.write(dumps([status_json(RuleStatus(rule)) for rule in found]) + "\n")
            elif not found:
                stdout.write(f"no new proposal (from the manual actions of the last {settings.rules.window_days:g} "
                             f"days, at least {settings.rules.min_support} of one pattern)\n")  # fmt: skip
            for rule in [] if as_json else found:
                stdout.write(
                    f"proposed {printable(rule.id)}: {rule.do}\n  when  {printable(rule.when)}\n"
                    f"  why   {printable(rule.evidence or '')}\n"
                )
            return EXIT_DONE
        assert rule_id is not None
        move = {"promote": book.promote, "shadow": book.shadow, "reject": book.reject, "disable": book.disable}
        stdout.write(printable(move[command](rule_id)) + "\n")
        return EXIT_DONE
    except Refused as refusal:
        stderr.write(f"pixel-tui rules: refused: {printable(str(refusal))}\n")
        return EXIT_REFUSED
    except (OSError, HistoryUnavailable) as error:
        stderr.write(f"pixel-tui rules: {printable(str(error))}\n")
        return EXIT_UNKNOWN
