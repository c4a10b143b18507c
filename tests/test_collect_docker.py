"""The collector against a real (private) Docker engine: workers, metrics, caching, failures."""

from __future__ import annotations

import contextlib
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pixel_tui.collect import Collector
from pixel_tui.collect.engine import DockerEngine
from pixel_tui.model import utcnow
from pixel_tui.settings import Settings, WorkerSettings

MiB = 1024 * 1024


def collector_for(engine, tmp_path=None, ledger=None, lock=None, **workers) -> Collector:
    ledger_path = None
    if ledger is not None:
        ledger_path = tmp_path / "ledger.json"
        ledger_path.write_text(json.dumps(ledger))
    settings = Settings(
        docker_host=engine.url,
        workers=WorkerSettings(ledger=str(ledger_path) if ledger_path else None, lock_file=lock, **workers),
    )
    return Collector(settings)


def by_name(snapshot, name):
    return next(container for container in snapshot.containers if container.name == name)


def worker_of(snapshot, name):
    return next(worker for worker in snapshot.workers if worker.container == name)


def ago(seconds: float) -> str:
    return (utcnow() - timedelta(seconds=seconds)).isoformat()


def test_workers_timeouts_and_phantoms_on_real_containers(engine, tmp_path):
    stuck = engine.run("sleep 600", name="pixel-worker-aaaaaaaa", labels={"pixel.timeout": "1"})
    orphan = engine.run("sleep 600", name="pixel-worker-bbbbbbbb")
    healthy = engine.run("sleep 600", name="pixel-worker-rebuild-cccccccc")
    engine.run("sleep 600", name="pixel-worker-logs-1")  # a log tailer, never a worker
    engine.run("sleep 600", name="web")
    ledger = {
        "version": 1,
        "tasks": [
            {"id": "aaaaaaaa-0000-4000-8000-000000000001", "status": "running", "startedAt": ago(5)},
            {"id": "bbbbbbbb-0000-4000-8000-000000000002", "status": "completed", "completedAt": ago(1)},
            {"id": "cccccccc-0000-4000-8000-000000000003", "status": "running", "startedAt": ago(5)},
            {"id": "dddddddd-0000-4000-8000-000000000004", "status": "running", "startedAt": ago(300)},
            {"id": "eeeeeeee-0000-4000-8000-000000000005", "status": "running", "startedAt": ago(10)},
        ],
    }
    collector = collector_for(engine, tmp_path, ledger, orphan_grace_s=1.0)
    try:
        time.sleep(1.2)  # let the stuck worker outlive its 1 s timeout, and the orphan its 1 s grace
        snapshot = collector.collect()
    finally:
        collector.close()
    names = {worker.container for worker in snapshot.workers}
    assert names == {stuck.name, orphan.name, healthy.name, None}
    assert worker_of(snapshot, stuck.name).timed_out and worker_of(snapshot, stuck.name).timeout_s == 1.0
    assert worker_of(snapshot, stuck.name).task_id == "aaaaaaaa-0000-4000-8000-000000000001"
    assert worker_of(snapshot, orphan.name).phantom == "orphan"
    assert worker_of(snapshot, orphan.name).task_status == "completed"
    assert worker_of(snapshot, healthy.name).phantom is None and not worker_of(snapshot, healthy.name).timed_out
    (ghost,) = [worker for worker in snapshot.workers if worker.container is None]
    assert ghost.task_id.startswith("dddddddd") and ghost.phantom == "ghost"  # the 10 s old task is in its grace
    assert snapshot.workers[0].container == stuck.name  # overdue first
    assert snapshot.ledger.readable and snapshot.ledger.tasks == 5


