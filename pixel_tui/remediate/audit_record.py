"""One line of the audit log as a dataclass: its fields, documented once, and its JSON form (README, "The audit log").

The executor builds a record per line (an intent, an outcome, or a one-line refusal) and `AuditLog.append`
writes `as_json()`; readers of the log (`AuditLog.records`, the proposals) get records back with `from_json`.
The JSON keys and their order are the ones pixel-tui has always written, so old logs read as they did: a key
an older line lacks reads as its default, and a key this version does not know is kept in `extra` and
written back after the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

INTENT, OUTCOME = "intent", "outcome"
"""The `phase` of the two lines of an attempt that got as far as acting."""


@dataclass(frozen=True)
class Asked:
    """Who asked for an attempt, why, and under which rule: what each of its lines carries."""

    actor: str
    """`user@host` of the person, or `autoheal`."""
    reason: str | None = None
    """Why it was asked for; the step's own `why` when None."""
    rule: str | None = None
    """The autoheal rule that made the attempt; None for a person's action."""


@dataclass(frozen=True)
class AuditRecord:
    """One audit line: an attempt's intent, its outcome, or a refusal before acting (one line, no `id`)."""

    time: str
    """When the line was written, ISO-8601 UTC (`2026-12-06T03:00:00.123456Z`)."""
    actor: str
    """`user@host` of the person, or `autoheal`."""
    action: str
    """The catalogue id asked for (`worker.kill`, `workers.reap`, ...)."""
    step: str
    """The operation of this line (`kill-worker`, `restart`, `cycle-swap`, ...)."""
    target: dict[str, str | None] | None
    """`{"kind", "id", "name"}` of a container, task or lock; None for host-wide steps."""
    reason: str | None
    """Why it was asked for, in words."""
    snapshot_at: str | None
    """When the snapshot the decision was made on was taken, ISO-8601 UTC."""
    context: dict[str, Any]
    """`{"host": levels and figures of that snapshot, "target": the target's state that made it apply}`."""
    rule: str | None = None
    """The autoheal rule that made the attempt; omitted from the JSON when None."""
    outcome: str | None = None
    """`ok`, `refused`, `failed` or `interrupted`; None on an intent line."""
    error: str | None = None
    """Why it was refused, failed or interrupted; None when ok."""
    note: str | None = None
    """What else an ok outcome should say (the container was gone already...)."""
    duration_s: float | None = None
    """Seconds the attempt took (outcome and refusal lines)."""
    id: str | None = None
    """The attempt's id, shared by its intent and outcome lines; None on a one-line refusal."""
    phase: str | None = None
    """`intent` or `outcome` with an `id`; None on a one-line refusal."""
    parts: tuple[str, ...] | None = None
    """Intent: the parts the step is about to do, in order."""
    done: tuple[str, ...] | None = None
    """Interrupted: the parts confirmed."""
    under_way: str | None = None
    """Interrupted: the part asked for and not confirmed (with `done` and `not_done` only)."""
    not_done: tuple[str, ...] | None = None
    """Interrupted: the parts never begun."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Keys of the line this version does not know (a newer pixel-tui's), kept as they were."""

    @property
    def is_intent(self) -> bool:
        """True on the intent line of an attempt (written before anything changes)."""
        return self.phase == INTENT

    def as_json(self) -> dict[str, Any]:
        """The line as written: the keys in pixel-tui's order, those that do not apply to this line left out."""
        line: dict[str, Any] = {"time": self.time, "actor": self.actor}
        if self.rule is not None:
            line["rule"] = self.rule
        line |= {"action": self.action, "step": self.step, "target": self.target, "reason": self.reason,
                 "snapshot_at": self.snapshot_at, "context": self.context}  # fmt: skip
        if self.phase == INTENT:
            line |= {"id": self.id, "phase": self.phase, "parts": list(self.parts or ())}
            return line | dict(self.extra)
        line |= {"outcome": self.outcome, "error": self.error, "note": self.note, "duration_s": self.duration_s}
        if self.id is not None:
            line |= {"id": self.id, "phase": self.phase}
        if self.done is not None or self.not_done is not None:
            line |= {"done": list(self.done or ()), "under_way": self.under_way, "not_done": list(self.not_done or ())}
        return line | dict(self.extra)

    @classmethod
    def from_json(cls, line: Mapping[str, Any]) -> AuditRecord:
        """A record from a line as read (any pixel-tui's; values of the wrong type read as absent)."""
        known = {name for name in cls.__dataclass_fields__ if name != "extra"}
        target = line.get("target")
        context = line.get("context")
        return cls(
            time=_text(line.get("time")) or "",
            actor=_text(line.get("actor")) or "?",
            action=_text(line.get("action")) or "?",
            step=_text(line.get("step")) or "?",
            target=target if isinstance(target, dict) else None,
            reason=_text(line.get("reason")),
            snapshot_at=_text(line.get("snapshot_at")),
            context=context if isinstance(context, dict) else {},
            rule=_text(line.get("rule")),
            outcome=_text(line.get("outcome")),
            error=_text(line.get("error")),
            note=_text(line.get("note")),
            duration_s=_number(line.get("duration_s")),
            id=_text(line.get("id")),
            phase=_text(line.get("phase")),
            parts=_texts(line.get("parts")),
            done=_texts(line.get("done")),
            under_way=_text(line.get("under_way")),
            not_done=_texts(line.get("not_done")),
            extra={key: value for key, value in line.items() if key not in known},
        )


def stamp(moment: datetime | None) -> str | None:
    """A time as the audit log writes it: ISO-8601 with `Z` for UTC."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _texts(value: object) -> tuple[str, ...] | None:
    return tuple(str(item) for item in value) if isinstance(value, list) else None
