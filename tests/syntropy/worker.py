"""A Syntropy worker on busybox: the entrypoint's shell half inside the container, its jq half on the host.

The real `worker-entrypoint.sh` edits the ledger with jq, which busybox lacks. So the container runs
`ENTRYPOINT` below (busybox sh, as PID 1), and each ledger write is handed to a `WorkerAgent` thread
on the host: the container writes a request file in `/pixel/ctl` and waits for the agent's answer,
and the agent makes the write as jq + mv would (read the whole ledger, set the fields, write
`task-ledger.json.tmp`, rename). The observable order is the real one:

1. trap EXIT -> remove the lock if it still holds this TASK_ID (done in the container, so a worker
   killed from outside, by SIGKILL or by a TERM its PID 1 ignores, never runs it);
2. the task becomes `running`: `startedAt` from `date -Iseconds` (`+00:00`, no fractions) and
   `workerId` = `hostname` (the container's 12-hex short id);
3. the body runs under `timeout -s TERM -k <kill after> $WORKER_TIMEOUT_SECONDS`, its output teed to
   `data/worker-output-<id>.txt` and `logs/worker-<8>.log` (busybox reports a TERM timeout as 143;
   it is mapped to GNU timeout's 124, and a `TIMEOUT:` line is appended, as the real script does);
4. the task becomes `completed` (0) or `failed` with `completedAt`, `exitCode`, `output` (the last
   10000 characters) and `summary` (from a `## Summary` line on) while the container still runs;
5. an optional linger (the "completed but still running" incident), then `exit $EXIT_CODE`.

If no agent answers within `ACK_TIMEOUT_S` the container gives up with exit 1 (the trap runs):
a model process that died must not leave workers waiting forever.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.syntropy.files import DataFiles

if TYPE_CHECKING:
    import docker

ACK_TIMEOUT_S = 30.0
_ACK_TICK_S = 0.02

ENTRYPOINT = r"""
LOCK_FILE=/pixel/data/worker-lock.json
LEDGER=/pixel/data/task-ledger.json
CTL="/pixel/ctl/$TASK_ID"
echo "[WORKER] Starting worker container..."
echo "[WORKER] TASK_ID: ${TASK_ID:-not set}"
cleanup_lock() {
  if [ -f "$LOCK_FILE" ]; then
    lock_task=$(sed -n 's/.*"taskId": *"\([^"]*\)".*/\1/p' "$LOCK_FILE" 2>/dev/null)
    if [ "$lock_task" = "$TASK_ID" ]; then rm -f "$LOCK_FILE"; fi
  fi
}
trap cleanup_lock EXIT
ask() {
  printf '%s\n' "$2" > "$CTL.$1.tmp" && mv "$CTL.$1.tmp" "$CTL.$1"
  n=0
  while [ ! -f "$CTL.$1.ack" ]; do
    n=$((n + 1)); [ "$n" -gt "$PIXEL_MODEL_ACK_TICKS" ] && return 1
    sleep 0.02
  done
  cat "$CTL.$1.ack"
}
if [ -z "$TASK_ID" ]; then echo "[WORKER] ERROR: TASK_ID environment variable not set"; exit 1; fi
if [ ! -f "$LEDGER" ]; then echo "[WORKER] ERROR: Task ledger not found at $LEDGER"; exit 1; fi
answer=$(ask running "$(hostname) $(date -Iseconds)") || { echo "[WORKER] ERROR: no ledger agent"; exit 1; }
if [ "$answer" != ok ]; then echo "[WORKER] ERROR: Task $TASK_ID not found in ledger ($answer)"; exit 1; fi
OUTPUT_FILE="/pixel/data/worker-output-$TASK_ID.txt"
LIVE_LOG="/pixel/logs/worker-$(echo "$TASK_ID" | cut -c1-8).log"
EXIT_CODE=0
set -o pipefail
if [ "$PIXEL_MODEL_ENFORCE_TIMEOUT" = 1 ]; then
  timeout -s TERM -k "$PIXEL_MODEL_KILL_AFTER" "$WORKER_TIMEOUT_SECONDS" sh -c "$PIXEL_MODEL_BODY" </dev/null 2>&1 \
    | tee "$OUTPUT_FILE" "$LIVE_LOG" || EXIT_CODE=$?
  if [ "$EXIT_CODE" -eq 143 ]; then EXIT_CODE=124; fi
else
  sh -c "$PIXEL_MODEL_BODY" </dev/null 2>&1 | tee "$OUTPUT_FILE" "$LIVE_LOG" || EXIT_CODE=$?
fi
if [ "$EXIT_CODE" -eq 124 ]; then
  echo "TIMEOUT: Task exceeded ${WORKER_TIMEOUT_SECONDS}s limit" >> "$OUTPUT_FILE"
fi
ask done "$EXIT_CODE $(date -Iseconds)" >/dev/null || echo "[WORKER] ERROR: no ledger agent"
echo "[WORKER] Worker completed. Exit code: $EXIT_CODE"
if [ "$PIXEL_MODEL_LINGER" != 0 ]; then sleep "$PIXEL_MODEL_LINGER"; fi
exit $EXIT_CODE
"""
"""The worker's PID 1 (`sh -c ENTRYPOINT`); its knobs come from the `PIXEL_MODEL_*` variables."""

_SUMMARY_LINE = re.compile(r"^[ \t\n\r\f\v]*##[ \t\n\r\f\v]+summary", re.IGNORECASE)