def test_orchestrator_ledger_shape_matches_by_worker_id(engine, tmp_path):
    container = engine.run("sleep 600", name="pixel-worker-0badf00d", environment={"WORKER_TIMEOUT_SECONDS": "120"})
    ledger = {
        "version": 1,
        "tasks": [
            {
                "id": "5e1f0000-1111-4222-8333-444455556666",  # not the name's hex: the workerId decides
                "type": "code",
                "status": "running",
                "createdAt": "2026-01-03T09:21:07.123Z",
                "startedAt": "2026-01-03T09:21:07+00:00",
                "workerId": container.id[:12],
                "exitCode": None,
                "error": None,
            }
        ],
    }
    collector = collector_for(engine, tmp_path, ledger)
    try:
        snapshot = collector.collect()
    finally:
        collector.close()
    worker = worker_of(snapshot, container.name)
    assert worker.task_id == "5e1f0000-1111-4222-8333-444455556666" and worker.task_status == "running"
    assert worker.phantom is None
    assert worker.timeout_s == 180.0  # WORKER_TIMEOUT_SECONDS + 60 s of kill grace
    assert worker.age_s is not None and 0 <= worker.age_s < 60


def test_compose_one_off_worker_and_ghost_grace(engine, tmp_path):
    engine.run(
        "sleep 600",
        name="proj-worker-run-4f1e2d3c",
        labels={"com.docker.compose.service": "worker", "com.docker.compose.oneoff": "True", "pixel.task": "t-1"},
    )
    ledger = [{"id": "t-1", "status": "running"}, {"id": "t-2", "status": "running"}]  # no timestamps at all
    collector = collector_for(engine, tmp_path, ledger, ghost_grace_s=1.0)
    try:
        first = collector.collect()
        time.sleep(1.2)
        later = collector.collect()
    finally:
        collector.close()
    assert [w.task_id for w in first.workers] == ["t-1"]  # t-2 only just seen without a worker
    assert {(w.task_id, w.phantom) for w in later.workers} == {("t-1", None), ("t-2", "ghost")}


def test_busy_container_shows_more_cpu_and_its_memory_limit(engine):
    busy = engine.run(["sh", "-c", "while :; do :; done"], name="busy", mem_limit="64m")
    idle = engine.run("sleep 600", name="idle")
    # A shell variable of about 24 MB: memory used must show it (the echo keeps ash from exec-ing sleep).
    engine.run(["sh", "-c", "x=$(head -c 24000000 /dev/zero | tr '\\0' a); sleep 600; echo ${#x}"], name="fat")
    collector = collector_for(engine)
    try:
        first = collector.collect()
        assert by_name(first, "busy").cpu_percent is None, "one sample cannot give a CPU %"
        time.sleep(1.0)
        second = collector.collect()
        time.sleep(1.0)
        third = collector.collect()
    finally:
        collector.close()
    for snapshot in (second, third):  # "clearly higher", with room for a loaded 2-core CI machine
        busy_cpu, idle_cpu = by_name(snapshot, "busy").cpu_percent, by_name(snapshot, "idle").cpu_percent
        assert busy_cpu > 20.0 and busy_cpu > idle_cpu + 20.0, (busy_cpu, idle_cpu)
        assert idle_cpu < 5.0
    busy_row = by_name(third, "busy")
    assert busy_row.mem_limit == 64 * MiB == busy.attrs["HostConfig"]["Memory"]
    assert 0 < busy_row.mem_used < 64 * MiB
    assert by_name(third, "idle").mem_limit == third.host.memory.total  # unlimited: the host's memory
    assert by_name(third, "fat").mem_used > 20_000_000
    assert by_name(third, idle.name).uptime_at(third.taken_at) >= 2.0 and by_name(third, "idle").restarts == 0


