"""Benchmark: the collector's collection time with N busybox containers on a private engine.

Prints, for each N, the median and 90th percentile of one `Collector.collect()` (host, cgroup reads,
workers) in the steady state of a local engine, where nothing changed and nothing is listed, and
of a collection that lists the containers (as every collection does for a remote engine, or after a
change); how many HTTP requests a steady collection makes, and how many sockets the collector holds
open (a few pooled API connections and the events stream; no stats stream). Targets: N=100 at most
15 ms, N=500 at most 60 ms, for the listing collection.

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


def measure(url: str, cycles: int, counter: RequestCounter, *, quiet: bool) -> dict[str, float]:
    """Median and p90 of `cycles` collections after a warm-up that fills the inspect cache.

    `quiet=False` makes every collection list the containers, as for a remote engine.
    """
    sockets_before = open_sockets()
    collector = Collector(Settings(docker_host=url))
    engine = collector._engine  # the bench measures both ways the engine collects
    engine.quiet = quiet
    try:
        for _ in range(3):
            collector.collect()
            time.sleep(0.2)
        times = []
        before, lists_before = counter.count, engine.lists
        for _ in range(cycles):
            started = time.perf_counter()
            snapshot = collector.collect()
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
        assert snapshot.docker.reachable, snapshot.docker.error
        measured = sum(1 for c in snapshot.containers if c.cpu_percent is not None and c.mem_used is not None)
        return {
            "median": statistics.median(times),
            "p90": statistics.quantiles(times, n=10)[-1],
            "requests": (counter.count - before) / cycles,
            "lists": (engine.lists - lists_before) / cycles,
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
    print(f"{'N':>5} {'collection':>10} {'median ms':>10} {'p90 ms':>8} {'req/coll':>9} {'lists/coll':>10}"
          f" {'sockets':>8} {'measured':>9}  target")  # fmt: skip
    try:
        for size in sizes:
            grow(engine.client, size)
            time.sleep(10)  # dockerd and containerd stay busy for a while after starting hundreds of containers
            for quiet in (True, False):
                row = measure(engine.url, args.cycles, counter, quiet=quiet)
                target = "" if quiet else {100: "<= 15 ms", 500: "<= 60 ms"}.get(size, "")
                print(
                    f"{size:>5} {'steady' if quiet else 'listing':>10} {row['median']:>10.1f} {row['p90']:>8.1f}"
                    f" {row['requests']:>9.2f} {row['lists']:>10.2f} {row['sockets']:>8}"
                    f" {int(row['measured']):>4}/{int(row['containers']):<4}  {target}",
                    flush=True,
                )
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
