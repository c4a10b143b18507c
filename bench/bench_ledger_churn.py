"""Benchmark: the console under a large ledger that the orchestrator keeps replacing.

Writes a ledger of N tasks (default 10 000, ~6 MB, mostly finished, one running), starts a writer
process that replaces it (temp file + rename, as the orchestrator does) every 50 ms, and runs
`pixel-tui --ledger ...` in a 120x35 pseudo-terminal at its default interval. It prints:

- the console's CPU over a window, as % of one core;
- key latency: from typing `g` until the sparkline pane shows the next metric's name, over several
  presses at different points of the collection interval (median and max). Target: within 0.2 s.

No Docker engine is needed (the engine is left unreachable on purpose: the ledger is what is measured).

    .venv/bin/python bench/bench_ledger_churn.py --tasks 10000 --seconds 20
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_console import ROOT, Console, compile_tree, key_latency  # noqa: E402

COLS, ROWS = 120, 35


def ledger_document(tasks: int) -> bytes:
    """A ledger in the orchestrator's camelCase shape: finished tasks, a few pending, one running."""
    now = datetime.now(UTC)
    records = []
    for index in range(tasks):
        started = now - timedelta(minutes=tasks - index)
        records.append(
            {
                "id": str(uuid.uuid4()),
                "status": "running" if index == tasks - 1 else ("pending" if index > tasks - 10 else "completed"),
                "type": "code",
                "createdAt": started.isoformat().replace("+00:00", "Z"),
                "startedAt": started.isoformat(),
                "completedAt": (started + timedelta(minutes=3)).isoformat(),
                "workerId": uuid.uuid4().hex[:12],
                "exitCode": 0,
                "error": None,
                "payload": {"prompt": "refactor the module " * 10, "repo": "pixel"},
            }
        )
    return json.dumps({"version": 1, "tasks": records}, indent=2).encode()


def rewrite_forever(path: str, data: bytes, period: float) -> None:
    """The orchestrator's way: write a temp file in the same directory, rename it over the ledger."""
    temp = path + ".tmp"
    flip = 0
    while True:
        flip ^= 1
        with open(temp, "wb") as handle:
            handle.write(data + (b" " * flip))  # the size changes too, as it does when a task is added
        os.replace(temp, path)
        time.sleep(period)


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="CPU window")
    parser.add_argument("--presses", type=int, default=20, help="key presses timed")
    parser.add_argument("--period", type=float, default=0.05, help="seconds between two rewrites of the ledger")
    parser.add_argument("--interval", type=float, default=2.0, help="the console's collection interval (seconds)")
    args = parser.parse_args()
    compile_tree(ROOT)
    with tempfile.TemporaryDirectory(prefix="pixel-churn-") as folder:
        ledger = os.path.join(folder, "ledger.json")
        data = ledger_document(args.tasks)
        Path(ledger).write_bytes(data)
        writer = multiprocessing.Process(target=rewrite_forever, args=(ledger, data, args.period), daemon=True)
        writer.start()
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(COLS),
            "LINES": str(ROWS),
            "PIXEL_TUI_HOME": os.path.join(folder, "home"),
        }
        argv = [
            "--ledger",
            ledger,
            "--docker-host",
            f"unix://{folder}/no-engine.sock",
            "--interval",
            str(args.interval),
        ]
        console = Console(argv, env, cols=COLS, rows=ROWS)
        try:
            console.wait_for(b"pixel-tui")
            console.pump(3.0)
            process = psutil.Process(console.pid)
            before = sum(process.cpu_times()[:2])
            console.pump(args.seconds)
            cpu = 100 * (sum(process.cpu_times()[:2]) - before) / args.seconds
            latencies = []
            for press in range(args.presses):
                console.pump(0.13 * (press % 7))  # land at different points of the collection interval
                latencies.append(key_latency(console))
            print(
                f"{args.tasks} tasks ({len(data) / 1e6:.1f} MB) replaced every {args.period * 1000:.0f} ms, "
                f"interval {args.interval:g} s: "
                f"console CPU {cpu:.1f} % of one core over {args.seconds:.0f} s; "
                f"key latency median {statistics.median(latencies) * 1000:.0f} ms, "
                f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} keys (target <= 200 ms)"
            )
        finally:
            console.close()
            writer.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