def test_one_shot_stats_when_cgroups_are_out_of_reach(engine):
    engine.run(["sh", "-c", "while :; do :; done"], name="busy", mem_limit="64m")
    engine.run("sleep 600", name="idle")
    docker_engine = DockerEngine(engine.url)
    docker_engine.metrics.local = False  # as for a remote engine: no cgroup files
    calls: list[str] = []
    try:
        docker_engine.poll()
        api = docker_engine._api
        original = api.stats

        def counted(container, **kwargs):
            calls.append(container)
            assert kwargs == {"stream": False, "one_shot": True}
            return original(container, **kwargs)

        api.stats = counted
        time.sleep(1.0)
        reading = docker_engine.poll()
    finally:
        docker_engine.close()
    rows = {container.name: container for container in reading.containers}
    assert sorted(calls) == sorted(c.id for c in reading.containers if c.running)  # one request each
    assert rows["busy"].cpu_percent > 20.0 and rows["busy"].cpu_percent > rows["idle"].cpu_percent + 20.0
    assert rows["idle"].cpu_percent < 5.0
    assert rows["busy"].mem_limit == 64 * MiB
    assert rows["busy"].cpu_percent <= 100.0 * (os.cpu_count() or 1) + 1
    podman = engine.name == "podman"
    assert reading.state.product == ("podman" if podman else "docker"), reading.state
    # Docker: its host CPU time and online_cpus, not this process's clock, a real figure. podman: its CPU time
    # over the time between its own `read` stamps, as `podman stats` reads it, marked an estimate.
    assert rows["busy"].cpu_estimated == podman


def test_inspect_only_what_changed(engine):
    for index in range(5):
        engine.run("sleep 600", name=f"steady-{index}")
    docker_engine = DockerEngine(engine.url)
    inspected: list[str] = []
    try:
        docker_engine.poll()
        # A local engine is inspected over the socket inspector's own connections, not the SDK's.
        inspector = docker_engine._socket_inspector(docker_engine._client())
        original = inspector.fetch
        inspector.fetch = lambda connection, cid: inspected.append(cid) or original(connection, cid)
        docker_engine.poll()
        docker_engine.poll()
        assert inspected == [], "an unchanged container is never inspected again"
        target = engine.client.containers.get("steady-2")
        target.restart(timeout=0)
        deadline = time.monotonic() + 10
        reading = None
        while time.monotonic() < deadline and target.id not in inspected:
            time.sleep(0.2)
            reading = docker_engine.poll()
        assert set(inspected) == {target.id}
        row = next(c for c in reading.containers if c.id == target.id)
        assert row.started_at > datetime.now(UTC) - timedelta(seconds=15)
    finally:
        docker_engine.close()


def test_container_removed_between_list_and_inspect(engine):
    doomed = engine.run("sleep 600", name="doomed")
    engine.run("sleep 600", name="survivor")
    docker_engine = DockerEngine(engine.url)
    try:
        inspector = docker_engine._socket_inspector(docker_engine._client())
        original = inspector.fetch

        def racing(connection, cid):
            if cid == doomed.id:
                engine.client.api.remove_container(cid, force=True)
            return original(connection, cid)

        inspector.fetch = racing
        reading = docker_engine.poll()
    finally:
        docker_engine.close()
    assert reading.state.reachable
    assert reading.errors == (f"container {doomed.id[:12]} disappeared during collection",)
    rows = {container.name: container for container in reading.containers}
    assert rows["doomed"].restarts is None and rows["doomed"].cpu_percent is None
    assert rows["survivor"].started_at is not None


def test_died_container_becomes_an_event(engine):
    engine.run(["sh", "-c", "sleep 1; exit 3"], name="short-lived")
    collector = collector_for(engine)
    try:
        collector.collect()
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline and not any(e.kind == "container-died" for e in seen):
            time.sleep(0.3)
            seen.extend(collector.collect().events)
    finally:
        collector.close()
    died = [event for event in seen if event.kind == "container-died" and event.target == "short-lived"]
    assert died, seen


def test_unreachable_urls_give_clear_errors(tmp_path):
    not_a_socket = tmp_path / "plain-file"
    not_a_socket.write_text("")
    cases = {
        "unix:///nonexistent/docker.sock": "no Docker socket at /nonexistent/docker.sock",
        f"unix://{not_a_socket}": f"connection refused by {not_a_socket}",
        "tcp://127.0.0.1:1": "connection refused by tcp://127.0.0.1:1",
    }
    for url, message in cases.items():
        collector = Collector(Settings(docker_host=url))
        try:
            snapshot = collector.collect()
        finally:
            collector.close()
        assert not snapshot.docker.reachable
        assert snapshot.docker.error.startswith(message), snapshot.docker.error
        assert snapshot.containers == () and snapshot.workers == ()


