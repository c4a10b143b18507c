"""The headless commands as a script or cron job runs them: output, exit codes, errors."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest

from tests.schema import check_snapshot

MISSING = "unix:///nonexistent/pixel-test.sock"


# Limits no host reaches, so that the engine alone decides the exit code whatever load the machine has.
CALM = "[thresholds]\n" + "".join(
    f"{gauge} = [1000, 1000, 1000]\n" for gauge in ("cpu", "memory", "swap", "disk", "load")
)


@pytest.fixture
def calm(tmp_path):
    config = tmp_path / "calm.toml"
    config.write_text(CALM)
    return str(config)


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pixel_tui", *args], capture_output=True, text=True, timeout=timeout)


def test_snapshot_json_without_an_engine_is_valid_and_unknown(calm):
    result = run("--config", calm, "snapshot", "--json", "--sample", "0.2", "--docker-host", MISSING)
    assert result.returncode == 3, result.stderr
    doc = json.loads(result.stdout)
    check_snapshot(doc)
    assert doc["docker"] == {
        "reachable": False,
        "error": "no Docker socket at /nonexistent/pixel-test.sock",
        "host": MISSING,
        "version": None,
        "context": None,
    }
    assert doc["containers"] == [] and doc["ledger"] is None and doc["lock"] is None
    assert doc["host"]["cpu_percent"] is not None, "two samples give a real CPU figure"


def test_common_options_before_and_after_the_subcommand(tmp_path):
    ledger = tmp_path / "ledger.json"
    ledger.write_text('{"version": 1, "tasks": []}')
    before = run("--docker-host", MISSING, "--ledger", str(ledger), "snapshot", "--json", "--sample", "0.1")
    after = run("snapshot", "--json", "--sample", "0.1", "--docker-host", MISSING, "--ledger", str(ledger))
    for result in (before, after):
        doc = json.loads(result.stdout)
        assert doc["docker"]["host"] == MISSING
        assert doc["ledger"] == {"path": str(ledger), "readable": True, "error": None, "tasks": 0}


def test_snapshot_table_names_the_problem(calm):
    result = run(
        "--config",
        calm,
        "snapshot",
        "--sample",
        "0.1",
        "--docker-host",
        MISSING,
        "--ledger",
        "/nonexistent/ledger.json",
    )
    assert result.returncode == 3
    assert "UNREACHABLE: no Docker socket at /nonexistent/pixel-test.sock" in result.stdout
    assert "ledger /nonexistent/ledger.json: UNREADABLE: no such file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_snapshot_exit_code_follows_the_level(tmp_path):
    # Thresholds so low that the host is critical whatever it does: exit 2 even without an engine.
    config = tmp_path / "config.toml"
    config.write_text(CALM.replace("disk = [1000, 1000, 1000]", "disk = [0, 0, 0]"))
    result = run("--config", str(config), "snapshot", "--json", "--sample", "0.1", "--docker-host", MISSING)
    assert result.returncode == 2
    assert json.loads(result.stdout)["levels"]["disk"] == "critical"
    config.write_text(CALM.replace("disk = [1000, 1000, 1000]", "disk = [0, 0, 100]"))
    result = run("--config", str(config), "snapshot", "--json", "--sample", "0.1", "--docker-host", MISSING)
    assert result.returncode == 1


def test_watch_plain_prints_one_line_per_cycle(calm):
    result = run("--config", calm, "watch", "--plain", "--count", "3", "--interval", "0.2", "--docker-host", MISSING)
    assert result.returncode == 3, result.stderr  # N lines that could not see the engine: unknown
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line)
        for key in ("overall", "cpu", "mem", "swap", "disk", "load", "containers", "workers", "timed_out", "phantoms"):
            assert re.search(rf" {key}=\S+", line), key
        assert line.endswith('docker=unreachable "no Docker socket at /nonexistent/pixel-test.sock"')


def test_watch_plain_count_exits_with_the_worst_level_it_printed(tmp_path):
    config = tmp_path / "critical.toml"
    config.write_text(CALM.replace("disk = [1000, 1000, 1000]", "disk = [0, 0, 0.001]"))
    result = run("--config", str(config), "watch", "--plain", "--count", "2", "--interval", "0.2",
                 "--docker-host", MISSING)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert all(" overall=critical " in line for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("snapshot", "--interval", "0"), "must be from 0.1 to 3600 seconds"),
        (("snapshot", "--interval", "0.000001"), "must be from 0.1 to 3600 seconds"),
        (("snapshot", "--sample", "1e308"), "must be from 0.1 to 60 seconds"),
        (("snapshot", "--sample", "nan"), "must be from 0.1 to 60 seconds"),
        (("watch", "--count", "2"), "--count needs --plain"),
        (("--read-only", "--autoheal"), "contradict"),
        (("watch", "--plain", "--autoheal"), "--autoheal cannot be used with watch"),
        (("watch", "--plain", "--count", "zero"), "not a whole number"),
        (("frobnicate",), "invalid choice"),
        (("--config", "/nonexistent/config.toml", "snapshot"), "no such config file"),
    ],
)
def test_bad_input_exits_unknown_with_a_message(args, message):
    result = run(*args)
    assert result.returncode == 3
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_config_value_names_the_key(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[thresholds]\nswap = 'high'\n")
    result = run("--config", str(config), "snapshot")
    assert result.returncode == 3
    assert "thresholds.swap" in result.stderr


def test_locate_prints_paths_under_the_seam(tmp_path, monkeypatch):
    monkeypatch.setenv("PIXEL_TUI_HOME", str(tmp_path))
    result = run("locate")
    assert result.returncode == 0
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["config"].startswith(str(tmp_path / "config" / "config.toml"))
    assert lines["audit log"] == str(tmp_path / "state" / "audit.jsonl")
    assert lines["history"] == str(tmp_path / "data" / "history.sqlite3")


def test_snapshot_json_on_a_real_engine_field_by_field(engine, tmp_path):
    worker = engine.run("sleep 600", name="pixel-worker-0a0b0c0d", labels={"pixel.timeout": "3600"}, mem_limit="32m")
    engine.run("sleep 600", name="pixel-worker-logs-1")
    ledger = tmp_path / "ledger.json"
    ledger.write_text(
        json.dumps(
            {
                "version": 1,
                "tasks": [
                    {
                        "id": "0a0b0c0d-1111-4000-8000-000000000000",
                        "status": "running",
                        "startedAt": "2026-01-03T09:21:07+00:00",
                        "workerId": worker.id[:12],
                    },
                    {
                        "id": "99999999-1111-4000-8000-000000000000",
                        "status": "running",
                        "createdAt": "2026-01-03T09:21:07.123Z",
                    },
                ],
            }
        )
    )
    lock = tmp_path / "worker.lock"
    lock.write_text(json.dumps({"taskId": "77777777-dead", "createdAt": "2026-01-03T09:00:00Z"}))
    config = tmp_path / "config.toml"
    config.write_text(f'[workers]\nlock_file = "{lock}"\n')
    result = run(
        "--config",
        str(config),
        "snapshot",
        "--json",
        "--sample",
        "0.5",
        "--docker-host",
        engine.url,
        "--ledger",
        str(ledger),
    )
    assert result.returncode in (0, 1, 2), result.stderr  # reachable: the host's level decides
    doc = json.loads(result.stdout)
    check_snapshot(doc)
    assert result.returncode == {"ok": 0, "careful": 0, "warning": 1, "critical": 2}[doc["levels"]["overall"]]
    assert doc["docker"]["reachable"] and doc["docker"]["version"]
    rows = {row["name"]: row for row in doc["containers"]}
    assert rows["pixel-worker-0a0b0c0d"]["mem_limit"] == 32 * 1024 * 1024
    assert rows["pixel-worker-0a0b0c0d"]["cpu_percent"] is not None, "two samples: a real CPU figure"
    assert rows["pixel-worker-0a0b0c0d"]["labels"] == {"pixel.timeout": "3600"}
    workers = {row["task_id"]: row for row in doc["workers"]}
    assert set(workers) == {"0a0b0c0d-1111-4000-8000-000000000000", "99999999-1111-4000-8000-000000000000"}
    live = workers["0a0b0c0d-1111-4000-8000-000000000000"]
    assert live["container"] == "pixel-worker-0a0b0c0d" and live["container_id"] == worker.id
    assert live["timeout_s"] == 3600 and live["timed_out"] is False and live["phantom"] is None
    ghost = workers["99999999-1111-4000-8000-000000000000"]
    assert ghost["phantom"] == "ghost" and ghost["container"] is None and ghost["state"] == "missing"
    assert doc["ledger"] == {"path": str(ledger), "readable": True, "error": None, "tasks": 2}
    assert doc["lock"]["task_id"] == "77777777-dead" and doc["lock"]["stale"] is True
    assert doc["lock"]["age_s"] > 3600


def test_interrupt_and_terminate_end_quietly():
    command = [sys.executable, "-m", "pixel_tui"]
    snapshot = subprocess.Popen(
        [*command, "snapshot", "--sample", "30", "--docker-host", MISSING],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal's foreground: a suite run in the background (`make test &`) hands its children
        # SIGINT ignored, and Python then leaves Ctrl+C ignored too.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    watch = subprocess.Popen(
        [*command, "watch", "--plain", "--interval", "0.2", "--docker-host", MISSING],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Two lines of the watch first (however slow the machine starts Python), then the signals.
    first = [watch.stdout.readline(), watch.stdout.readline()]  # type: ignore[union-attr]
    snapshot.send_signal(signal.SIGINT)
    watch.send_signal(signal.SIGTERM)
    _, snapshot_err = snapshot.communicate(timeout=10)
    watch_out, watch_err = watch.communicate(timeout=10)
    assert (snapshot.returncode, snapshot_err) == (130, "")
    assert (watch.returncode, watch_err) == (0, "")
    watch_out = "".join(first) + watch_out
    assert watch_out.count("overall=") >= 2 and watch_out.endswith("\n")
