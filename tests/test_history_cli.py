"""`pixel-tui history` and `pixel-tui history import` as a person or a script runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pixel_tui.history.model import FIELDS
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.paths import default_paths
from pixel_tui.settings import HistorySettings
from tests.scripted import crisis_frame

FIXTURES = Path(__file__).parent / "fixtures"
AUDIT = FIXTURES / "orchestrator-audit.jsonl"
PLAIN = FIXTURES / "cycles-plain.jsonl"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line, in the test's PIXEL_TUI_HOME (set by conftest)."""
    return subprocess.run([sys.executable, "-m", "pixel_tui", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def imported() -> subprocess.CompletedProcess[str]:
    result = run("history", "import", str(AUDIT), "--first-cycle", "13", "--cores", "16")
    assert result.returncode == 0, result.stderr
    return result


def test_no_history_yet_prints_so_and_creates_nothing():
    result = run("history")
    assert result.returncode == 0 and result.stdout.strip() == "no cycles recorded yet"
    assert json.loads(run("history", "--json").stdout) == []
    assert run("history", "--csv").stdout.strip() == ",".join(FIELDS)
    assert not default_paths().history_db.exists()


def test_import_says_what_it_imported_and_skipped(imported):
    lines = imported.stdout.splitlines()
    assert lines[:5] == [
        "orchestrator-audit.jsonl (audit log): 6 cycles imported (13-18)",
        "numbering: from 13, the first import of this source",
        "load per core: load1 / 16 cores (--cores)",
        "already present: 0 cycles",
        "skipped: 5 lines:",
    ]
    assert [line.split(":")[0].strip() for line in lines[5:]] == ["line 42", "line 50", "line 57", "line 71", "line 80"]
    assert "line 50: timestamp: 'yesterday' is not an ISO-8601 time" in imported.stdout
    assert "line 80: this cycle has not ended yet" in imported.stdout
    again = run("history", "import", str(AUDIT))
    assert again.returncode == 0
    assert again.stdout.splitlines()[:3] == [
        "orchestrator-audit.jsonl (audit log): 0 cycles imported",
        "already present: 6 cycles (13-18)",
        "skipped: 5 lines:",
    ]
    later = run("history", "import", str(AUDIT), "--first-cycle", "1")
    assert later.stdout.splitlines()[1] == (
        "numbering: after 18, the last cycle this source holds "
        "(--first-cycle 1 applies to a source's first import only)"
    )


def test_without_cores_the_load_is_divided_by_this_hosts_cpu_count_and_the_output_says_so():
    result = run("history", "import", str(AUDIT))
    assert result.returncode == 0, result.stderr
    count = os.cpu_count()
    assert result.stdout.splitlines()[1:3] == [
        "numbering: from 1, the first import of this source (default)",
        f"load per core: load1 / {count} core{'' if count == 1 else 's'} "
        "(this host's CPU count; give --cores N for a log from another host)",
    ]
    cycles = json.loads(run("history", "--json").stdout)
    assert [c["cycle"] for c in cycles] == [1, 2, 3, 4, 5, 6]
    assert cycles[1]["load_per_core"] == round(3.85 / count, 3)


def test_the_audit_options_are_said_unused_on_plain_records():
    result = run("history", "import", str(PLAIN), "--first-cycle", "13", "--cores", "16")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "cycles-plain.jsonl (plain): 5 cycles imported (14-18)",
        "--first-cycle 13: not used, plain records carry their own numbers",
        "--cores 16: not used, plain records give the load per core (or their cores)",
    ]


def test_history_json_lists_cycle_objects_in_time_order(imported):
    cycles = json.loads(run("history", "--json").stdout)
    assert [tuple(cycle) for cycle in cycles] == [FIELDS] * 6
    assert [(c["cycle"], c["swap_percent"], c["source"]) for c in cycles] == [
        (13, 88.0, "orchestrator-audit.jsonl"),
        (14, 92.5, "orchestrator-audit.jsonl"),
        (15, 82.1, "orchestrator-audit.jsonl"),
        (16, 2.9, "orchestrator-audit.jsonl"),
        (17, 0.0, "orchestrator-audit.jsonl"),
        (18, 0.0, "orchestrator-audit.jsonl"),
    ]
    crisis = cycles[1]
    assert crisis["started_at"] == "2025-06-12T14:00:00.091000Z" and crisis["ended_at"] == "2025-06-12T14:06:40.091000Z"
    assert crisis["level"] == "critical" and crisis["method"] is None and crisis["duration_s"] == 400.0
    assert crisis["load_per_core"] == 0.241 and crisis["cpu_percent"] is None  # 3.85 / 16 cores
    assert crisis["swap_percent_mean"] is None and crisis["phantoms"] is None and crisis["containers"] is None
    assert cycles[-1]["actions"][5] == "worker.failed pixel-worker-3f2a9c1d exit 124 (timed out)"
    assert cycles[-1]["timed_out"] == 1 and cycles[-1]["level"] == "warning"


def test_history_last_and_csv(imported):
    last = json.loads(run("history", "--json", "--last", "2").stdout)
    assert [cycle["cycle"] for cycle in last] == [17, 18]
    rows = list(csv.DictReader(io.StringIO(run("history", "--csv", "--last", "3").stdout)))
    assert [row["cycle"] for row in rows] == ["16", "17", "18"]
    assert tuple(rows[0]) == FIELDS
    assert rows[0]["swap_percent"] == "2.9" and rows[0]["cpu_percent_mean"] == ""
    assert json.loads(rows[2]["actions"])[1] == "worker.spawned pixel-worker-3f2a9c1d"


def test_history_table_ends_with_the_recovery_line(imported):
    result = run("history")
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "CYCLE", "TIME", "(UTC)", "SWAP", "MEM", "DISK", "LOAD", "LEVEL", "METHOD/ACTIONS", "DURATION", "SOURCE"
    ]  # fmt: skip
    crisis = lines[2]
    for cell in (
        "14",
        "2025-06-12 14:00",
        "92.5%",
        "86.4%",
        "67.5%",
        "0.24",
        "CRITICAL",
        "tool getVPSMetrics;",
        "6m40s",
    ):
        assert cell in crisis
    assert lines[-1] == "swap 92.5% -> 0% (100% recovery) over cycles 14-18"
    assert run("history", "--last", "3").stdout.splitlines()[-1] == (
        "swap 2.9% -> 0% (100% recovery) over cycles 16-18"
    )


