"""A private engine with many idle busybox containers, kept up for benchmarks to reuse (no Textual here).

Starting 1 000 containers takes minutes on a small machine, so a measurement should not pay for it
each time: `python bench/engine_1000.py serve --state /tmp/pxd-1000.json` starts a private engine
(tests/dockerd.py), makes the containers, a quarter of them workers (`pixel-worker-<8 hex>`, each with
a `running` task in a ledger file of the orchestrator's shape whose id starts with those 8 hex), writes
what a benchmark needs to the state file (DOCKER_HOST, the ledger's path, a PIXEL_TUI_HOME) and keeps
the engine up until SIGTERM or Ctrl-C. bench/bench_1000.py `--state` reuses it.

Needs root, dockerd and busybox-static (see tests/dockerd.py); never touches the user's engine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_console import make_containers  # noqa: E402

from tests.dockerd import PrivateEngine, available  # noqa: E402


def write_ledger(engine: PrivateEngine, path: Path) -> int:
    """A ledger with one `running` task per worker container (id starting with the name's 8 hex, workerId the
    container's short id, as worker-entrypoint.sh writes it); returns how many tasks."""
    now = datetime.now(UTC).replace(microsecond=0)
    tasks = []
    for container in engine.client.containers.list(all=True, filters={"name": "pixel-worker-"}):
        hex8 = container.name.removeprefix("pixel-worker-")
        task_id = hex8 + str(uuid.uuid4())[8:]
        stamp = now.isoformat()
        tasks.append(
            {"id": task_id, "status": "running", "type": "code", "createdAt": stamp.replace("+00:00", "Z"),
             "startedAt": stamp, "workerId": container.short_id, "payload": {"repo": "pixel"}}
        )  # fmt: skip
    path.write_text(json.dumps({"version": 1, "tasks": tasks}, indent=2))
    return len(tasks)


def serve(containers: int, workers: int, state: Path) -> int:
    """Start the engine and its containers, write the state file, wait for SIGTERM."""
    reason = available()
    if reason:
        print(f"no private engine: {reason}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with PrivateEngine() as engine:
        assert engine.base_dir is not None
        made = time.perf_counter()
        make_containers(engine, containers, workers)
        seconds = time.perf_counter() - made
        ledger = engine.base_dir / "ledger.json"
        tasks = write_ledger(engine, ledger)
        info = {
            "DOCKER_HOST": engine.url,
            "containers": containers,
            "workers": workers,
            "tasks": tasks,
            "ledger": str(ledger),
            "home": str(engine.base_dir / "home"),
            "made_s": round(seconds, 1),
        }
        state.write_text(json.dumps(info))
        print(json.dumps(info), flush=True)
        try:
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        finally:  # SIGTERM exits through here too: no state file may name an engine that is gone
            state.unlink(missing_ok=True)
            teardown(engine)
    return 0


def teardown(engine: PrivateEngine) -> None:
    """Remove the containers, 8 at a time, before the engine stops, deaf to a second Ctrl-C or SIGTERM.

    Interrupted (a second signal while PrivateEngine.stop() removed 1 000 containers one by one), the engine
    once left 990 busybox `sleep` processes and their shims running with no engine to stop them.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ids = [container.id for container in engine.client.containers.list(all=True, ignore_removed=True)]
    print(f"removing {len(ids)} containers, then the engine: about a minute, signals are ignored", flush=True)
    started = time.perf_counter()

    def remove(cid: str) -> None:
        with contextlib.suppress(Exception):
            engine.client.api.remove_container(cid, force=True, v=True)

    with ThreadPoolExecutor(8) as pool:
        for done, _ in enumerate(pool.map(remove, ids), start=1):
            if done % 100 == 0:
                print(f"  {done}/{len(ids)} removed ({time.perf_counter() - started:.0f} s)", flush=True)


def main() -> int:
    """`serve`: run an engine with many containers until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--containers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="how many are workers (default: a quarter)")
    parser.add_argument("--state", type=Path, default=Path("/tmp/pxd-1000.json"))
    args = parser.parse_args()
    workers = args.containers // 4 if args.workers is None else args.workers
    return serve(args.containers, workers, args.state)


if __name__ == "__main__":
    raise SystemExit(main())
