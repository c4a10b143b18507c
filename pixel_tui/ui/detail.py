"""The detail view of a container or worker (labels, ports, mounts, command, masked env)."""

from __future__ import annotations

import signal
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from pixel_tui import format as fmt
from pixel_tui.model import ContainerDetail, HealthCheck, Worker, utcnow
from pixel_tui.ui.workers import flags

Section = tuple[str, list[tuple[str, str]]]
"""A titled list of (field, value)."""

CLOSE = Binding("escape,q", "dismiss", "close", tooltip="Close this view", id="modal.close")


def worker_section(worker: Worker, now: datetime | None = None) -> Section:
    """What the worker table knows of a worker or ghost task."""
    remaining = worker.remaining_s
    if remaining is None:
        left = "-"
    elif remaining < 0:
        left = f"overdue by {fmt.duration(-remaining)}"
    else:
        left = fmt.duration(remaining)
    return (
        "Worker",
        [
            ("task", worker.task_id or "-"),
            ("ledger status", worker.task_status or "-"),
            ("container", worker.container or "(none: the ledger says running, no container runs it)"),
            ("state", worker.state),
            ("started", moment(worker.started_at, now or utcnow())),
            ("age", fmt.duration(worker.age_s)),
            ("timeout", fmt.duration(worker.timeout_s)),
            ("left", left),
            ("flags", flags(worker) or "-"),
        ],
    )


HEALTH_LINES = 40
"""Lines of a health check's output shown (docker keeps at most 4 KiB of it)."""


def moment(at: datetime | None, now: datetime) -> str:
    """A time in the local zone and how long ago: '12:03:04, 5m00s ago' (a date before it when not today)."""
    if at is None:
        return "-"
    local = at.astimezone()
    shown = (
        local.strftime("%H:%M:%S") if local.date() == now.astimezone().date() else local.strftime("%Y-%m-%d %H:%M:%S")
    )
    seconds = (now - at).total_seconds()
    return f"{shown}, {fmt.duration(seconds)} ago" if seconds >= 0 else f"{shown}, in {fmt.duration(-seconds)}"


def exit_text(code: int | None) -> str:
    """'137: killed by SIGKILL' (a shell's 128 + signal), '0', '-' when it never exited."""
    if code is None:
        return "-"
    if 128 < code < 160:
        try:
            return f"{code}: killed by {signal.Signals(code - 128).name}"
        except ValueError:
            pass
    return str(code)


def restart_text(detail: ContainerDetail) -> str:
    """'on-failure, at most 5 retries', 'unless-stopped', '-'."""
    policy = detail.restart_policy or "-"
    if detail.restart_retries:
        policy += f", at most {detail.restart_retries} retries"
    return policy


def container_sections(detail: ContainerDetail, now: datetime | None = None) -> list[Section]:
    """A container's inspect result; env values that look secret arrive already masked, and every string
    (the health check's output too) already made printable (`pixel_tui.safe.displayable`)."""
    now = now or utcnow()
    rows = [
        ("name", detail.name),
        ("id", detail.id[:12]),
        ("image", detail.image),
        ("state", detail.state),
        ("created", moment(detail.created, now)),
        ("started", moment(detail.started_at, now) if detail.started_at else "never"),
        ("finished", moment(detail.finished_at, now) if detail.finished_at else "never"),
        ("exit code", exit_text(detail.exit_code)),
        ("OOM killed", "yes: the kernel's OOM killer ended it" if detail.oom_killed else "no"),
        ("restart policy", restart_text(detail)),
        ("restarts", "-" if detail.restart_count is None else str(detail.restart_count)),
        ("command", detail.command or "-"),
    ]
    sections: list[Section] = [("Container", rows)]
    if detail.health is not None:
        sections.append(health_section(detail.health, now))
    return [
        *sections,
        ("Ports", [(port, "") for port in detail.ports]),
        ("Mounts", [(mount, "") for mount in detail.mounts]),
        ("Labels", sorted(detail.labels.items())),
        ("Environment", list(detail.env)),
    ]


def health_section(health: HealthCheck, now: datetime) -> Section:
    """Status, failing streak, and the last check: when it ended, its exit code, what it printed."""
    last = "-"
    if health.ended_at is not None or health.exit_code is not None:
        code = "-" if health.exit_code is None else str(health.exit_code)
        last = f"exit code {code}, ended {moment(health.ended_at, now)}"
    rows = [("status", health.status), ("failing streak", str(health.failing_streak)), ("last check", last)]
    lines = health.output[:HEALTH_LINES]
    if len(health.output) > HEALTH_LINES:
        lines += (f"… {len(health.output) - HEALTH_LINES} more lines",)
    # The container's own text, one row a line; an empty line stays a line (a space: an empty value is a title).
    rows += [("output" if index == 0 else "", line or " ") for index, line in enumerate(lines or ("(none)",))]
    return ("Health", rows)


def render_sections(sections: list[Section]) -> Content:
    """Sections as text: a bold title, then aligned `field  value` lines ('none' when empty)."""
    parts: list[Content] = []
    for title, rows in sections:
        parts.append(Content.styled(title, "bold"))
        if not rows:
            parts.append(Content.styled("  none", "dim"))
        width = min(max((len(key) for key, value in rows if value), default=0), 28)
        for key, value in rows:
            if value:
                parts.append(Content.assemble(("  " + key.ljust(width), "dim"), "  ", value))
            else:
                parts.append(Content("  " + key))
        parts.append(Content(""))
    return Content("\n").join(parts[:-1] if parts else parts)


class DetailScreen(ModalScreen[str | None]):
    """A scrollable detail; `l` closes it asking for the logs (result "logs")."""

    BINDINGS = [
        CLOSE,
        Binding("l", "show_logs", "logs", tooltip="Follow the log of this container", id="detail.logs"),
    ]

    def __init__(self, title: str, sections: list[Section], *, has_logs: bool) -> None:
        super().__init__()
        self.title_text = title
        self.sections = sections
        self.has_logs = has_logs

    def compose(self) -> ComposeResult:
        """A framed, scrollable body."""
        with Vertical(id="dialog") as dialog:
            dialog.border_title = Content(self.title_text)  # a container name: not markup
            dialog.border_subtitle = "l logs · esc close" if self.has_logs else "esc close"
            with VerticalScroll(id="detail-body"):
                yield Static(render_sections(self.sections), id="detail-text")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No logs for a ghost task."""
        return self.has_logs if action == "show_logs" else True

    def action_show_logs(self) -> None:
        """Close, asking the dashboard for the logs."""
        self.dismiss("logs")
