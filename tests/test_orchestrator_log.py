"""The orchestrator's real audit log into cycles: numbering by start, trimmed windows, load per core, actions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pixel_tui.history.importer import import_file, parse
from pixel_tui.history.store import HistoryStore
from pixel_tui.model import Level, Thresholds

FIXTURES = Path(__file__).parent / "fixtures"
AUDIT = FIXTURES / "orchestrator-audit.jsonl"
TASK = "3f2a9c1d-8e4b-4f0a-9c61-2d7b5e0a1f34"


def event(at: str, kind: str, **fields: Any) -> str:
    """One line as logAudit writes it; `at` is the time of day on 2025-06-12 (`14:00:00`)."""
    return json.dumps({"timestamp": f"2025-06-12T{at}.000Z", "type": kind, **fields}, separators=(",", ":"))


def cycle(at: str, *middle: str, end: str | None = None, swap: float = 0.0) -> list[str]:
    """A whole cycle starting at `at` (HH:MM), a HEALTHY reading, `middle`, and its cycle_complete at HH:MM+1."""
    hours, minutes = at.split(":")
    done = end or f"{hours}:{int(minutes) + 1:02d}:00"
    return [
        event(f"{at}:00", "cycle_start", model="m"),
        event(
            f"{at}:05",
            "vps_metrics",
            status="HEALTHY",
            diskPercent=60.0,
            memPercent=50.0,
            swapPercent=swap,
            load1=0.5,
            alertCount=0,
        ),  # fmt: skip
        *middle,
        event(done, "cycle_complete", steps=[{"toolCalls": [{"name": "getVPSMetrics", "args": {}}], "text": "ok"}]),
    ]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def numbers(store: HistoryStore) -> list[tuple[str, int | None]]:
    """(start time of day, number) of every cycle the store lists."""
    return [(cycle.started_at.strftime("%H:%M"), cycle.cycle) for cycle in store.recent()]


def fixture_lines() -> list[str]:
    return AUDIT.read_text().splitlines()


def index_of(lines: list[str], text: str) -> int:
    return next(index for index, line in enumerate(lines) if text in line)


# --- numbering ------------------------------------------------------------------------------------------------------


def test_a_first_import_numbers_its_cycles_in_time_order_from_1(tmp_path: Path, db_path: Path):
    log = write(tmp_path / "audit.json", [*cycle("10:00"), *cycle("11:00"), *cycle("12:00")])
    report = import_file(log, HistoryStore(db_path))
    assert [c.cycle for c in report.added] == [1, 2, 3] and report.held == 0 and report.first_cycle is None
    assert numbers(HistoryStore(db_path)) == [("10:00", 1), ("11:00", 2), ("12:00", 3)]


def test_first_cycle_numbers_a_first_import_and_later_imports_continue_after_it(tmp_path: Path, db_path: Path):
    store = HistoryStore(db_path)
    lines = fixture_lines()
    early = write(tmp_path / "early" / AUDIT.name, lines[: index_of(lines, '"2025-06-12T14:47:00.088Z"')])
    first = import_file(early, store, first_cycle=13, cores=16)  # read while cycle 17 had not started yet
    assert [c.cycle for c in first.added] == [13, 14, 15, 16] and first.held == 0
    grown = import_file(AUDIT, store, cores=16)
    assert [c.cycle for c in grown.added] == [17, 18] and grown.held == 16
    assert [c.cycle for c in grown.present] == [13, 14, 15, 16]
    again = import_file(AUDIT, store, first_cycle=1, cores=16)  # --first-cycle only numbers a first import
    assert again.added == () and [c.cycle for c in again.present] == [13, 14, 15, 16, 17, 18]
    assert store.count() == 6
    assert [c.swap_percent for c in store.recent()] == [88.0, 92.5, 82.1, 2.9, 0.0, 0.0]


def test_a_trimmed_window_that_overlaps_adds_only_the_new_cycles_and_keeps_the_numbers(tmp_path: Path, db_path: Path):
    store = HistoryStore(db_path)
    import_file(AUDIT, store, first_cycle=13, cores=16)
    before = numbers(store)
    lines = fixture_lines()
    # The log 500 lines later: its head is now the middle of cycle 15, the 21:00 cycle ended, one more ran.
    window = lines[index_of(lines, '"worker_spawned","taskId":"c81d20f4') :]
    window += [event("21:09:00", "cycle_complete", steps=[]), *cycle("22:00", swap=1.5)]
    trimmed = import_file(write(tmp_path / "later" / AUDIT.name, window), store, cores=16)
    assert [(c.cycle, c.started_at.strftime("%H:%M")) for c in trimmed.added] == [(19, "21:00"), (20, "22:00")]
    assert [c.cycle for c in trimmed.present] == [16, 17, 18]
    assert trimmed.held == 18
    assert numbers(store) == [*before, ("21:00", 19), ("22:00", 20)]  # nothing renumbered
    reasons = [s.reason.split(" (")[0].split(":")[0] for s in trimmed.skipped]
    assert reasons == ["not JSON", "timestamp", "swapPercent", "not a JSON object"]  # the cut-off cycle 15 is none
    assert import_file(write(tmp_path / "later" / AUDIT.name, window), store).added == ()
    assert store.count() == 8


def test_a_cycle_retention_dropped_is_not_imported_again_under_a_new_number(tmp_path: Path, db_path: Path):
    store = HistoryStore(db_path, retention_rows=3)
    import_file(AUDIT, store, first_cycle=13)
    assert [c.cycle for c in store.recent()] == [16, 17, 18]
    again = import_file(AUDIT, store)
    assert again.added == () and [c.cycle for c in again.present] == [13, 14, 15, 16, 17, 18]
    assert [c.cycle for c in store.recent()] == [16, 17, 18]


def test_sources_are_numbered_apart_and_plain_records_keep_theirs(tmp_path: Path, db_path: Path):
    store = HistoryStore(db_path)
    import_file(write(tmp_path / "a.json", cycle("10:00")), store, first_cycle=5)
    other = import_file(write(tmp_path / "b.json", [*cycle("10:00"), *cycle("11:00")]), store)
    assert [c.cycle for c in other.added] == [1, 2]
    assert sorted((c.source, c.cycle) for c in store.recent()) == [("a.json", 5), ("b.json", 1), ("b.json", 2)]


IMPORTER = """
import sys, time
from pathlib import Path
from pixel_tui.history.importer import import_file
from pixel_tui.history.store import HistoryStore