@pytest.mark.parametrize(
    "content",
    [b"", b'{"tasks": [{"id": "a"', b"\xff\xfe", b'{"jobs": 1}', b"not json"],
    ids=["empty", "truncated", "non-utf8", "wrong-shape", "corrupt"],
)
def test_bad_ledger_beside_a_real_engine(engine, tmp_path, content):
    engine.run("sleep 600", name="pixel-worker-aaaaaaaa")
    ledger = tmp_path / "ledger.json"
    ledger.write_bytes(content)
    collector = Collector(Settings(docker_host=engine.url, workers=WorkerSettings(ledger=str(ledger))))
    try:
        snapshot = collector.collect()
    finally:
        collector.close()
    assert not snapshot.ledger.readable and snapshot.ledger.error
    assert any(error.startswith(f"ledger {ledger}") for error in snapshot.errors)
    (worker,) = snapshot.workers
    assert worker.phantom is None  # no phantom flags from a ledger that cannot be read


def test_engine_stopped_and_started_again_recovers_by_itself(tmp_path):
    from tests.dockerd import PrivateEngine, available

    if available():
        pytest.skip(available())
    own = PrivateEngine().start()  # its own engine: stopping the session's would disturb other tests
    try:
        own.run("sleep 600", name="pixel-worker-12345678")
        collector = Collector(Settings(docker_host=own.url))
        try:
            before = collector.collect()
            own.stop_daemon()
            during = collector.collect()
            own.start_daemon()
            after = collector.collect()
            again = collector.collect()
        finally:
            collector.close()
    finally:
        own.stop()
    assert before.docker.reachable and [w.container for w in before.workers] == ["pixel-worker-12345678"]
    assert not during.docker.reachable
    assert during.docker.error.startswith(("no Docker socket at", "connection refused by")), during.docker.error
    assert during.containers == () and during.workers == ()
    assert [event.kind for event in during.events if event.kind.startswith("engine")] == ["engine-lost"]
    assert after.docker.reachable and after.docker.version == before.docker.version
    assert [event.kind for event in after.events if event.kind.startswith("engine")] == ["engine-back"]
    # dockerd stopped the container on its way down; the collector sees that without being restarted.
    assert [(c.name, c.state) for c in again.containers] == [("pixel-worker-12345678", "exited")]


def _open_sockets() -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def test_few_connections_to_the_engine_and_no_stats_streams(engine):
    for index in range(30):
        engine.run("sleep 600", name=f"many-{index:02d}")
    before = _open_sockets()
    collector = collector_for(engine)
    try:
        for _ in range(3):
            collector.collect()
        held = _open_sockets() - before
    finally:
        collector.close()
    # The API's few pooled connections and the events stream; not one per container inspected.
    assert 1 <= held <= 6, held


def test_detail_masks_secrets_and_logs_tail(engine):
    container = engine.run(
        ["sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done; sleep 600"],
        name="detailed",
        labels={"team": "ops"},
        environment={"API_TOKEN": "s3cr3t", "DATABASE_URL": "postgres://app:hunter2@db:5432/app", "MODE": "prod"},
    )
    collector = collector_for(engine)
    try:
        detail = collector.detail(container.id)
        deadline = time.monotonic() + 10
        while "line-5" not in (logs := collector.logs(container.id, tail=2)) and time.monotonic() < deadline:
            time.sleep(0.1)
        engine.client.api.remove_container(container.id, force=True)
        with pytest.raises(LookupError, match="no longer exists"):
            collector.detail(container.id)
        with pytest.raises(LookupError, match="no longer exists"):
            collector.logs(container.id)
    finally:
        collector.close()
    env = dict(detail.env)
    assert env["API_TOKEN"] == "********" and env["MODE"] == "prod"
    assert env["DATABASE_URL"] == "postgres://********@db:5432/app"
    assert detail.name == "detailed" and detail.labels == {"team": "ops"} and detail.image == engine.image
    assert detail.command.startswith("sh -c for i in")
    assert logs.split() == ["line-4", "line-5"]