def test_own_and_imported_cycles_share_the_listing():
    ticks = [0.0]
    recorder = HistoryRecorder(default_paths().history_db, HistorySettings(cycle_s=60.0), clock=lambda: ticks[0])
    start = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    for step, arc in enumerate((14, 15, 16)):  # 0 s, 40 s, 80 s: the third sample closes cycle 1
        ticks[0] = step * 40.0
        recorder.record(replace(crisis_frame(arc), taken_at=start + timedelta(seconds=ticks[0])))
    recorder.add_action("worker.kill pixel-worker-3f2a9c1d ok")
    recorder.close()
    assert run("history", "import", str(PLAIN)).returncode == 0
    cycles = json.loads(run("history", "--json").stdout)
    assert [(c["source"], c["cycle"]) for c in cycles] == [
        *(("cycles-plain.jsonl", number) for number in range(14, 19)),
        ("pixel-tui", 1),
        ("pixel-tui", 2),
    ]
    first = cycles[-2]
    assert first["swap_percent"] == 92.5 and first["swap_percent_mean"] == pytest.approx((92.5 + 82.1) / 2)
    assert first["containers"] == 10 and first["timed_out"] == 1 and first["level"] == "critical"
    assert cycles[-1]["actions"] == ["worker.kill pixel-worker-3f2a9c1d ok"]


def test_text_from_a_file_never_reaches_the_terminal_raw(tmp_path: Path):
    hostile = tmp_path / "evil\x1b]0;owned\x07.jsonl"
    hostile.write_text(
        json.dumps({"cycle": 1, "time": "2025-06-12T14:00:00Z", "method": "\x1b[2J", "notes": "\x1b]0;pwned\x07"})
        + '\n{"cycle": "\x1b[31m", "time": "2025-06-12T14:00:00Z"}\n'
    )
    result = run("history", "import", str(hostile))
    assert result.returncode == 0 and "\x1b" not in result.stdout + result.stderr
    assert "\\x1b" in result.stdout
    for form in ((), ("--csv",)):
        output = run("history", *form).stdout
        assert "\x1b" not in output and "\x07" not in output and "\\x1b" in output
    document = json.loads(run("history", "--json").stdout)
    assert document[0]["notes"] == "\x1b]0;pwned\x07"  # JSON keeps it exact, escaped


def test_import_of_what_cannot_be_read_exits_3(tmp_path: Path):
    missing = run("history", "import", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 3 and "no such file" in missing.stderr
    directory = run("history", "import", str(tmp_path))
    assert directory.returncode == 3 and "not a regular file (a directory)" in directory.stderr
    assert "Traceback" not in missing.stderr + directory.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("history", "--json", "--csv"),
        ("history", "--last", "0"),
        ("history", "--json", "import", "x.jsonl"),
        ("history", "import"),
        ("history", "--autoheal"),
        ("history", "import", "x.jsonl", "--first-cycle", "0"),
        ("history", "import", "x.jsonl", "--first-cycle", "1.5"),
        ("history", "import", "x.jsonl", "--cores", "0"),
        ("history", "import", "x.jsonl", "--cores", "4097"),
        ("history", "--cores", "16"),
    ],
)
def test_usage_errors_exit_3(args):
    result = run(*args)
    assert result.returncode == 3 and "error:" in result.stderr


def test_an_unusable_store_is_reported_not_raised():
    path = default_paths().history_db
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 100)
    corrupt = run("history")
    assert corrupt.returncode == 3 and "history unavailable: the store is corrupt" in corrupt.stderr
    assert path.read_bytes() == b"not a database" * 100  # listing reports it; it does not move it
    imported = run("history", "import", str(PLAIN))
    assert imported.returncode == 0 and "moved aside" in imported.stderr
    assert "5 cycles imported" in imported.stdout

    path.unlink()
    for side in path.parent.glob("history.sqlite3*"):
        side.unlink()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 42")
    db.close()
    newer = run("history", "--json")
    assert newer.returncode == 3 and "schema version 42" in newer.stderr and newer.stdout == ""