log, db, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
store = HistoryStore(db, busy_timeout_s=20)
added = []
for _ in range(5):
    added += [cycle.cycle for cycle in import_file(log, store, first_cycle=100).added]
print(" ".join(map(str, added)))
"""


def test_two_processes_importing_at_once_give_each_cycle_one_number(tmp_path: Path, db_path: Path):
    lines = [line for hour in range(24) for minute in (0, 20, 40) for line in cycle(f"{hour:02d}:{minute:02d}")]
    log = write(tmp_path / "audit.json", lines)
    go = tmp_path / "go"
    importers = [
        subprocess.Popen(
            [sys.executable, "-c", IMPORTER, str(log), str(db_path), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    time.sleep(0.3)
    go.touch()
    added = []
    for importer in importers:
        out, err = importer.communicate(timeout=120)
        assert importer.returncode == 0, err.decode()
        added += [int(number) for number in out.split()]
    assert sorted(added) == list(range(100, 172))  # 72 cycles, each added once, by one of the two
    listed = HistoryStore(db_path).recent()
    assert [c.cycle for c in listed] == list(range(100, 172))  # and in time order


# --- what a cycle holds ---------------------------------------------------------------------------------------------


def test_load_per_core_is_load1_over_the_cores_given():
    data = "\n".join(cycle("10:00")).encode()
    assert parse(data, "a", Thresholds(), cores=16).cycles[0].load_per_core == 0.5 / 16
    assert parse(data, "a", Thresholds(), cores=1).cycles[0].load_per_core == 0.5
    assert parse(data, "a", Thresholds()).cycles[0].load_per_core is None  # no core count: unknown, not load1


def metrics(at: str, status: str, **figures: float) -> str:
    values = {"diskPercent": 50.0, "memPercent": 40.0, "swapPercent": 0.0, "load1": 0.2, **figures}
    return event(at, "vps_metrics", status=status, alertCount=0, **values)


@pytest.mark.parametrize(
    ("status", "figures", "level", "swap"),
    [
        ("HEALTHY", {}, Level.OK, 0.0),
        ("WARNING", {}, Level.WARNING, 0.0),
        ("CRITICAL", {}, Level.CRITICAL, 0.0),
        ("healthy", {}, Level.OK, 0.0),
        ("HEALTHY", {"swapPercent": 92.5}, Level.CRITICAL, 92.5),  # the figures reach more than it states
        ("WARNING", {"memPercent": 86.4}, Level.WARNING, 0.0),
        ("STALE", {"swapPercent": 92.5}, None, None),  # old figures: neither a level nor a figure
        ("ERROR", {}, None, None),
    ],
)
def test_upper_case_statuses_and_the_figures_give_the_level(status, figures, level, swap):
    lines = [
        event("10:00:00", "cycle_start", model="m"),
        metrics("10:00:05", status, **figures),
        event("10:01:00", "cycle_complete", steps=[]),
    ]
    (read,) = parse("\n".join(lines).encode(), "a", Thresholds(), cores=4).cycles
    assert read.level is level and read.swap_percent == swap


def test_a_stale_reading_leaves_the_figures_of_a_good_one():
    lines = [
        event("10:00:00", "cycle_start", model="m"),
        metrics("10:00:05", "HEALTHY", swapPercent=3.0),
        metrics("10:00:30", "STALE", swapPercent=60.0),
        event("10:00:31", "vps_metrics_stale", ageMinutes=4.2, lastTimestamp="2025-06-12T09:56:18Z"),
        event("10:00:32", "vps_metrics_error", error="metrics_file_not_found"),
        event("10:01:00", "cycle_complete", steps=[]),
    ]
    (read,) = parse("\n".join(lines).encode(), "a", Thresholds(), cores=4).cycles
    assert read.swap_percent == 3.0 and read.level is Level.OK


def test_actions_are_the_tool_calls_and_worker_events_in_time_order():
    steps = [
        {"toolCalls": [{"name": "getVPSMetrics", "args": {}}, {"name": "spawnWorker", "args": {"task": "t"}}]},
        {"toolCalls": [{"name": "checkWorkerStatus", "args": {"taskId": TASK}}], "text": "  "},
        {"text": "All done.\nSwap is fine."},
    ]
    lines = [
        event("10:00:00", "cycle_start", model="m"),
        event("10:00:04", "tool_result", tool="getVPSMetrics", success=True, summary="{}", args="{}"),
        event("10:00:09", "worker_task_created", taskId=TASK, task="t"),
        event("10:00:10", "worker_spawned", taskId=TASK, containerName="pixel-worker-3f2a9c1d"),
        event("10:00:11", "tool_result", tool="spawnWorker", success=True, summary="{}", args="{}"),
        event("10:00:20", "worker_spawn_rejected", reason="cooldown_after_failure", waitSeconds=42, lastTaskId=TASK),
        event("10:00:30", "worker_status_updated", taskId="0d1f6a3c-2b4e-4c7d", status="failed", exitCode=-1),
        event(
            "10:00:40", "tool_result", tool="checkWorkerStatus", success=False, summary="Error:\n  gone " + "x" * 300
        ),
        event("10:01:00", "cycle_complete", steps=steps),
        event("10:01:01", "worker_cleanup", aborted=0, removed=0, orphaned=0),  # nothing done: no action
        event("10:01:02", "worker_cleanup", aborted=1, removed=0, orphaned=2),
        event("10:01:03", "schedule_set", nextRunAt="2025-06-12T11:00:00.000Z", reason="r", delayMs=3600000),
    ]
    (read,) = parse("\n".join(lines).encode(), "a", Thresholds(), cores=4).cycles
    failed = read.actions[5]
    assert read.actions[:5] == (
        "tool getVPSMetrics",
        "worker.spawned pixel-worker-3f2a9c1d",
        "tool spawnWorker",
        "worker.spawn_rejected cooldown_after_failure, wait 42s",
        "worker.failed pixel-worker-0d1f6a3c exit -1",  # the orchestrator's name for a task's worker
    )
    assert failed.startswith("tool checkWorkerStatus failed: Error: gone xxx") and len(failed) < 240
    assert failed.endswith("…") and "\n" not in failed
    assert read.actions[6:] == ("worker.cleanup aborted 1, orphaned 2",)
    assert read.notes == "All done.\nSwap is fine." and read.workers == 2 and read.timed_out == 0
    assert read.ended_at is not None and read.duration_s == 60.0


def test_a_failed_cycle_takes_its_actions_from_its_tool_results():
    lines = [
        event("10:00:00", "cycle_start", model="m"),
        event("10:00:04", "tool_result", tool="getVPSMetrics", success=True, summary="{}", args="{}"),
        event("10:00:08", "tool_result", tool="gitSync", success=False, summary="rejected: non-fast-forward"),
        event("10:00:09", "cycle_error", error="No output generated"),
        event("10:00:10", "consecutive_failure", count=3),
        event("10:00:11", "circuit_breaker_engaged", count=3, delayMs=1800000),
        event("10:00:12", "cycle_skipped", reason="overlapping_cycle"),
    ]
    (read,) = parse("\n".join(lines).encode(), "a", Thresholds(), cores=4).cycles
    assert read.actions == (
        "tool getVPSMetrics",
        "tool gitSync failed: rejected: non-fast-forward",
        "cycle.error No output generated",
        "cycle.skipped overlapping_cycle",
    )
    assert read.duration_s == 9.0 and read.notes is None


def test_cycle_boundaries_unfinished_cycles_second_ends_and_bad_starts():
    lines = [
        event("09:59:00", "tool_result", tool="x", success=True, summary="", args=""),  # 1: a cut-off cycle's end
        event("09:59:01", "cycle_complete", steps=[]),  # 2: passed over, not reported
        event("10:00:00", "cycle_start", model="m"),  # 3: never ends: a rate limit used every retry
        event("10:00:05", "model_fallback", **{"from": "a", "to": "b", "reason": "rate_limit"}),
        *cycle("11:00"),  # 5-7
        event("11:02:00", "cycle_error", error="late"),  # 8: that cycle already ended
        '{"timestamp":"at noon","type":"cycle_start","model":"m"}',  # 9: its events are nobody's
        event("12:00:05", "vps_metrics", status="CRITICAL", swapPercent=99.0, load1=1.0),
        event("12:01:00", "cycle_complete", steps=[]),
        *cycle("11:00"),  # 12-14: a second cycle_start at the same time
        event("13:00:00", "worker_spawned", taskId=TASK),  # 15: after a refused start: passed over
    ]
    parsed = parse("\n".join(lines).encode(), "a", Thresholds(), cores=4)
    assert [c.started_at.strftime("%H:%M") for c in parsed.cycles] == ["10:00", "11:00"]
    unfinished, whole = parsed.cycles
    assert unfinished.ended_at is None and unfinished.duration_s is None
    assert unfinished.actions == ("cycle.unfinished: no cycle_complete or cycle_error before the next cycle_start",)
    assert "worker.spawned pixel-worker-3f2a9c1d" not in whole.actions and whole.level is Level.OK
    assert [(s.line, s.reason) for s in parsed.skipped] == [
        (8, "cycle_error of the cycle started on line 5, which already ended on line 7"),
        (9, "timestamp: 'at noon' is not an ISO-8601 time"),
        (12, "a cycle already started at this time, on line 5"),
    ]
