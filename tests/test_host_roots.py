"""pixel-tui in a container: the host's /proc and cgroup root mounted elsewhere (settings `[engine]`)."""

from __future__ import annotations

import os
import time
from typing import Any

from pixel_tui.collect import Collector
from pixel_tui.settings import EngineSettings, Settings


def collect_twice(engine, roots: EngineSettings) -> tuple[Any, int]:
    """The second snapshot of a collector with these roots, and how many stats requests it sent."""
    collector = Collector(Settings(docker_host=engine.url, engine=roots))
    requests = [0]
    api = collector._engine._client()
    stats = api.stats

    def counted(*args: Any, **kwargs: Any) -> Any:
        requests[0] += 1
        return stats(*args, **kwargs)

    api.stats = counted
    try:
        collector.collect()
        time.sleep(0.5)
        return collector.collect(), requests[0]
    finally:
        collector.close()


def test_cgroups_are_read_through_the_configured_roots(engine, tmp_path):
    engine.run(["sh", "-c", "while :; do :; done"], name="busy")
    # As `-v /proc:/host/proc:ro -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro` show them to a container.
    os.symlink("/proc", tmp_path / "proc")
    os.symlink("/sys/fs/cgroup", tmp_path / "cgroup")
    mounted = EngineSettings(proc_root=str(tmp_path / "proc"), cgroup_root=str(tmp_path / "cgroup"))
    snapshot, requests = collect_twice(engine, mounted)
    (busy,) = [row for row in snapshot.containers if row.name == "busy"]
    assert requests == 0 and busy.cpu_percent is not None and busy.cpu_percent > 20 and busy.mem_used

    # Roots where nothing is mounted: each running container costs a stats request (the figures still come).
    (tmp_path / "empty").mkdir()
    empty = EngineSettings(proc_root=str(tmp_path / "empty"), cgroup_root=str(tmp_path / "empty"))
    snapshot, requests = collect_twice(engine, empty)
    (busy,) = [row for row in snapshot.containers if row.name == "busy"]
    assert requests >= 2 and busy.mem_used
