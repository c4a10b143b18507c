"""What anyone who can start a container or write the ledger could do to pixel-tui, and why they no longer can.

Each test reproduces one finding of the hardening review: on the real test engine where a container is
involved, through the real command line where a script would meet it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from pixel_tui.headless import EXIT_UNKNOWN, exit_code, render_table
from pixel_tui.model import Disk, Level, Levels, Worker
from pixel_tui.settings import Thresholds
from tests.schema import check_snapshot
from tests.scripted import crisis_frame
from tests.test_cli import CALM

EVIL = "\x1b]0;pwned\x07\x1b[41mEVIL\x1b[2J"
"""A task id that would retitle the terminal, paint it red and clear it."""


def run(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixel_tui", *args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def strict_json(text: str) -> dict:
    """JSON as the standard defines it: no NaN or Infinity."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the output is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def calm(tmp_path):
    config = tmp_path / "calm.toml"
    config.write_text(CALM)
    return config


def test_escape_sequences_in_labels_reach_the_table_as_visible_text(engine, calm):
    engine.run("sleep 600", name="pixel-worker-deadbeef", labels={"pixel.task": EVIL}, environment={"X": EVIL})
    result = run("--config", str(calm), "snapshot", "--sample", "0.1", "--docker-host", engine.url)
    assert result.returncode in (0, 1), result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b]0;pwned\\x07\\x1b[41mEVIL\\x1b[2J" in result.stdout
    as_json = run("--config", str(calm), "snapshot", "--json", "--sample", "0.1", "--docker-host", engine.url)
    (worker,) = strict_json(as_json.stdout)["workers"]
    assert worker["task_id"] == EVIL  # JSON keeps the exact value; its own escaping makes it safe


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "1e999", "soon"])
def test_an_unusable_timeout_label_is_reported_and_the_default_applies(engine, calm, value):
    engine.run("sleep 600", name="pixel-worker-0000000a", labels={"pixel.timeout": value})
    table = run("--config", str(calm), "snapshot", "--sample", "0.1", "--docker-host", engine.url)
    assert table.returncode in (0, 1) and "Traceback" not in table.stderr, table.stderr
    assert f"label pixel.timeout {value!r}" in table.stdout  # under "problems:"
    result = run("--config", str(calm), "snapshot", "--json", "--sample", "0.1", "--docker-host", engine.url)
    doc = strict_json(result.stdout)
    check_snapshot(doc)
    (worker,) = doc["workers"]
    assert worker["timeout_s"] == 2760.0
    assert any("pixel-worker-0000000a: label pixel.timeout" in error for error in doc["errors"])


def test_an_unusable_env_timeout_falls_through_to_the_ledger_then_the_default(engine, calm, tmp_path):
    engine.run("sleep 600", name="pixel-worker-0000000b", environment={"WORKER_TIMEOUT_SECONDS": "1e999"})
    ledger = tmp_path / "ledger.json"
    # Python's json would write Infinity; an orchestrator writing 1e999 is what a reader meets.
    ledger.write_text('{"tasks": [{"id": "0000000b-1", "status": "running", "timeoutSeconds": 1e999}]}')
    result = run("--config", str(calm), "snapshot", "--json", "--sample", "0.1", "--docker-host", engine.url,
                 "--ledger", str(ledger))  # fmt: skip
    doc = strict_json(result.stdout)
    (worker,) = doc["workers"]
    assert worker["task_id"] == "0000000b-1" and worker["timeout_s"] == 2760.0
    assert any("WORKER_TIMEOUT_SECONDS '1e999'" in error for error in doc["errors"])
    assert any("ledger task 0000000b-1: timeoutSeconds inf" in error for error in doc["errors"])


