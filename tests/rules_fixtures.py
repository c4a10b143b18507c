"""The recorded audit log and history the proposals and the tester are tested on, made by pixel-tui's own writers.

`python -m tests.rules_fixtures` writes tests/fixtures/rules/audit.jsonl and history.jsonl;
tests/test_rules_proposals.py holds that the committed files are what this makes, so they keep the shapes
the code writes. The audit lines are written by the executor's own record code (`Executor._record`, intent
then outcome, through `AuditLog.append`), the verdicts by `rules.verdict.Verdict.record` and the shadow line by
`rules.steps.shadow_record`, on steps planned by `remediate.plans` from the
scripted crisis snapshots; the history is plain cycle records (`pixel-tui history import`'s form).

The story, all before NOW (2026-12-06 12:00 UTC), one cycle each 30 minutes from 2026-12-04 00:00:
- a person kills a timed-out worker 5 times in about 2 days, 4 of them with swap critical (1 warning); swap
  comes back below warning 2 cycles after each, and the timed-out count to 0;
- a person restarts an unhealthy container twice (below the support of 3);
- a person opens a shell 3 times (person-only) and stops a container 3 times (no rule takes a stop);
- a person cycles swap 3 times with swap critical; a kill is refused once (not an ok outcome);
- autoheal, rule `builtin-kill-timed-out`, kills twice (one verdict recovered, one not), and a shadow rule
  `kill-timed-out-workers-swap` records one "would have acted".
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pixel_tui.model import Snapshot, iso
from pixel_tui.remediate import plans
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.audit_record import INTENT, OUTCOME, Asked
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.remediate.model import FAILED, OK, REFUSED, Plan, Step, Target
from pixel_tui.rules.steps import shadow_record
from pixel_tui.rules.verdict import NOT_RECOVERED, RECOVERED, Verdict
from pixel_tui.settings import Settings
from tests.remediation import StandInHost
from tests.scripted import crisis_frame

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
CYCLE_S = 1800
PERSON = "ops@host-1"
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
KILLS = [  # (time, swap critical?)
    (datetime(2026, 12, 4, 10, 5, tzinfo=UTC), True),
    (datetime(2026, 12, 4, 22, 5, tzinfo=UTC), True),
    (datetime(2026, 12, 5, 9, 5, tzinfo=UTC), False),
    (datetime(2026, 12, 5, 20, 5, tzinfo=UTC), True),
    (datetime(2026, 12, 6, 8, 5, tzinfo=UTC), True),
]
SWAP_CYCLES = [datetime(2026, 12, 4, 15, 5, tzinfo=UTC), datetime(2026, 12, 5, 3, 5, tzinfo=UTC),
               datetime(2026, 12, 5, 15, 5, tzinfo=UTC)]  # fmt: skip


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _snapshot(cycle: int, at: datetime) -> Snapshot:
    return replace(crisis_frame(cycle), taken_at=at)


def _write(executor: Executor, clock: _Clock, at: datetime, plan: Plan, step: Step, actor: str, outcome: str,
           *, error: str | None = None, number: int, extra: dict[str, Any] | None = None) -> None:  # fmt: skip
    """One attempt as the executor records it: its intent, then its outcome (a refusal: one line)."""
    clock.now = at
    record_id = f"{number:08x}-0000-4000-8000-000000000000"
    audit = executor.backends.audit
    rule = (extra or {}).get("rule")
    extra = {key: value for key, value in (extra or {}).items() if key != "rule"}
    asked = Asked(actor, rule=rule)
    if outcome != REFUSED:
        intent = replace(executor._record(plan, step, asked), id=record_id, phase=INTENT, parts=(step.what,))
        audit.append(intent.as_json() | extra)
    clock.now = at + timedelta(seconds=3)
    record = replace(executor._record(plan, step, asked), outcome=outcome, error=error, duration_s=3.0)
    if outcome != REFUSED:
        record = replace(record, id=record_id, phase=OUTCOME)
    audit.append(record.as_json() | extra)


def _timed_out_worker(snapshot: Snapshot, name: str, container_id: str) -> Any:
    worker = next(worker for worker in snapshot.workers if worker.timed_out)
    return replace(worker, container=name, container_id=container_id)


def write_audit(path: Path) -> None:
    """The audit log of the story."""
    path.unlink(missing_ok=True)
    clock = _Clock()
    backends = Backends(engine=None, files=None, host=StandInHost(), audit=AuditLog(path))  # type: ignore[arg-type]
    executor = Executor(Settings(), backends, read_only=False, clock=clock)
    number = 0

    def attempt(at: datetime, cycle: int, action: str, step_of: Any, actor: str = PERSON, outcome: str = OK,
                rule: str | None = None, **options: Any) -> Step:  # fmt: skip
        nonlocal number
        number += 1
        snapshot = _snapshot(cycle, at - timedelta(seconds=20))
        step = step_of(snapshot)
        plan = Plan(action, (step,), snapshot.taken_at, plans.host_context(snapshot), rule=rule)
        _write(executor, clock, at, plan, step, actor, outcome, number=number, **options)
        return step

    for index, (at, critical) in enumerate(KILLS):
        name, cid = f"pixel-worker-{index:08x}", f"{index:02x}" * 32
        kill = lambda s, n=name, c=cid: plans.kill_step(_timed_out_worker(_snapshot(14, s.taken_at), n, c))  # noqa: E731
        attempt(at, 14 if critical else 11, "worker.kill", kill)
    attempt(datetime(2026, 12, 5, 9, 30, tzinfo=UTC), 14, "worker.kill",
            lambda s: plans.kill_step(_timed_out_worker(s, "pixel-worker-refused", "ee" * 32)), outcome=REFUSED,
            error="its target changed: it is no longer timed out")  # fmt: skip
    web = Target("container", "ab" * 32, "web-1")
    unhealthy = {"state": "running", "health": "unhealthy", "restarts": 2}
    for at in (datetime(2026, 12, 4, 12, 0, tzinfo=UTC), datetime(2026, 12, 5, 12, 0, tzinfo=UTC)):
        attempt(at, 12, "container.restart", lambda s: Step("restart", web, "restart web-1", "asked for (running)",
                expect={"state": "running"}, context=unhealthy))  # fmt: skip
    for hour in (1, 2, 3):
        at = datetime(2026, 12, 5, hour, 40, tzinfo=UTC)
        attempt(at, 12, "container.shell", lambda s: Step("shell", web, "open a shell in web-1", "asked for (running)",
                expect={"state": "running"}, context=unhealthy))  # fmt: skip
        stop = Step("stop", web, "stop web-1", "asked for (running)", expect={"state": "running"}, context=unhealthy)
        attempt(at + timedelta(minutes=5), 12, "container.stop_start", lambda s, step=stop: step)
    for at in SWAP_CYCLES:
        attempt(at, 14, "host.cycle_swap", plans.swap_step)
    for offset, (verdict, outcome) in enumerate(((RECOVERED, OK), (NOT_RECOVERED, FAILED))):
        at = datetime(2026, 12, 6, 10 + offset, 5, tzinfo=UTC)
        name, cid = f"pixel-worker-auto{offset}", f"{offset + 10:02x}" * 32
        step = attempt(at, 14, "worker.kill", lambda s, n=name, c=cid: plans.kill_step(_timed_out_worker(s, n, c)),
                       actor="autoheal", outcome=outcome, error=None if outcome == OK else "the engine did not answer",
                       rule="builtin-kill-timed-out")  # fmt: skip
        after_s = 120.0 if verdict == RECOVERED else 180.0
        told = Verdict(
            f"kill:{cid}",
            "builtin-kill-timed-out",
            name,
            f"{number:08x}-0000-4000-8000-000000000000",
            "worker.kill",
            step.op,
            step.target.as_json() if step.target else None,
            verdict,
            after_s,
        )
        executor.backends.audit.append(told.record(iso(at + timedelta(seconds=after_s)) or ""))
    at = datetime(2026, 12, 6, 11, 30, tzinfo=UTC)
    snapshot = _snapshot(14, at)
    step = plans.kill_step(_timed_out_worker(snapshot, "pixel-worker-shadowed", "cc" * 32))
    plan = Plan(
        "worker.kill", (step,), snapshot.taken_at, plans.host_context(snapshot), rule="kill-timed-out-workers-swap"
    )
    executor.backends.audit.append(shadow_record(plan, iso(at) or "")[0])


def history_records() -> list[dict[str, Any]]:
    """One plain cycle record each 30 minutes from START to NOW: swap and timed-out workers as the story says."""
    records = []
    at, number = START, 1
    events = [(kill, 85.0 if critical else 60.0, True) for kill, critical in KILLS]
    events += [(swap, 88.0, False) for swap in SWAP_CYCLES]
    while at < NOW:
        swap, timed_out = 20.0, 0
        for when, high, kill in events:
            start = when.replace(minute=0) - timedelta(minutes=30)
            if start <= at <= when:  # the hour before and the cycle of the action
                swap, timed_out = high, (1 if kill else timed_out)
            elif when < at <= when + timedelta(seconds=CYCLE_S):  # the next cycle: on the way down
                swap = max(swap, 55.0 if high >= 80 else 40.0)
        records.append({"cycle": number, "time": at.isoformat().replace("+00:00", "Z"), "duration_s": CYCLE_S,
                        "swap_percent": swap, "memory_percent": 62.0, "cpu_percent": 30.0, "load_per_core": 0.5,
                        "workers": 3, "timed_out": timed_out, "phantoms": 0})  # fmt: skip
        at += timedelta(seconds=CYCLE_S)
        number += 1
    return records


def write_history(path: Path) -> None:
    """The history of the story as JSON lines."""
    path.write_text("".join(json.dumps(record, separators=(",", ":")) + "\n" for record in history_records()))


if __name__ == "__main__":
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write_audit(FIXTURES / "audit.jsonl")
    write_history(FIXTURES / "history.jsonl")
