"""How a container ended and how its health check stands: read from the list, the inspect, and a real engine."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from pixel_tui.collect import Collector
from pixel_tui.collect.detail import detail_from_inspect
from pixel_tui.collect.listing import Inspected, exit_code_of, list_exit_code
from pixel_tui.safe import displayable
from pixel_tui.settings import Settings

HOSTILE = "\x1b]0;owned\x07[bold red]fake[/] \x1b[2J\nsecond line\ttab\r\n"
"""A health check's output as a hostile container could print it: a retitle, markup, a screen clear."""


def _inspect(**state: object) -> dict[str, object]:
    document: dict[str, object] = {
        "Id": "c" * 64,
        "Name": "/pixel-tui-worker-1a2b3c4d",
        "Config": {"Image": "busybox", "Env": ["WORKER_TIMEOUT_SECONDS=60"], "Cmd": ["sh"]},
        "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}, "Memory": 8 << 20},
        "RestartCount": 2,
        "State": {
            "Status": "exited",
            "ExitCode": 137,
            "OOMKilled": True,
            "StartedAt": "2026-12-06T12:00:00.123456789Z",
            "FinishedAt": "2026-12-06T12:03:04.5Z",
            "Pid": 0,
        },
    }
    document["State"].update(state)  # type: ignore[attr-defined]
    return document


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("Exited (137) 5 minutes ago", 137),
        ("Exited (0) About a minute ago", 0),
        ("Exited (-1) 2 hours ago", -1),
        ("Up 3 minutes (healthy)", None),
        ("Created", None),
        ("Dead", None),
        ("exited (1)", None),
    ],
)
def test_the_list_status_gives_an_exited_containers_code(status: str, code: int | None) -> None:
    assert list_exit_code(status) == code


def test_the_cached_inspect_gives_the_code_and_oom_when_the_list_does_not() -> None:
    inspected = Inspected.read(_inspect(), ("exited", None), "WORKER_TIMEOUT_SECONDS", 0.0)
    assert (inspected.exit_code, inspected.oom_killed, inspected.env_timeout) == (137, True, "60")
    assert exit_code_of({"Status": "Exited (1) now"}, inspected) == 1  # the list is newer than the cache
    assert exit_code_of({"Status": "Dead"}, inspected) == 137
    assert exit_code_of({"Status": "Dead"}, None) is None
    running = Inspected.read(_inspect(Status="running", ExitCode=0, OOMKilled=False), ("running", None), "X", 0.0)
    assert running.exit_code is None and not running.oom_killed


def test_the_detail_reads_times_exit_oom_restarts_and_the_health_check() -> None:
    data = _inspect(
        Health={
            "Status": "unhealthy",
            "FailingStreak": 4,
            "Log": [
                {"Start": "2026-12-06T12:00:30Z", "End": "2026-12-06T12:00:31Z", "ExitCode": 0, "Output": "ok\n"},
                {"Start": "2026-12-06T12:01:00Z", "End": "2026-12-06T12:01:01.25Z", "ExitCode": 1, "Output": HOSTILE},
            ],
        }
    )
    detail = detail_from_inspect(data)
    assert detail.started_at == datetime(2026, 12, 6, 12, 0, 0, 123456, tzinfo=UTC)
    assert detail.finished_at == datetime(2026, 12, 6, 12, 3, 4, 500000, tzinfo=UTC)
    assert (detail.exit_code, detail.oom_killed) == (137, True)
    assert (detail.restart_policy, detail.restart_retries, detail.restart_count) == ("on-failure", 5, 2)
    health = detail.health
    assert health is not None
    assert (health.status, health.failing_streak, health.exit_code) == ("unhealthy", 4, 1)
    assert health.ended_at == datetime(2026, 12, 6, 12, 1, 1, 250000, tzinfo=UTC)
    assert health.output == ("\x1b]0;owned\x07[bold red]fake[/] \x1b[2J", "second line tab")  # the last check's
    shown = displayable(detail).health
    assert shown is not None
    assert shown.output[0] == "\\x1b]0;owned\\x07[bold red]fake[/] \\x1b[2J"  # visible, harmless
    assert all("\x1b" not in line and "\x07" not in line for line in shown.output)


def test_never_started_never_finished_and_no_health_check() -> None:
    never = "0001-01-01T00:00:00Z"
    data = _inspect(Status="created", ExitCode=0, OOMKilled=False, StartedAt=never, FinishedAt=never)
    data["HostConfig"] = {"RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}}
    detail = detail_from_inspect(data)
    assert detail.started_at is None and detail.finished_at is None
    assert detail.exit_code is None and not detail.oom_killed and detail.health is None
    assert detail.restart_policy == "no" and detail.restart_retries is None


def _collect(engine) -> Collector:
    return Collector(Settings(docker_host=engine.url))


def _until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)


def test_a_real_engine_gives_exit_codes_oom_and_the_health_check(engine) -> None:
    failed = engine.run("sh -c 'exit 3'", name="pixel-tui-worker-1a2b3c4d-failed")
    killed = engine.run("sh -c 'tail /dev/zero'", name="pixel-tui-oom", mem_limit="8m", memswap_limit="8m")
    checked = engine.run(
        "sleep 600",
        name="pixel-tui-checked",
        healthcheck={
            "test": ["CMD-SHELL", "printf '\\033]0;owned\\007[b]down[/b]\\nline 2\\n'; exit 1"],
            "interval": 500_000_000,
            "retries": 1,
        },
    )
    _until(lambda: engine.client.api.inspect_container(failed.id)["State"]["Status"] == "exited")
    _until(lambda: engine.client.api.inspect_container(killed.id)["State"]["Status"] == "exited")
    checks = "health_checks" not in engine.LACKS  # podman without systemd never runs a check
    if checks:
        _until(lambda: engine.client.api.inspect_container(checked.id)["State"]["Health"]["FailingStreak"] >= 2)
    collector = _collect(engine)
    try:
        snapshot = collector.collect()
        rows = {container.name: container for container in snapshot.containers}
        assert (rows[failed.name].exit_code, rows[failed.name].oom_killed) == (3, False)
        oom = engine.client.api.inspect_container(killed.id)["State"]
        assert rows[killed.name].exit_code == oom["ExitCode"] == 137
        assert rows[killed.name].oom_killed is oom["OOMKilled"]  # True where the kernel's OOM killer is seen
        assert rows[checked.name].exit_code is None
        detail = collector.detail(checked.id)
    finally:
        collector.close()
    failed_detail = detail_from_inspect(engine.client.api.inspect_container(failed.id))
    assert failed_detail.exit_code == 3 and failed_detail.finished_at is not None
    engine.lacks("health_checks")  # exit codes and OOM held; what follows is the check it cannot run
    assert rows[checked.name].health == "unhealthy"
    assert detail.health is not None and detail.health.status == "unhealthy"
    assert detail.health.failing_streak >= 2 and detail.health.exit_code == 1
    assert detail.health.output == ("\x1b]0;owned\x07[b]down[/b]", "line 2")
    assert detail.started_at is not None and detail.finished_at is None and detail.exit_code is None