@dataclass(frozen=True)
class WorkerBehaviour:
    """What a spawned worker does, the orchestrator's side being fixed.

    `body` is a busybox shell command standing for `opencode run ...`; `ignore_term` prefixes it with
    `trap '' TERM` (its children inherit that, as a hung CLI would). `timeout_seconds` becomes the
    container's WORKER_TIMEOUT_SECONDS; `kill_after` is timeout's `--kill-after` (60 on real hosts);
    `enforce_timeout=False` runs the body without `timeout` at all: a worker that outlives even its
    own kill switch. `linger` keeps the container running that long after it wrote its final status
    (the lock is held until it exits)."""

    body: str = "echo working; sleep 0.2; echo '## Summary'; echo 'did the task'"
    timeout_seconds: int = 2700
    kill_after: int = 60
    enforce_timeout: bool = True
    ignore_term: bool = False
    linger: float = 0.0

    def environment(self, task_id: str, host_root: str) -> dict[str, str]:
        """The container's environment: the real variables, then the model's knobs."""
        body = f"trap '' TERM; {self.body}" if self.ignore_term else self.body
        return {
            "TASK_ID": task_id,
            "HOST_PIXEL_ROOT": host_root,
            "WORKER_TIMEOUT_SECONDS": str(self.timeout_seconds),
            "CI": "true",
            "PIXEL_MODEL_BODY": body,
            "PIXEL_MODEL_KILL_AFTER": str(self.kill_after),
            "PIXEL_MODEL_ENFORCE_TIMEOUT": "1" if self.enforce_timeout else "0",
            "PIXEL_MODEL_LINGER": f"{self.linger:g}",
            "PIXEL_MODEL_ACK_TICKS": str(int(ACK_TIMEOUT_S / _ACK_TICK_S)),
        }


def _jq_text(text: str) -> str:
    """`$(...)` strips trailing newlines and `echo | jq -Rs .` adds one back."""
    return text.rstrip("\n") + "\n"


def summary_of(output: str) -> str:
    """The entrypoint's awk: every line from the first `## Summary` heading on (empty when none)."""
    lines = output.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _SUMMARY_LINE.match(line)), None)
    return "" if start is None else "".join(lines[start:])


class WorkerAgent(threading.Thread):
    """The jq half of one worker's entrypoint, on the host: answers the container's two ledger writes.

    It ends after the final write, when its container is gone or has exited, or on `stop()`.
    `on_write(step)` is called just before each ledger write (a seam for race tests)."""

    def __init__(
        self,
        files: DataFiles,
        task_id: str,
        container_name: str,
        client: docker.DockerClient,
        *,
        poll_s: float = 0.02,
        on_write: Callable[[str], None] | None = None,
    ) -> None:
        """Prepare (not start) the agent of `container_name`, which runs task `task_id`."""
        super().__init__(name=f"agent-{container_name}", daemon=True)
        self.files, self.task_id, self.container_name = files, task_id, container_name
        self.client, self.poll_s, self.on_write = client, poll_s, on_write
        self.writes: list[str] = []
        """The steps written so far (`running`, `done`), in order."""
        self.failures: list[str] = []
        """Writes that raised (the container was answered `error` and exits 1)."""
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Ask the agent to end at its next poll."""
        self._stop_event.set()

    def _request(self, step: str) -> Path:
        return self.files.ctl / f"{self.task_id}.{step}"

    def _answer(self, step: str, answer: str) -> None:
        ack = self._request(step).with_name(f"{self.task_id}.{step}.ack")
        tmp = ack.with_name(ack.name + ".tmp")
        tmp.write_text(answer + "\n", encoding="utf-8")
        tmp.replace(ack)

    def _container_over(self) -> bool:
        """True when the container no longer exists or has exited (nothing more will be asked)."""
        import docker

        try:
            state = self.client.api.inspect_container(self.container_name)["State"]
        except docker.errors.NotFound:
            return True
        except docker.errors.APIError:
            return False
        return state.get("Status") in {"exited", "dead"}

    def run(self) -> None:
        """Poll for the container's requests until the final write is made or the container is over."""
        handled: set[str] = set()
        last_check = 0.0
        while not self._stop_event.is_set() and "done" not in handled:
            for step in ("running", "done"):
                if step not in handled and self._request(step).exists():
                    handled.add(step)
                    try:
                        answer = self._write(step, self._request(step).read_text().split())
                    except Exception as e:  # the container must get an answer, not wait 30 s
                        self.failures.append(f"{step}: {e!r}")
                        answer = "error"
                    self._answer(step, answer)
            now = time.monotonic()
            if now - last_check > 0.25:
                last_check = now
                if self._container_over() and not self._request("done").exists():
                    break
            self._stop_event.wait(self.poll_s)

    def _write(self, step: str, words: list[str]) -> str:
        """One jq read-modify-write of the whole ledger; returns the container's answer."""
        if self.on_write is not None:
            self.on_write(step)
        try:
            ledger: Any = json.loads(self.files.ledger.read_text(encoding="utf-8"))
            tasks = [t for t in ledger["tasks"] if isinstance(t, dict) and t.get("id") == self.task_id]
        except (OSError, ValueError, KeyError, TypeError):
            return "error"  # jq fails: the real entrypoint exits under `set -e`
        if step == "running":
            if not tasks:
                return "missing"  # the entrypoint's `select(.id == ...)` found nothing: exit 1, no write
            hostname, started = words
            for task in tasks:
                task.update(status="running", startedAt=started, workerId=hostname)
        else:
            exit_code, ended = int(words[0]), words[1]
            output = ""
            with contextlib.suppress(OSError):
                output = self.files.output(self.task_id).read_text(encoding="utf-8", errors="replace")
            for task in tasks:
                task.update(
                    status="completed" if exit_code == 0 else "failed",
                    completedAt=ended,
                    exitCode=exit_code,
                    output=_jq_text(output[-10000:]),
                    summary=_jq_text(summary_of(output)),
                )
        self.files.write_ledger_as_jq(ledger)
        self.writes.append(step)
        return "ok"