def test_ledger_dates_out_of_range_are_reported_not_read_as_1970(engine, calm, tmp_path):
    ledger = tmp_path / "ledger.json"
    tasks = [
        {"id": "ghost-before-year-one", "status": "running", "startedAt": "0001-01-01T00:30:00+05:00"},
        {"id": "ghost-at-twelve", "status": "running", "startedAt": 12, "createdAt": "9999-12-31T23:59:59-05:00"},
    ]
    ledger.write_text(json.dumps({"version": 1, "tasks": tasks}))
    args = ("--config", str(calm), "snapshot", "--sample", "0.1", "--docker-host", engine.url, "--ledger", str(ledger))
    table = run(*args)
    assert "Traceback" not in table.stderr and table.returncode in (0, 1), table.stderr
    doc = strict_json(run(*args, "--json").stdout)
    check_snapshot(doc)
    errors = "\n".join(doc["errors"])
    assert "ghost-before-year-one: startedAt '0001-01-01T00:30:00+05:00' is out of range" in errors
    assert "ghost-at-twelve: createdAt" in errors and "startedAt 12 is not a plausible epoch time" in errors
    assert all(worker["started_at"] is None for worker in doc["workers"])  # never 1970


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda path: os.mkfifo(path), "not a regular file (a FIFO)"),
        (lambda path: os.symlink("/dev/zero", path), "not a regular file (a character device)"),
        (lambda path: path.mkdir(), "not a regular file (a directory)"),
    ],
    ids=["fifo", "dev-zero", "directory"],
)
def test_a_ledger_that_is_not_a_regular_file_is_refused_at_once(tmp_path, calm, make, reason):
    ledger = tmp_path / "ledger.json"
    make(ledger)
    started = time.monotonic()
    result = run("--config", str(calm), "snapshot", "--json", "--sample", "0.1", "--ledger", str(ledger),
                 "--docker-host", "unix:///nonexistent/pixel.sock", timeout=30)  # fmt: skip
    assert time.monotonic() - started < 20
    assert strict_json(result.stdout)["ledger"]["error"] == reason


def test_a_lock_file_that_is_a_fifo_is_reported(tmp_path):
    lock = tmp_path / "worker.lock"
    os.mkfifo(lock)
    config = tmp_path / "config.toml"
    config.write_text(f'{CALM}\n[workers]\nlock_file = "{lock}"\n')
    result = run("--config", str(config), "snapshot", "--sample", "0.1", "--docker-host", "unix:///nonexistent/p.sock",
                 timeout=30)  # fmt: skip
    assert f"lock {lock}: UNREADABLE: not a regular file (a FIFO)" in result.stdout


def test_a_ledger_over_the_size_cap_is_refused_with_the_figures(tmp_path):
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"tasks": [{"id": str(n), "status": "completed"} for n in range(100)]}))
    config = tmp_path / "config.toml"
    config.write_text(f"{CALM}\n[workers]\nledger_max_bytes = 1000\n")
    result = run("--config", str(config), "snapshot", "--json", "--sample", "0.1", "--ledger", str(ledger),
                 "--docker-host", "unix:///nonexistent/pixel.sock")  # fmt: skip
    size = ledger.stat().st_size
    assert strict_json(result.stdout)["ledger"]["error"] == f"too large: {size} bytes, the limit is 1000"


def test_a_config_that_is_a_fifo_is_a_config_error(tmp_path):
    config = tmp_path / "config.toml"
    os.mkfifo(config)
    result = run("--config", str(config), "locate", timeout=20)
    assert result.returncode == EXIT_UNKNOWN and "not a regular file (a FIFO)" in result.stderr


