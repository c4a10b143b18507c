"""The detail view of a container or worker (labels, ports, mounts, command, masked env) and the log view."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, RichLog, Static

from pixel_tui import format as fmt
from pixel_tui.model import ContainerDetail, Worker, iso
from pixel_tui.safe import sgr_only
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
        Binding("l", "show_logs", "logs", tooltip="Last log lines of this container", id="detail.logs"),
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


class LogsScreen(ModalScreen[None]):
    """The last lines of a container's log, scrolled to the end, in its own colours and nothing else.

    The log is the container's to write: only its SGR colour sequences are rendered; every other
    escape sequence and control character arrives as visible text (`pixel_tui.safe.sgr_only`).
    """

    BINDINGS = [CLOSE]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        """A framed log."""
        with Vertical(id="dialog") as dialog:
            dialog.border_title = Content(self.title_text)  # a container name: not markup
            dialog.border_subtitle = "esc close"
            if self.text.strip():
                yield RichLog(id="log", highlight=False, markup=False, wrap=False, auto_scroll=True)
            else:
                yield Label("the log is empty", id="log-empty")

    def on_mount(self) -> None:
        """Fill the log."""
        if self.text.strip():
            log = self.query_one(RichLog)
            for line in sgr_only(self.text).splitlines():
                log.write(Text.from_ansi(line))
            log.focus()
