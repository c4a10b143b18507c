"""The detail view of a container or worker (labels, ports, mounts, command, masked env)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from pixel_tui import format as fmt
from pixel_tui.model import ContainerDetail, Worker, iso
from pixel_tui.ui.workers import flags

Section = tuple[str, list[tuple[str, str]]]
"""A titled list of (field, value)."""

CLOSE = Binding("escape,q", "dismiss", "close", tooltip="Close this view", id="modal.close")


def worker_section(worker: Worker) -> Section:
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
            ("started", iso(worker.started_at) or "-"),
            ("age", fmt.duration(worker.age_s)),
            ("timeout", fmt.duration(worker.timeout_s)),
            ("left", left),
            ("flags", flags(worker) or "-"),
        ],
    )


def container_sections(detail: ContainerDetail) -> list[Section]:
    """A container's inspect result; env values that look secret arrive already masked."""
    return [
        (
            "Container",
            [
                ("name", detail.name),
                ("id", detail.id[:12]),
                ("image", detail.image),
                ("state", detail.state),
                ("created", iso(detail.created) or "-"),
                ("restart policy", detail.restart_policy or "-"),
                ("command", detail.command or "-"),
            ],
        ),
        ("Ports", [(port, "") for port in detail.ports]),
        ("Mounts", [(mount, "") for mount in detail.mounts]),
        ("Labels", sorted(detail.labels.items())),
        ("Environment", list(detail.env)),
    ]


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
