"""Benchmark: the collector's cycle time with N busybox containers on a private engine.

Prints, for each N, the median and 90th percentile of one `Collector.collect()` cycle (host, one
container list, cgroup reads, workers), how many HTTP requests a steady cycle makes, and how many
sockets the collector holds open (a few pooled API connections and the events stream; no stats
stream). Targets: N=100 at most 15 ms, N=500 at most 60 ms.

    make bench                       # 10, 100, 500 containers
    make bench ARGS="--sizes 100 --cycles 50"

Needs root, dockerd and busybox-static (see tests/dockerd.py); never touches the user's engine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pixel_tui.collect import Collector  # noqa: E402
from pixel_tui.settings import Settings  # noqa: E402
from tests.dockerd import BUSYBOX_IMAGE, PrivateEngine, available  # noqa: E402


class RequestCounter:
    """Counts HTTP requests made through requests.Session.send (the docker SDK's transport)."""

    def __init__(self) -> None:
        self.count = 0
        self._original = requests.Session.send
        counter = self

        def send(session, request, **kwargs):  # noqa: ANN001, ANN202
            counter.count += 1
            return counter._original(session, request, **kwargs)

        requests.Session.send = send  # type: ignore[method-assign]


def open_sockets() -> int:
    """Sockets this process holds open."""
    count = 0
    for fd in Path(f"/proc/{os.getpid()}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue  # closed while listing
    return count


def grow(client, target: int) -> None:  # noqa: ANN001
    """Run busybox containers until `target` are running."""
    have = len(client.containers.list(sparse=True))

    def start(index: int) -> None:
        client.containers.run(
            BUSYBOX_IMAGE, ["sleep", "86400"], name=f"bench-{index:04d}", detach=True, network_mode="none"
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, range(have, target)))


def measure(url: str, cycles: int, counter: RequestCounter) -> dict[str, float]:
    """Median and p90 of `cycles` collections after a warm-up that fills the inspect cache."""
    sockets_before = open_sockets()
    collector = Collector(Settings(docker_host=url))
    try:
        for _ in range(3):
            collector.collect()
            time.sleep(0.2)
        times = []
        before = counter.count
        for _ in range(cycles):
            started = time.perf_counter()
            snapshot = collector.collect()
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
        requests_per_cycle = (counter.count - before) / cycles
        assert snapshot.docker.reachable, snapshot.docker.error
        measured = sum(1 for c in snapshot.containers if c.cpu_percent is not None and c.mem_used is not None)
        return {
            "median": statistics.median(times),
            "p90": statistics.quantiles(times, n=10)[-1],
            "requests": requests_per_cycle,
            "sockets": open_sockets() - sockets_before,
            "containers": len(snapshot.containers),
            "measured": measured,
        }
    finally:
        collector.close()


def main() -> int:
    """Run the benchmark and print one row per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,500", help="comma-separated container counts")
    parser.add_argument("--cycles", type=int, default=30, help="timed cycles per size")
    args = parser.parse_args()
    reason = available()
    if reason:
        print(f"cannot run the benchmark: {reason}", file=sys.stderr)
        return 2
    sizes = sorted(int(size) for size in args.sizes.split(","))
    counter = RequestCounter()
    engine = PrivateEngine().start()
    print(f"private engine {engine.url} ({engine.storage_driver}), {args.cycles} cycles per size")
    print(f"{'N':>5} {'median ms':>10} {'p90 ms':>8} {'req/cycle':>10} {'sockets':>8} {'measured':>9}  target")
    try:
        for size in sizes:
            grow(engine.client, size)
            time.sleep(10)  # dockerd and containerd stay busy for a while after starting hundreds of containers
            row = measure(engine.url, args.cycles, counter)
            target = {100: "<= 15 ms", 500: "<= 60 ms"}.get(size, "")
            print(
                f"{size:>5} {row['median']:>10.1f} {row['p90']:>8.1f} {row['requests']:>10.1f} {row['sockets']:>8}"
                f" {int(row['measured']):>4}/{int(row['containers']):<4}  {target}",
                flush=True,
            )
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
