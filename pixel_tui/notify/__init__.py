"""Notifications to webhooks (`[notify]`, docs/notify.md): what autoheal does and gives up, short-circuits, new
proposals, and the overall level reaching critical and clearing. Headless.

`notify(kind, target, text)` is the plain entry for the parts of pixel-tui that have something to tell (the
rules engine's short-circuits, the proposals): it hands the notice to the notifier the running command
installed, and returns at once; with none installed (no webhooks, a test) it does nothing. The notifier
(`notifier.Notifier`), the webhook sender and the observer of snapshots and outcomes are imported only where
a command wires them, so reading the settings never loads an HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixel_tui.model import Level

if TYPE_CHECKING:
    from pixel_tui.notify.notifier import Notifier

_installed: Notifier | None = None


def install(notifier: Notifier | None) -> None:
    """Make `notifier` the one `notify` hands notices to (None: none, as before any was installed)."""
    global _installed
    _installed = notifier


def installed() -> Notifier | None:
    """The notifier `notify` hands notices to, if any."""
    return _installed


def notify(kind: str, target: str, text: str, *, level: Level = Level.WARNING, actor: str | None = None) -> bool:
    """Tell `text` about `target` as a notice of `kind` (pixel_tui.notify.notice.KINDS); returns at once.

    `actor` is who did what is told: None or `autoheal` for what pixel-tui itself saw or did; a person's
    (`user@host`) is never notified, they know what they pressed. True when the notice was queued."""
    notifier = _installed
    return notifier.notify(kind, target, text, level=level, actor=actor) if notifier is not None else False
