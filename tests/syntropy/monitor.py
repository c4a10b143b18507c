"""Invariants to hold while the orchestrator model and pixel-tui share an engine and a ledger.

`InvariantMonitor` is a background thread that polls the engine (and the ledger) every ~0.2 s and
records each violation it sees:
- `two_workers`: more than one worker container of ours running at once (whole name
  `^pixel-worker-[0-9a-f]{8}$`, and the Compose project when one is given): single-flight broken;
- `ledger_unreadable`: the ledger exists but does not parse as a ledger. Every writer replaces it by
  rename, so a torn read means someone wrote it in place.
`phantoms()` and `wait_settled()` check the end state after a kill: no task `pending` or `running`
without a live container of its own.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from tests.syntropy.docker_calls import worker_name

OUR_WORKER = re.compile(r"^pixel-worker-[0-9a-f]{8}$")
"""A worker the orchestrator spawned: the whole name, not the substring its own `docker ps` filters on."""
ALIVE = frozenset({"created", "running", "restarting", "paused"})
"""Container states in which a task's worker still exists."""


@dataclass(frozen=True)
class Violation:
    """One broken invariant: what, when (seconds since the monitor started) and the evidence."""

    kind: str
    at: float
    detail: str


class InvariantMonitor(threading.Thread):
    """Polls `docker_host` (and `ledger`, when given) every `interval` seconds until `stop()`.

    Use as a context manager; `violations` holds what it saw, `samples` how many polls it made and
    `max_running` the most workers it saw running at once. A violation that lasts is recorded once
    per episode (again only after it cleared)."""

    def __init__(
        self, docker_host: str, ledger: Path | None = None, *, interval: float = 0.2, project: str | None = None
    ) -> None:
        """Prepare (not start) a monitor of the engine at `docker_host`, only of `project`'s workers if given."""
        super().__init__(name="invariant-monitor", daemon=True)
        self.ledger, self.interval, self.project = ledger, interval, project
        self.violations: list[Violation] = []
        self.samples = 0
        self.max_running = 0
        self.errors: list[str] = []
        """Polls that failed (an engine hiccup), as reprs."""
        self._halt = threading.Event()
        self._started_at = time.monotonic()
        self._open: set[str] = set()
        self._client = docker.DockerClient(base_url=docker_host, timeout=10)

    def stop(self) -> InvariantMonitor:
        """End the polling, wait for the thread and close the client; returns self."""
        self._halt.set()
        if self.is_alive():
            self.join(timeout=5)
        self._client.close()
        return self

    def __enter__(self) -> InvariantMonitor:
        """Start polling."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop polling."""
        self.stop()

    def assert_clean(self) -> None:
        """Fail with the violations seen, if any (and make sure the monitor did poll)."""
        assert self.samples > 0, "the monitor never polled"
        assert not self.violations, "\n".join(f"{v.at:6.2f}s {v.kind}: {v.detail}" for v in self.violations)

    def run(self) -> None:
        """Poll until stopped."""
        while not self._halt.is_set():
            try:
                self.poll()
            except Exception as e:  # an engine hiccup must not end the watch silently
                self.errors.append(repr(e))
            self._halt.wait(self.interval)

    def poll(self) -> None:
        """One look at the engine and the ledger."""
        running = [
            c
            for c in self._client.containers.list(filters={"name": "pixel-worker-"}, ignore_removed=True)
            if OUR_WORKER.match(c.name) and self._ours(c.labels)
        ]
        self.max_running = max(self.max_running, len(running))
        names = sorted(f"{c.name} ({c.short_id})" for c in running)
        self._record("two_workers", len(running) > 1, f"running at once: {', '.join(names)}")
        if self.ledger is not None:
            problem = _ledger_problem(self.ledger)
            self._record("ledger_unreadable", problem is not None, problem or "")
        self.samples += 1

    def _ours(self, labels: dict[str, str]) -> bool:
        return self.project is None or labels.get("com.docker.compose.project") == self.project

    def _record(self, kind: str, broken: bool, detail: str) -> None:
        if broken and kind not in self._open:
            self.violations.append(Violation(kind, round(time.monotonic() - self._started_at, 2), detail))
        self._open = self._open | {kind} if broken else self._open - {kind}


def _ledger_problem(path: Path) -> str | None:
    """Why the ledger at `path` is not a readable ledger right now (None: fine, or not there)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        document = json.loads(data)
    except ValueError as e:
        return f"{e} ({len(data)} bytes)"
    if not isinstance(document, dict) or not isinstance(document.get("tasks"), list):
        return f"not a ledger: {type(document).__name__}"
    return None


@dataclass(frozen=True)
class Phantom:
    """A task the ledger calls `pending` or `running` whose container is missing or no longer alive."""

    task_id: str
    status: str
    container_state: str | None
    """The container's state (`exited`, ...), or None when there is no container at all."""


def phantoms(docker_host: str, ledger: Path) -> list[Phantom]:
    """Every `pending`/`running` task of `ledger` without a live `pixel-worker-<8>` container."""
    try:
        tasks: list[dict[str, Any]] = json.loads(ledger.read_text(encoding="utf-8")).get("tasks", [])
    except FileNotFoundError:
        return []
    found = []
    client = docker.DockerClient(base_url=docker_host, timeout=10)
    try:
        for task in tasks:
            if task.get("status") not in ("pending", "running"):
                continue
            try:
                state: str | None = client.api.inspect_container(worker_name(str(task.get("id"))))["State"]["Status"]
            except docker.errors.NotFound:
                state = None
            if state not in ALIVE:
                found.append(Phantom(str(task.get("id")), str(task.get("status")), state))
    finally:
        client.close()
    return found


def wait_settled(docker_host: str, ledger: Path, timeout: float = 10.0) -> list[Phantom]:
    """Poll `phantoms()` until there are none or `timeout` passes; what is left (empty: settled)."""
    deadline = time.monotonic() + timeout
    while True:
        left = phantoms(docker_host, ledger)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)
