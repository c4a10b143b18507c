"""What a notification says: its kind, target and text, and the one JSON body and headers every webhook gets.

The body is the same for every webhook (docs/notify.md). The headers make an ntfy topic URL work as it is:
ntfy (2.10 and later) reads `X-Template: yes` and fills the notification's title and message from the JSON
body's `title` and `message`; `X-Priority` and `X-Tags` are ntfy's own. Any other receiver reads the JSON and
ignores those headers. No text of the host (a container's name) ever goes into a header: only in the body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pixel_tui.model import Level, iso

ACTION = "action"
"""Autoheal began an action on a target (validated, its intent recorded)."""
OUTCOME = "outcome"
"""How an autoheal action ended: done, failed, refused or interrupted."""
GIVE_UP = "give-up"
"""Autoheal spent its budget on a target and left it to a person."""
SHORT_CIRCUIT = "short-circuit"
"""A rule matched too many targets at once and acted on none (told by the rules engine)."""
PROPOSAL = "proposal"
"""A new rule proposed from the operator's own actions (told by the proposals)."""
CRITICAL = "critical"
"""The host's overall level reached critical."""
CLEARED = "cleared"
"""The overall level came back below critical."""
KINDS = (ACTION, OUTCOME, GIVE_UP, SHORT_CIRCUIT, PROPOSAL, CRITICAL, CLEARED)
"""Every kind of notice, in the order docs/notify.md lists them."""

MAX_TEXT = 1000
"""A notice's text is cut to this many characters (ntfy keeps 4 096 bytes of a message)."""

_PRIORITY = {Level.OK: 3, Level.CAREFUL: 3, Level.WARNING: 4, Level.CRITICAL: 5}
"""ntfy's priority (1 min to 5 max) of a notice of each level."""
_TAGS = {
    ACTION: "wrench",
    OUTCOME: "white_check_mark",
    GIVE_UP: "raised_hand",
    SHORT_CIRCUIT: "octagonal_sign",
    PROPOSAL: "bulb",
    CRITICAL: "rotating_light",
    CLEARED: "white_check_mark",
}
"""ntfy's emoji tag of each kind (a tag ntfy does not know is shown as a word)."""


@dataclass(frozen=True)
class Notice:
    """One notification, before it is sent."""

    kind: str
    """One of KINDS."""
    target: str
    """What it is about: a container's or task's name, `host`, a rule's id."""
    text: str
    """What happened, in one sentence."""
    level: Level
    at: datetime
    host: str
    """The hostname of the host pixel-tui watches."""
    held: int = 0
    """Notices of the same kind and target held back by the cooldown since the last one sent."""

    @property
    def key(self) -> tuple[str, str]:
        """What the cooldown counts per: the kind and the target."""
        return (self.kind, self.target)

    @property
    def title(self) -> str:
        """The notification's title: `pixel-tui on web-1: autoheal action`."""
        return f"pixel-tui on {self.host}: {self.kind.replace('-', ' ')}"

    def body(self) -> bytes:
        """The JSON every webhook gets (its fields are documented in docs/notify.md)."""
        text = self.text if len(self.text) <= MAX_TEXT else self.text[: MAX_TEXT - 1] + "…"
        if self.held:
            text += f" ({self.held} more of this kind on {self.target} held back by the cooldown)"
        document = {
            "source": "pixel-tui",
            "host": self.host,
            "kind": self.kind,
            "target": self.target,
            "level": self.level.value,
            "time": iso(self.at),
            "title": self.title,
            "message": text,
            "held": self.held,
            "priority": _PRIORITY[self.level],
            "tags": [_TAGS.get(self.kind, "pixel-tui"), self.kind],
        }
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    def headers(self) -> dict[str, str]:
        """The request's headers: JSON, and what turns the body into a real notification on an ntfy topic URL."""
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "pixel-tui",
            "X-Template": "yes",
            "X-Title": "{{.title}}",
            "X-Message": "{{.message}}",
            "X-Priority": str(_PRIORITY[self.level]),
            "X-Tags": f"{_TAGS.get(self.kind, 'pixel-tui')},{self.kind}",
        }
