"""`rules.toml` beside the config: the rules pixel-tui writes (proposals, state changes) and the rejected proposals.

The operator's config is never rewritten: what `pixel-tui rules` and the rules screen change goes here,
written whole to a temporary file in the same directory (mode 0600), fsynced and renamed over the old one,
so a reader sees the old file or the new, never half of one. As root, the path must pass pixel_tui.trust's
checks before it is read or written, and is never a symlink (pixel-tui never makes one).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pixel_tui import trust
from pixel_tui.rules.display import budget_text
from pixel_tui.rules.model import Rule, RuleError
from pixel_tui.rules.sources import RULES_FILE, read_rules_file
from pixel_tui.rules.toml_writer import document
from pixel_tui.values import parse_time_or_none

HEADER = (
    "Written by pixel-tui (`pixel-tui rules`, the console's rules screen); edits by hand are read, and\n"
    "rewritten in this form at the next change. The operator's own rules belong in the config file."
)


def path_beside(config: Path) -> Path:
    """Where `rules.toml` lives: in the config file's directory (`rules.sources.rules_path`)."""
    return config.parent / RULES_FILE


@dataclass(frozen=True)
class Rejected:
    """A rejected proposal: not proposed again until `until`."""

    id: str
    until: datetime


@dataclass
class RulesFile:
    """What `rules.toml` holds, read (or empty when it does not exist)."""

    path: Path
    rules: list[Rule] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)


def rule_table(rule: Rule) -> dict[str, Any]:
    """The `[[autoheal.rules]]` table of a rule, as docs/rules.md writes it."""
    table: dict[str, Any] = {"id": rule.id, "when": rule.when, "do": rule.do, "grace_s": rule.grace_s,
                             "budget": budget_text(rule.budget)}  # fmt: skip
    if rule.scope.labels or rule.scope.name:
        scope: dict[str, Any] = {}
        if rule.scope.labels:
            scope["labels"] = dict(rule.scope.labels)
        if rule.scope.name:
            scope["name"] = rule.scope.name
        table["scope"] = scope
    table["state"] = rule.state.value
    table["proposed_at"] = rule.proposed_at
    table["evidence"] = rule.evidence
    return table


def read(path: Path) -> RulesFile:
    """Read `rules.toml` as autoheal does (`rules.sources.read_rules_file`); what cannot be used is an error in
    `errors`, never an exception (the other rules run). As root, the file must pass pixel_tui.trust's checks and
    not be a symlink."""
    result = RulesFile(path)
    verify = None
    if trust.enforcing():
        try:
            trust.check(path, own=True)
        except OSError as error:
            result.errors.append(RuleError(str(path), None, None, f"not read: refused: {error}"))
            return result
        verify = lambda info: trust.check_read(path, info)  # noqa: E731
    rules, errors, rejected = read_rules_file(path, verify=verify)
    result.rules, result.errors = rules, errors
    for rule_id, until in rejected.items():
        moment = parse_time_or_none(until)
        if moment is None:
            result.errors.append(RuleError(str(path), None, rule_id, f"[[rejected]]: until {until!r} is not a time"))
            continue
        result.rejected.append(Rejected(rule_id, moment))
    return result


def write(path: Path, rules: list[Rule], rejected: list[Rejected], *, config: Path | None = None) -> None:
    """Write `rules.toml` whole and atomically (temporary file, fsync, rename, mode 0600).

    Raises OSError (trust.Untrusted as root for a path another user could have set) when it cannot; never
    writes over `config`, the operator's file."""
    if config is not None and os.path.abspath(config) == os.path.abspath(path):
        raise OSError(errno.EINVAL, f"{path} is the config file, which pixel-tui never rewrites")
    trust.make_private_dirs(path.parent)
    if trust.enforcing():
        trust.check(path, own=True)
    if path.is_symlink():
        raise trust.Untrusted(path, "is a symbolic link, and pixel-tui never makes one for its own files")
    text = document(
        [
            ("autoheal.rules", [rule_table(rule) for rule in rules]),
            ("rejected", [{"id": entry.id, "until": _iso(entry.until)} for entry in rejected]),
        ],
        HEADER,
    )
    descriptor, temporary = tempfile.mkstemp(prefix=".rules-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), stat.S_IRUSR | stat.S_IWUSR)
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)  # the rename itself durable
    finally:
        os.close(directory)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
