"""`pixel-tui export` and `snapshot --prom-file`: what pixel-tui judges, as Prometheus reads it.

On the private engine, with the orchestrator's ledger and lock shapes; checked by Debian's promtool and, at
the end, scraped by a real Prometheus (its own config, storage and loopback port).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pixel_tui.export.audit_counts import AuditCounts
from pixel_tui.export.serve import ListenError, parse_listen
from tests.prometheus import PROMETHEUS, PROMTOOL, Exporter, Prometheus, host_config
from tests.remediation import past_its_timeout
from tests.test_cli import MISSING
from tests.test_remediate_engine import STUCK_TASK, ago, timed_out_worker

needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None and not os.environ.get("PIXEL_TUI_REQUIRE_DOCKER"), reason="prometheus (Debian) absent"
)
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("PIXEL_TUI_REQUIRE_DOCKER"), reason="promtool (Debian: prometheus) absent"
)
GHOST = "dddddddd-0000-4000-8000-000000000004"
RULES = Path(__file__).resolve().parents[1] / "pixel_tui" / "export" / "alerts.yml"
UNBOUNDED_LABELS = {"container", "name", "id", "task", "task_id", "worker", "image"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped[(name, tuple(sorted(labels.items())))]


def test_a_scrape_tells_what_pixel_tui_judges_on_the_real_engine(engine, tmp_path):
    stuck = past_its_timeout(timed_out_worker(engine))
    tasks = [
        {"id": STUCK_TASK, "status": "running", "startedAt": ago(600)},
        {"id": GHOST, "status": "running", "startedAt": ago(600)},
        {"id": "9e9e9e9e-0000-4000-8000-000000000009", "status": "completed", "createdAt": ago(900)},
        {"id": "7a7a7a7a-0000-4000-8000-000000000007", "status": "exotic"},
    ]
    config = host_config(tmp_path, tasks, lock=json.dumps({"taskId": GHOST, "createdAt": ago(600)}))
    audit = tmp_path / "home" / "state" / "audit.jsonl"
    exporter = Exporter(config, engine.url, tmp_path / "home")
    try:
        first = samples(exporter.scrape())
        audit.parent.mkdir(parents=True, exist_ok=True)
        records = [
            {"actor": "root", "action": "worker.kill", "outcome": "ok"},
            {"actor": "autoheal", "action": "workers.reap", "id": "a", "phase": "intent"},
            {"actor": "autoheal", "action": "workers.reap", "id": "a", "phase": "outcome", "outcome": "failed"},
            {"actor": "autoheal", "action": "container.restart", "outcome": "refused",
             "error": "autoheal gave up on api: 3 actions in 30 minutes did not resolve it; it needs a person"},
        ]  # fmt: skip
        audit.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"actor": "root", "act')  # a torn tail
        second = samples(exporter.scrape())
    finally:
        errors = exporter.stop()
    assert exporter.process.returncode == 0, errors
    assert value(first, "pixel_tui_engine_up") == 1
    assert value(first, "pixel_tui_workers", state="timed_out") == 1  # the stuck worker
    assert value(first, "pixel_tui_workers", state="ghost") == 1  # the running task with no container
    assert value(first, "pixel_tui_workers", state="orphan") == 0  # zeros are there, not absent
    assert value(first, "pixel_tui_level", resource="workers") == 2
    assert value(first, "pixel_tui_lock_held") == 1 and value(first, "pixel_tui_lock_stale") == 1
    assert value(first, "pixel_tui_ledger_readable") == 1
    by_status = {status: value(first, "pixel_tui_ledger_tasks", status=status)
                 for status in ("pending", "running", "completed", "failed", "aborted", "other")}  # fmt: skip
    assert by_status == {"pending": 0, "running": 2, "completed": 1, "failed": 0, "aborted": 0, "other": 1}
    stuck.reload()
    started = stuck.attrs["State"]["StartedAt"]
    assert abs(value(first, "pixel_tui_oldest_worker_start_timestamp_seconds") - _unix(started)) < 1
    assert value(first, "pixel_tui_remediation_actions_total", action="worker.kill", actor_kind="person",
                 outcome="ok") == 0  # fmt: skip
    assert value(second, "pixel_tui_remediation_actions_total", action="worker.kill", actor_kind="person",
                 outcome="ok") == 1  # fmt: skip
    assert (
        value(
            second,
            "pixel_tui_remediation_actions_total",
            action="workers.reap",
            actor_kind="autoheal",
            outcome="failed",
        )
        == 1
    )  # fmt: skip  (its intent line is not counted twice)
    assert value(second, "pixel_tui_autoheal_gave_up_total") == 1
    assert value(first, "pixel_tui_build_info", version=_version()) == 1


def _unix(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00").timestamp()


def _version() -> str:
    from pixel_tui import __version__

    return __version__


def test_metric_names_and_labels_follow_prometheus_and_stay_bounded(engine, tmp_path):
    """Conventions checked by our own test: prefix, `_total` counters, units in names; and the series count
    does not grow with the number of workers (no label with a value per container or task)."""
    config = host_config(tmp_path)
    engine.run("sleep 600", name="pixel-worker-0000000f")
    exporter = Exporter(config, engine.url, tmp_path / "home")
    try:
        few = exporter.scrape()
        for n in range(4):
            engine.run("sleep 600", name=f"pixel-worker-{n:08x}", labels={"pixel.timeout": "1"})
        many = exporter.scrape()
    finally:
        exporter.stop()
    assert samples(few).keys() == samples(many).keys()
    for family in text_string_to_metric_families(many):
        assert family.name.startswith("pixel_tui_"), family.name
        assert family.documentation, family.name
        if family.type == "counter":
            assert all(sample.name.endswith("_total") for sample in family.samples), family.name
        if "time" in family.name or "duration" in family.name:
            assert family.name.endswith("_seconds"), family.name
        for sample in family.samples:
            assert not set(sample.labels) & UNBOUNDED_LABELS, (family.name, sample.labels)
            assert "timestamp" not in repr(sample.timestamp or "")  # no sample carries its own timestamp
    assert "pixel-worker-" not in many


@needs_promtool
def test_promtool_accepts_a_scrape_and_the_prom_file(engine, tmp_path):
    config = host_config(tmp_path, [{"id": GHOST, "status": "running", "startedAt": ago(600)}])
    exporter = Exporter(config, engine.url, tmp_path / "home")
    try:
        scraped = exporter.scrape()
    finally:
        exporter.stop()
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=scraped, capture_output=True, text=True)  # type: ignore[list-item]
    assert checked.returncode == 0, checked.stdout + checked.stderr
    textfile = tmp_path / "textfile" / "pixel_tui.prom"
    textfile.parent.mkdir()
    env = {**os.environ, "PIXEL_TUI_HOME": str(tmp_path / "home")}
    written = subprocess.run(
        [sys.executable, "-m", "pixel_tui", "snapshot", "--prom-file", str(textfile), "--sample", "0.1",
         "--config", str(config), "--docker-host", engine.url],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert written.returncode == 1, written.stderr  # a ghost: warning, as `snapshot` says it
    assert written.stdout == ""  # for cron: the file, no table
    assert [p.name for p in textfile.parent.iterdir()] == ["pixel_tui.prom"]  # the temporary file was renamed
    text = textfile.read_text()
    assert value(samples(text), "pixel_tui_workers", state="ghost") == 1
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)  # type: ignore[list-item]
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prom_file_that_cannot_be_written_is_unknown(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pixel_tui", "snapshot", "--prom-file", str(tmp_path / "absent" / "x.prom"),
         "--sample", "0.1", "--docker-host", MISSING],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    assert f"cannot write {tmp_path / 'absent' / 'x.prom'}" in result.stderr


def test_listen_is_loopback_unless_remote_is_asked_for(tmp_path):
    assert parse_listen("127.0.0.1:9464", allow_remote=False) == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:9100", allow_remote=False) == ("::1", 9100)
    assert parse_listen("0.0.0.0:9464", allow_remote=True) == ("0.0.0.0", 9464)
    for bad in ("9464", "127.0.0.1:", "127.0.0.1:99999", ":9464", "127.0.0.1:port"):
        with pytest.raises(ListenError):
            parse_listen(bad, allow_remote=True)
    refused = subprocess.run([sys.executable, "-m", "pixel_tui", "export", "--listen", "0.0.0.0:9464"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 3 and "not a loopback address" in refused.stderr and "--allow-remote" in refused.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run(
            [sys.executable, "-m", "pixel_tui", "export", "--listen", f"127.0.0.1:{port}", "--docker-host", MISSING],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert busy.returncode == 3 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr


def test_audit_counts_read_only_what_was_appended_and_start_again_on_a_new_log(tmp_path):
    log = tmp_path / "audit.jsonl"
    counts = AuditCounts(log)
    assert counts.counts() == {}  # no log yet
    line = json.dumps({"actor": "root", "action": "worker.kill", "outcome": "ok"}) + "\n"
    log.write_text(line + line[:20])  # the second is still being written
    assert counts.counts() == {("worker.kill", "person", "ok"): 1}
    with log.open("a") as out:
        out.write(line[20:] + json.dumps({"actor": "autoheal", "action": "nonsense", "outcome": "weird"}) + "\n")
    assert counts.counts() == {("worker.kill", "person", "ok"): 2, ("other", "autoheal", "other"): 1}
    log.unlink()
    log.write_text(line)  # rotated: a new file, counted from its start
    assert counts.counts() == {("worker.kill", "person", "ok"): 1}
    target = tmp_path / "elsewhere"
    target.write_text(line * 5)
    log.unlink()
    log.symlink_to(target)
    assert counts.counts() == {("worker.kill", "person", "ok"): 1} and "audit.jsonl" in (counts.problem or "")


@needs_promtool
def test_the_example_alerting_rules_pass_promtool_and_their_unit_tests(tmp_path):
    checked = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True)  # type: ignore[list-item]
    assert checked.returncode == 0, checked.stdout + checked.stderr
    unit = tmp_path / "alerts_test.yml"
    fixture = Path(__file__).parent / "fixtures" / "prometheus" / "alerts_test.yml"
    unit.write_text(fixture.read_text().replace("RULES", str(RULES)))
    tested = subprocess.run([PROMTOOL, "test", "rules", str(unit)], capture_output=True, text=True)  # type: ignore[list-item]
    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_prometheus
def test_a_real_prometheus_scrapes_two_hosts_and_sees_one_go_down(engine, tmp_path):
    """Two exporters, one on the private engine and one on a host without an engine, scraped every second."""
    for host in ("a", "b"):
        (tmp_path / host).mkdir()
    up_host = Exporter(host_config(tmp_path / "a"), engine.url, tmp_path / "a" / "home")
    no_engine = Exporter(host_config(tmp_path / "b"), MISSING, tmp_path / "b" / "home")
    a, b = f"127.0.0.1:{up_host.port}", f"127.0.0.1:{no_engine.port}"
    try:
        with Prometheus(tmp_path / "prometheus", [up_host, no_engine]) as server:
            # The first sample comes 5-6 s after start (target discovery is batched every 5 s).
            server.until("pixel_tui_engine_up", {a: 1.0, b: 0.0}, within_s=40)
            assert set(server.query('pixel_tui_workers{state="timed_out"}')) == {a, b}
            no_engine.stop()
            server.until("up", {a: 1.0, b: 0.0}, within_s=15)
    finally:
        up_host.stop()
        no_engine.stop()
