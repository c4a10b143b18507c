"""Operations as data: every catalogue action has its planner, every operation a plan can name has its entry (its
check and its run), an operation not in the registry is refused and never run; the audit record's JSON form."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from pixel_tui.domain import WorkerRules
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.audit_record import AuditRecord
from pixel_tui.remediate.catalogue import ACTIONS
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.remediate.model import Plan, Step, Target
from pixel_tui.remediate.operations import OPERATIONS
from pixel_tui.remediate.orchestrator import RealFiles
from pixel_tui.remediate.plans import PLANNERS, plan
from pixel_tui.settings import Settings
from tests.remediation import StandInHost
from tests.scripted import crisis_frame

DOCUMENTED_OPS = {
    "kill-worker", "abort-ghost", "remove-orphan", "clear-lock", "restart", "stop", "start", "remove-exited",
    "prune-images", "prune-build-cache", "drop-caches", "cycle-swap", "shell",
}  # fmt: skip
"""The operations the README's audit table lists as `step`."""


class Recording:
    """An engine that records every call and answers nothing (no container exists)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        def call(*args: object) -> None:
            self.calls.append(name)

        return call


def executor(tmp_path: Path, engine: object = None, host: StandInHost | None = None) -> Executor:
    backends = Backends(engine, RealFiles(None, None, max_bytes=1024), host or StandInHost(),  # type: ignore[arg-type]
                        AuditLog(tmp_path / "audit.jsonl"))  # fmt: skip
    return Executor(Settings(), backends, read_only=False)


def test_every_changing_catalogue_action_has_a_planner_and_nothing_else_does():
    changing = {action.id for action in ACTIONS if action.mutating} - {"autoheal.toggle"}  # the console's own toggle
    assert set(PLANNERS) == changing
    frame = crisis_frame(14)
    for action in ACTIONS:
        if action.id not in PLANNERS:
            made = plan(action.id, frame, None, is_worker=bool)
            assert made.steps == () and made.nothing == f"{action.label} is not an action on the host"
    assert [action for action, planner in PLANNERS.items() if planner.cascade] == ["host.optimize"]


def test_every_operation_a_plan_names_is_in_the_registry_with_its_check_and_run():
    assert set(OPERATIONS) == DOCUMENTED_OPS
    for name, operation in OPERATIONS.items():
        assert operation.name == name and callable(operation.check) and callable(operation.run) and operation.does
    rules = WorkerRules(Settings().workers)
    named: set[str] = set()
    for cycle in (12, 14, 16, 18):
        frame = crisis_frame(cycle)
        keys = [None, *(c.id for c in frame.containers), *(w.key for w in frame.workers)]
        for action in PLANNERS:
            for key in keys:
                named |= {step.op for step in plan(action, frame, key, is_worker=rules.is_worker).steps}
    assert named <= set(OPERATIONS)
    assert {"kill-worker", "abort-ghost", "restart", "prune-images", "drop-caches", "cycle-swap", "shell"} <= named


def test_an_operation_not_in_the_registry_is_refused_audited_and_never_run(tmp_path):
    engine, host = Recording(), StandInHost()
    ex = executor(tmp_path, engine, host)
    step = Step("format-disk", Target("host", None, "box"), "format the disk", "asked for")
    (outcome,) = ex.execute(Plan("host.optimize", (step,), None, {}), actor="t")
    assert outcome.outcome == "refused" and outcome.error == "unknown operation 'format-disk': nothing is done"
    assert engine.calls == [] and host.calls == []
    (line,) = [json.loads(raw) for raw in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert line["step"] == "format-disk" and line["outcome"] == "refused" and "phase" not in line


def test_the_audit_record_writes_todays_lines_and_rule_only_when_an_autoheal_rule_asked(tmp_path):
    host = StandInHost(root=False)
    ex = executor(tmp_path, host=host)
    made = ex.plan("host.cycle_swap", crisis_frame(14))
    ex.execute(made, actor="alice@box")
    ex.execute(made, actor="autoheal", reason="autoheal: swap critical", rule="cycle-swap-critical")
    person, healer = [json.loads(raw) for raw in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert list(person) == ["time", "actor", "action", "step", "target", "reason", "snapshot_at", "context",
                            "outcome", "error", "note", "duration_s"]  # fmt: skip
    assert person["outcome"] == "refused" and person["error"].startswith("needs root")
    assert healer["rule"] == "cycle-swap-critical" and list(healer)[:3] == ["time", "actor", "rule"]
    (record, _), _ = AuditLog(tmp_path / "audit.jsonl").records()
    assert record.rule is None and record.step == "cycle-swap" and record.context["host"]["levels"]


def test_an_old_line_reads_back_and_writes_back_the_same():
    old = {
        "time": "2026-11-02T03:00:01.5Z", "actor": "alice@box", "action": "worker.kill", "step": "kill-worker",
        "target": {"kind": "container", "id": "7ae7", "name": "pixel-worker-3f2a9c1d"}, "reason": "timed out",
        "snapshot_at": "2026-11-02T03:00:00Z", "context": {"host": {}, "target": {"state": "running"}},
        "outcome": "interrupted", "error": "pixel-tui was stopped (q) before this finished", "note": None,
        "duration_s": 4.2, "id": "a1b2c3", "phase": "outcome", "done": ["stop pixel-worker-3f2a9c1d"],
        "under_way": "remove pixel-worker-3f2a9c1d", "not_done": ["check that pixel-worker-3f2a9c1d is gone"],
    }  # fmt: skip
    record = AuditRecord.from_json(old)
    assert record.done == ("stop pixel-worker-3f2a9c1d",) and record.rule is None
    assert json.dumps(record.as_json()) == json.dumps(old)
    intent = {k: old[k] for k in list(old)[:8]} | {"id": "a1b2c3", "phase": "intent", "parts": ["stop x", "remove x"]}
    assert json.dumps(AuditRecord.from_json(intent).as_json()) == json.dumps(intent)
    newer = replace(AuditRecord.from_json(intent), extra={"verdict": "recovered"})
    assert newer.as_json()["verdict"] == "recovered"
    assert AuditRecord.from_json({"duration_s": "x", "parts": 3}).duration_s is None  # a damaged line still reads


def test_the_readme_documents_every_field_of_the_audit_record():
    from dataclasses import fields

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme[readme.index("The fields of a record:") : readme.index("Each line is one `AuditRecord`")]
    documented = {name.split(".")[0] for row in table.splitlines() if row.startswith("| `")
                  for name in row.split("|")[1].replace("`", "").replace(" ", "").split(",")}  # fmt: skip
    assert {field.name for field in fields(AuditRecord)} - {"extra"} == documented
