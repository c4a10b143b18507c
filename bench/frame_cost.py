"""Benchmark: what one cycle costs the console's event loop, by part, on synthetic idle hosts (no engine, no pty).

Runs the real console headless (Textual's `run_test`, so the compositor renders every frame as it would for a
terminal; only the write to the terminal is skipped) at a given size, and feeds it snapshots of an idle host
with N containers, W of them workers: every cycle is one second later, so uptimes, ages and time left tick;
CPU and memory stay put. For each cycle it measures, on the event loop's own CPU clock:

- apply: the snapshot reaching the panes (the screen's reactives, every bound watcher, the tables' sync);
- repaint: Textual's refresh after it (layout, compositor, the widgets' lines), until the loop is idle;

and counts what the tables did: update_cell calls, table lines rendered, cells rendered through Rich.
It also times a key (`g`, next sparkline metric) pressed right after a snapshot arrives.

Deterministic counts, and CPU figures that a loaded machine disturbs far less than a pty run (see
bench_console.py for the console as a user runs it):

    .venv/bin/python bench/frame_cost.py --containers 100 --workers 25 --size 120x35
    .venv/bin/python bench/frame_cost.py --containers 500 --workers 125 --size 120x35 --young
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from pixel_tui.model import (  # noqa: E402
    Container,
    Disk,
    DockerState,
    Host,
    Levels,
    Memory,
    Snapshot,
    Swap,
    Thresholds,
    Worker,
)
from pixel_tui.settings import Settings  # noqa: E402
from pixel_tui.ui.app import build_app  # noqa: E402
from pixel_tui.ui.dashboard import DashboardScreen  # noqa: E402
from tests.scripted import ScriptedSource  # noqa: E402

GiB = 1024**3
START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@functools.cache
def idle_containers(containers: int, workers: int, *, young: bool) -> tuple[Container, ...]:
    """The idle containers, the same objects every cycle (as the collector gives a container whose figures did
    not move: its uptime counts from its start to the snapshot's time)."""
    born = START - timedelta(seconds=60 if young else 7200)
    listed = []
    for index in range(containers):
        name = f"pixel-worker-{index:08x}" if index < workers else f"idle-{index:03d}"
        listed.append(
            Container(
                id=f"{index:064x}",
                name=name,
                image="pixel-busybox:latest",
                state="running",
                health=None,
                started_at=born - timedelta(seconds=index),
                restarts=0,
                cpu_percent=0.0,
                mem_used=320 * 1024 + index,
                mem_limit=24 * GiB,
            )
        )
    return tuple(listed)


def idle_host(cycle: int, containers: int, workers: int, *, young: bool, flap: int = 0) -> Snapshot:
    """An idle host at `cycle` seconds: busybox containers sleeping, workers running well within their timeout;
    with `flap`, the load crosses its critical threshold every `flap` cycles (the overall level changes)."""
    now = START + timedelta(seconds=cycle)
    load = 4.5 if flap and (cycle // flap) % 2 else 0.3
    listed = idle_containers(containers, workers, young=young)
    running = tuple(
        Worker(None, None, c.name, c.id, "running", c.started_at, c.uptime_at(now), 2760.0 + 7200, False)
        for c in listed[:workers]
    )
    memory = Memory(total=24 * GiB, used=GiB, available=23 * GiB, percent=4.2)
    host = Host(
        hostname="vm",
        cpu_percent=2.0,
        cores=2,
        load=(load, load, load),
        memory=memory,
        swap=Swap(total=0, used=0, percent=0.0),
        disks=(Disk("/", 252 * GiB, 23 * GiB, 9.1),),
        uptime_s=86400.0 + cycle,
    )
    return Snapshot(
        taken_at=now,
        host=host,
        levels=Levels.of(host, Thresholds()),
        docker=DockerState(reachable=True, host="unix:///var/run/docker.sock", version="27.3.1"),
        containers=tuple(listed),
        workers=running,
    )


class Counts:
    """Counts DataTable calls across every table of the app, and restyles (a node's CSS applied again)."""

    def __init__(self) -> None:
        self.counter: Counter[str] = Counter()
        for name, label in (("update_cell", "update_cell"), ("_render_line", "lines"), ("_render_cell", "cells")):
            self._wrap(DataTable, name, label)
        self._wrap(App, "update_styles", "restyles")

    def _wrap(self, cls: type, name: str, label: str) -> None:
        original = getattr(cls, name)
        counter = self.counter

        def counting(table: Any, *args: Any, **kwargs: Any) -> Any:
            counter[label] += 1
            return original(table, *args, **kwargs)

        setattr(cls, name, counting)


async def measure(args: argparse.Namespace) -> None:
    """Feed the snapshots, measure each cycle, print medians."""
    cols, rows = (int(part) for part in args.size.lower().split("x"))
    frames = [
        idle_host(cycle, args.containers, args.workers, young=args.young, flap=args.flap)
        for cycle in range(args.cycles + 2)
    ]
    settings = Settings(interval=3600.0)
    app = build_app(settings, ScriptedSource(frames[:1]), executor=None)
    counts = Counts()
    applies, repaints, keys = [], [], []
    per_cycle: list[Counter[str]] = []
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    async with app.run_test(size=(cols, rows)) as pilot:
        screen = app.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        deadline = time.monotonic() + 30
        while screen.received < 1:
            if time.monotonic() > deadline or not app.is_running:
                raise RuntimeError("the console never showed its first snapshot")
            await pilot.pause(0.01)
        screen.action_toggle_pause()  # only our snapshots from here
        await pilot.pause(0.1)
        for cycle, frame in enumerate(frames[1:]):
            before = Counter(counts.counter)
            if profile is not None and cycle == 1:
                profile.enable()
            started = time.thread_time()
            screen._receive(replace(frame))  # noqa: SLF001 - the screen's entry point for a collected snapshot
            applied = time.thread_time()
            await pilot.pause()
            await pilot.pause()
            done = time.thread_time()
            if cycle == 0:
                continue  # the first one after start-up fills caches
            applies.append(applied - started)
            repaints.append(done - applied)
            per_cycle.append(counts.counter - before)
            if args.keys and cycle % max(args.cycles // args.keys, 1) == 0:
                sent = time.perf_counter()
                await pilot.press("g")
                keys.append(time.perf_counter() - sent)
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    age = "young (uptimes tick every second)" if args.young else "two hours old (uptimes and ages tick every minute)"
    print(f"{args.containers} containers ({args.workers} workers), {age}, {cols}x{rows}, {len(applies)} cycles:")
    print(f"    apply   median {1000 * statistics.median(applies):6.2f} ms/cycle (event loop CPU)")
    print(f"    repaint median {1000 * statistics.median(repaints):6.2f} ms/cycle (event loop CPU)")
    for label in ("update_cell", "lines", "cells", "restyles"):
        print(f"    {label:12} median {statistics.median(c[label] for c in per_cycle):6.0f} per cycle")
    if keys:
        print(f"    key g: median {1000 * statistics.median(keys):.0f} ms, max {1000 * max(keys):.0f} ms")


def main() -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--workers", type=int, default=25)
    parser.add_argument("--size", default="120x35", help="terminal COLSxROWS")
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--keys", type=int, default=0, help="key presses timed among the cycles")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the measured cycles (pstats)")
    parser.add_argument("--flap", type=int, default=0, help="the overall level changes every FLAP cycles")
    parser.add_argument("--young", action="store_true", help="containers younger than two minutes")
    asyncio.run(measure(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