@pytest.mark.parametrize("args", [(), ("watch",), ("console",)])
def test_the_console_without_a_terminal_refuses_and_names_the_headless_commands(args):
    started = time.monotonic()
    result = run(*args, "--docker-host", "unix:///nonexistent/pixel.sock", timeout=20, stdin=subprocess.DEVNULL)
    assert time.monotonic() - started < 15
    assert result.returncode == EXIT_UNKNOWN and result.stdout == ""
    assert "needs a terminal" in result.stderr
    assert "watch --plain" in result.stderr and "snapshot" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("snapshot", "--json", "--sample", "0.1"),
        ("snapshot", "--sample", "0.1"),
        ("locate",),
        ("watch", "--plain", "--count", "1", "--interval", "0.1"),
    ],  # fmt: skip
)
def test_a_full_disk_is_one_line_on_stderr_not_a_traceback(args):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "pixel_tui", *args, "--docker-host", "unix:///nonexistent/pixel.sock"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=30,
        )  # fmt: skip
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "pixel-tui: cannot write the output: No space left on device"
    assert result.returncode == EXIT_UNKNOWN


def _host_with_disks(*disks: Disk):
    from dataclasses import replace

    return replace(crisis_frame(17).host, disks=disks)


def test_each_disk_row_shows_its_own_level_and_an_unmeasured_mount_is_unknown():
    from dataclasses import replace

    host = _host_with_disks(
        Disk("/", 100, 10, 10.0),
        Disk("/srv", 100, 90, 90.0),
        Disk("/gone", None, None, None, error="/gone: No such file or directory"),
    )
    frame = crisis_frame(17)
    levels = Levels.of(host, Thresholds())
    snapshot = replace(frame, host=host, levels=levels)
    rows = {line.split()[1]: line for line in render_table(snapshot).splitlines() if line.startswith("disk ")}
    assert " ok " in rows["/"] and "CRITICAL" not in rows["/"]
    assert "CRITICAL" in rows["/srv"]
    assert "unknown" in rows["/gone"] and "No such file" in rows["/gone"]
    calm = replace(snapshot, host=_host_with_disks(Disk("/", 100, 10, 10.0), Disk("/gone", None, None, None, "x")))
    calm = replace(calm, levels=Levels.of(calm.host, Thresholds(), workers=Level.OK))
    assert calm.levels.overall is not Level.CRITICAL and calm.levels.unmeasured_disks
    if calm.levels.overall in (Level.OK, Level.CAREFUL):
        assert exit_code(calm) == EXIT_UNKNOWN


def test_wide_characters_keep_the_table_aligned():
    from dataclasses import replace

    frame = crisis_frame(17)
    ghost = Worker("任务任务-1", "running", None, None, "missing", None, 120.0, 2760.0, False, "ghost")
    plain = Worker("abcd-2", "running", None, None, "missing", None, 120.0, 2760.0, False, "ghost")
    snapshot = replace(frame, workers=(ghost, plain))
    lines = [line for line in render_table(snapshot).splitlines() if line.startswith(("任务", "abcd-2", "TASK"))]
    assert len(lines) == 3

    def column_of(line: str, word: str) -> int:
        from pixel_tui.format import cells

        return cells(line[: line.index(word)])

    assert len({column_of(line, "(none)" if "TASK" not in line else "CONTAINER") for line in lines}) == 1


def test_a_timed_out_worker_makes_the_host_warning_and_snapshot_exit_1(engine, calm):
    engine.run("sleep 600", name="pixel-worker-0000000c", labels={"pixel.timeout": "1"})
    time.sleep(1.5)
    result = run("--config", str(calm), "snapshot", "--json", "--sample", "0.1", "--docker-host", engine.url)
    doc = strict_json(result.stdout)
    assert doc["workers"][0]["timed_out"]
    assert doc["levels"]["workers"] == "warning" and doc["levels"]["overall"] == "warning"
    assert result.returncode == 1


def test_workers_level_counts_phantoms_and_a_stale_lock():
    from pixel_tui.model import LockState, workers_level

    calm = Worker("t", "running", "w", "c", "running", None, 10.0, 2760.0, False)
    assert workers_level((calm,), None) is Level.OK
    assert workers_level((Worker("t", "completed", "w", "c", "running", None, 10.0, 2760.0, False, "orphan"),), None) \
        is Level.WARNING  # fmt: skip
    assert workers_level((calm,), LockState("/l", "x", 5.0, stale=True)) is Level.WARNING
