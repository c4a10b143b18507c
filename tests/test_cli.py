"""The headless commands as a script or cron job runs them: output, exit codes, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.schema import check_snapshot

MISSING = "unix:///nonexistent/pixel-test.sock"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pixel_tui", *args], capture_output=True, text=True, timeout=timeout)


def test_snapshot_json_without_an_engine_is_valid_and_unknown():
    result = run("snapshot", "--json", "--sample", "0.2", "--docker-host", MISSING)
    assert result.returncode == 3, result.stderr
    doc = json.loads(result.stdout)
    check_snapshot(doc)
    assert doc["docker"] == {
        "reachable": False,
        "error": "no Docker socket at /nonexistent/pixel-test.sock",
        "host": MISSING,
        "version": None,
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


def test_snapshot_table_names_the_problem():
    result = run("snapshot", "--sample", "0.1", "--docker-host", MISSING, "--ledger", "/nonexistent/ledger.json")
    assert result.returncode == 3
    assert "UNREACHABLE: no Docker socket at /nonexistent/pixel-test.sock" in result.stdout
    assert "ledger /nonexistent/ledger.json: UNREADABLE: no such file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_snapshot_exit_code_follows_the_level(tmp_path):
    # Thresholds so low that the host is critical whatever it does: exit 2 even without an engine.
    config = tmp_path / "config.toml"
    config.write_text("[thresholds]\ndisk = [0, 0, 0]\n")
    result = run("--config", str(config), "snapshot", "--json", "--sample", "0.1", "--docker-host", MISSING)
    assert result.returncode == 2
    assert json.loads(result.stdout)["levels"]["disk"] == "critical"
    config.write_text("[thresholds]\ndisk = [0, 0, 100]\n")
    result = run("--config", str(config), "snapshot", "--json", "--sample", "0.1", "--docker-host", MISSING)
    assert result.returncode == 1


def test_watch_plain_prints_one_line_per_cycle():
    result = run("watch", "--plain", "--count", "3", "--interval", "0.2", "--docker-host", MISSING)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line)
        for key in ("overall", "cpu", "mem", "swap", "disk", "load", "containers", "workers", "timed_out", "phantoms"):
            assert re.search(rf" {key}=\S+", line), key
        assert line.endswith('docker=unreachable "no Docker socket at /nonexistent/pixel-test.sock"')


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("snapshot", "--interval", "0"), "must be a positive number"),
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
