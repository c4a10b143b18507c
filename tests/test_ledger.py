"""The ledger and lock file are read as the orchestrator writes them, and bad files never crash."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from pixel_tui.ledger import LedgerReader, read_lock
from pixel_tui.values import parse_time_or_none

# The orchestrator's exact shape: camelCase, {"version": 1, "tasks": [...]}, mixed timestamp forms.
ORCHESTRATOR_LEDGER = {
    "version": 1,
    "tasks": [
        {
            "id": "3f2a9c1d-5b6e-4c2a-9d1e-0a1b2c3d4e5f",
            "type": "code",
            "status": "running",
            "createdAt": "2026-01-03T09:21:07.123Z",
            "startedAt": "2026-01-03T09:21:07+00:00",
            "workerId": "0123456789ab",
            "payload": {"note": "kept as is"},
        },
        {
            "id": "77aa00bb-0000-4000-8000-000000000000",
            "status": "completed",
            "createdAt": "2026-01-03T08:00:00Z",
            "startedAt": "2026-01-03T08:00:01.5+00:00",
            "completedAt": "2026-01-03T08:10:00Z",
            "exitCode": 0,
        },
    ],
}


def write(path, content: bytes | str) -> None:
    path.write_bytes(content.encode() if isinstance(content, str) else content)


def test_orchestrator_camel_case_ledger_is_read_field_by_field(tmp_path):
    ledger = tmp_path / "ledger.json"
    write(ledger, json.dumps(ORCHESTRATOR_LEDGER))
    state, tasks = LedgerReader(ledger).read()
    assert state.readable and state.error is None and state.tasks == 2
    running, done = tasks
    assert running.id == "3f2a9c1d-5b6e-4c2a-9d1e-0a1b2c3d4e5f"
    assert running.status == "running" and running.running and not running.terminal
    assert running.started_at == datetime(2026, 1, 3, 9, 21, 7, tzinfo=UTC)
    assert running.created_at == datetime(2026, 1, 3, 9, 21, 7, 123000, tzinfo=UTC)
    assert running.worker_id == "0123456789ab"
    assert running.raw["payload"] == {"note": "kept as is"}
    assert done.terminal and done.completed_at == datetime(2026, 1, 3, 8, 10, tzinfo=UTC)
    assert done.started_at == datetime(2026, 1, 3, 8, 0, 1, 500000, tzinfo=UTC)


def test_snake_case_list_at_top_level(tmp_path):
    ledger = tmp_path / "ledger.json"
    tasks = [
        {"id": "abc", "status": "running", "started_at": "2026-01-03T09:21:07Z", "worker": "ffee", "timeout_s": 90}
    ]
    write(ledger, json.dumps(tasks))
    state, index = LedgerReader(ledger).read()
    parsed = list(index)
    assert state.readable and parsed[0].worker_id == "ffee" and parsed[0].timeout_s == 90.0
    assert parsed[0].started_at == datetime(2026, 1, 3, 9, 21, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b'{"version": 1, "tasks": [{"id": "a", "status": "runn', "truncated JSON"),
        (b"{not json at all}\n", "not JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"version": 1, "jobs": []}', "unexpected shape"),
        (b'"just a string"', "unexpected shape"),
        (b'{"tasks": [42]}', "task #1 is not an object"),
        (b'{"tasks": [{"status": "running"}]}', "task #1 has no id"),
    ],
)
def test_bad_ledgers_give_a_clear_error_and_no_tasks(tmp_path, content, reason):
    ledger = tmp_path / "ledger.json"
    write(ledger, content)
    state, tasks = LedgerReader(ledger).read()
    assert not state.readable and tasks is None
    assert reason in state.error


def test_missing_ledger_and_directory(tmp_path):
    state, tasks = LedgerReader(tmp_path / "nope.json").read()
    assert (state.readable, state.error, tasks) == (False, "no such file", None)
    state, tasks = LedgerReader(tmp_path).read()
    assert not state.readable and "directory" in state.error


def test_last_good_reading_is_not_passed_on_when_the_file_breaks(tmp_path):
    ledger = tmp_path / "ledger.json"
    write(ledger, json.dumps(ORCHESTRATOR_LEDGER))
    reader = LedgerReader(ledger)
    assert reader.read()[0].readable
    write(ledger, b'{"tasks": [')
    state, tasks = reader.read()
    assert not state.readable and tasks is None


def test_reader_parses_again_only_when_the_file_changes(tmp_path):
    ledger = tmp_path / "ledger.json"
    write(ledger, json.dumps(ORCHESTRATOR_LEDGER))
    reader = LedgerReader(ledger)
    first = reader.read()
    assert reader.read() is first  # unchanged file: the cached reading
    replacement = tmp_path / "ledger.tmp"
    write(replacement, json.dumps({"version": 1, "tasks": []}))
    os.replace(replacement, ledger)  # the orchestrator's temp file + rename
    state, tasks = reader.read()
    assert state.tasks == 0 and list(tasks) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-03T09:21:07Z", datetime(2026, 1, 3, 9, 21, 7, tzinfo=UTC)),
        ("2026-01-03T09:21:07.123456789Z", datetime(2026, 1, 3, 9, 21, 7, 123456, tzinfo=UTC)),
        ("2026-01-03T10:21:07+01:00", datetime(2026, 1, 3, 9, 21, 7, tzinfo=UTC)),
        ("2026-01-03T09:21:07", datetime(2026, 1, 3, 9, 21, 7, tzinfo=UTC)),
        (1767432067, datetime(2026, 1, 3, 9, 21, 7, tzinfo=UTC)),
        (1767432067000, datetime(2026, 1, 3, 9, 21, 7, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_time_forms(text, expected):
    assert parse_time_or_none(text) == expected


def test_lock_file(tmp_path):
    lock = tmp_path / "worker.lock"
    assert read_lock(lock).task_id is None  # absent: not held
    created = datetime.now(UTC) - timedelta(minutes=5)
    write(lock, json.dumps({"taskId": "3f2a9c1d-aaaa", "createdAt": created.isoformat()}))
    reading = read_lock(lock)
    assert reading.task_id == "3f2a9c1d-aaaa" and reading.created_at == created and reading.error is None
    write(lock, b"{half")
    assert read_lock(lock).error == "not a JSON lock file"
