"""A background reader of the engine's event stream: which containers changed, and what to tell."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pixel_tui.model import Event, Level

_HEALTH_RESET = frozenset({"start", "restart", "die", "stop", "kill", "destroy"})
"""Actions after which a container's next health report is a change, whatever it was before."""

# Actions after which the engine's list (state, name, health) and a cached inspect (start time,
# restart count, pid, limits) are out of date. Not the others: exec_* (every health check runs one),
# attach, detach, resize, top, copy, archive-path, extract-to-dir, export and commit change neither.
_CHANGING = {
    "create",
    "health_status",
    "start",
    "restart",
    "die",
    "stop",
    "kill",
    "destroy",
    "pause",
    "unpause",
    "rename",
    "oom",
    "update",
}
# podman's compat socket names some actions its own way: `remove` for destroy, and (before podman 5
# translated it) `died` for die, with the code in `containerExitCode`.
_ALIASES = {"remove": "destroy", "died": "die"}


@dataclass(frozen=True)
class EngineChange:
    """What one raw engine event means to the collector: which container, what happened, what to tell."""

    container_id: str
    """The container's full id ("" when the event names none)."""
    action: str
    """The action in Docker's words: `health_status` without its `: healthy` suffix, podman's `remove` as `destroy`."""
    health: str | None
    """For a health_status event, the new health: healthy, unhealthy or starting."""
    changing: bool
    """True when the container's listed state or cached inspect is out of date after it."""
    event: Event | None
    """The events-pane entry, None when it is not worth a line."""


def read_event(raw: dict[str, Any]) -> EngineChange:
    """One raw `/events` message, of any API version from 1.41 to 1.52 or podman's compat socket, made sense of.

    The id is `Actor.ID`: every version sends it, while the top-level `id` (and `status`, `from`) is gone from
    API 1.52 (Docker 29) and podman's answer at that version. Docker tells health in the action
    (`health_status: unhealthy`), podman in a separate `HealthStatus` field with the action `health_status`.
    """
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    container_id = str(actor.get("ID") or raw.get("id") or "")
    text = str(raw.get("Action") or raw.get("status") or "")
    action, _, detail = text.partition(":")
    action = _ALIASES.get(action.strip(), action.strip())
    health = None
    if action == "health_status":
        health = (detail.strip() or str(raw.get("HealthStatus") or "")) or None
    changing = action in _CHANGING
    name = str(attributes.get("name") or container_id[:12])
    return EngineChange(container_id, action, health, changing, _pane_event(raw, action, health, name, attributes))


def _pane_event(
    raw: dict[str, Any], action: str, health: str | None, name: str, attributes: dict[str, Any]
) -> Event | None:
    stamp = raw.get("timeNano")
    at = datetime.fromtimestamp(stamp / 1e9, UTC) if stamp else datetime.now(UTC)
    if action == "die":
        code = attributes.get("exitCode") or attributes.get("containerExitCode") or "?"
        level = Level.OK if code == "0" else Level.WARNING
        return Event(at, "container-died", name, f"{name} exited ({code})", level)
    if action == "restart":
        return Event(at, "container-restarted", name, f"{name} restarted", Level.CAREFUL)
    if action == "oom":
        return Event(at, "container-oom", name, f"{name} ran out of memory", Level.CRITICAL)
    if health == "unhealthy":
        return Event(at, "container-health", name, f"{name} unhealthy", Level.WARNING)
    return None


class EngineEvents:
    """Follows `/events` for containers in a daemon thread; `alive` turns False when the stream ends.

    With `replay`, the stream asks the engine for the events since this object was made (the
    engine keeps its last 256): an engine subscribes a stream only after it has answered the
    request, and a change in between would otherwise be lost. Only for an engine that shares
    this machine's clock: another's would replay too much, or nothing.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        clock: Callable[[], float],
        keep: int = 500,
        replay: bool = False,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._connect = connect
        self.started = clock()
        """When following began (the engine's monotonic clock)."""
        self._since = f"{wall():.9f}" if replay else None
        self.connected = False
        """True once the stream was open: only then can events have been missed when it ends."""
        self._changed: set[str] = set()
        self._events: deque[Event] = deque(maxlen=keep)
        self._health: dict[str, str] = {}  # the last health told per container id
        self._lock = threading.Lock()
        self._api: Any = None
        self._stream: Any = None
        self._stopping = False
        self._thread = threading.Thread(target=self._follow, name="pixel-docker-events", daemon=True)
        self.alive = True

    @property
    def healthy(self) -> bool:
        """True while the stream is open and followed: every change from now on will be told."""
        return self.connected and self.alive and not self._stopping

    def start(self) -> None:
        """Open the stream and begin following it."""
        self._thread.start()

    def _follow(self) -> None:
        try:
            self._api = api = self._connect()
            if self._stopping:
                return
            since = {"since": self._since} if self._since else {}
            self._stream = stream = api.events(decode=True, filters={"type": "container"}, **since)
            if self._stopping:
                # Stopped while the engine was slow to answer (frozen): stop() found no stream to close.
                stream.close()
                return
            self.connected = True
            for raw in self._stream:
                if self._stopping:
                    break
                change = read_event(raw)
                if change.health is not None:
                    if self._health.get(change.container_id) == change.health:
                        # podman 4 tells health after every check, not only when it changes as Docker does.
                        continue
                    self._health[change.container_id] = change.health
                if change.action in _HEALTH_RESET:
                    # A (re)start sets its health back to `starting` without an event: the next `unhealthy`
                    # is news again (a restarted container that failed again was missed until the reconcile).
                    self._health.pop(change.container_id, None)
                with self._lock:
                    if change.changing:
                        self._changed.add(change.container_id)
                    if change.event is not None:
                        self._events.append(change.event)
        except Exception:  # noqa: BLE001 - a dropped stream is reported through `alive`
            pass
        finally:
            self.alive = False
            self._close_api()

    def drain_changed(self) -> set[str]:
        """Ids of containers that changed since the last call."""
        with self._lock:
            changed, self._changed = self._changed, set()
        return changed

    def drain_events(self) -> tuple[Event, ...]:
        """Pane-worthy events since the last call, oldest first."""
        with self._lock:
            events = tuple(self._events)
            self._events.clear()
        return events

    def stop(self) -> None:
        """Close the stream and its client; the thread ends on its own."""
        self._stopping = True
        stream = self._stream
        if stream is not None:
            # Closing a broken stream may fail; there is nothing more to do then.
            with contextlib.suppress(Exception):
                stream.close()
        self._close_api()

    def _close_api(self) -> None:
        # The stream has a client of its own: over ssh, an SSH connection and a paramiko thread, which
        # closing the stream leaves open (and the thread blocked on it) until the next event arrives.
        api, self._api = self._api, None
        if api is not None:
            with contextlib.suppress(Exception):
                api.close()
