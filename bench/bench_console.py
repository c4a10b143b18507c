"""Benchmark: the console's cost, run as a user runs it, in a pseudo-terminal.

Starts a private engine with N idle busybox containers (default 100; `--workers` of them named as workers,
`pixel-worker-<8 hex>`, so the workers table has rows whose age and time left tick), then `pixel-tui` in a
pseudo-terminal (80x24 by default, `--size 120x35`) at a 1 s interval, and prints:

- time to the first frame (from spawn until the dashboard's header has been drawn), median of runs;
- CPU used by the console process over windows (default 3 of 30 s), as % of one core, median, split by
  thread: the event loop (applying snapshots, the tables, layout, render), the terminal writer, and the
  collections (one short-lived thread each);
- bytes written to the terminal per second while live, and while refresh is paused (space);
- with `--keys K`: key latency, from typing `g` until the sparkline pane names the next metric;
- with `--profile`: one more window with the event loop under cProfile, its time by part per cycle.

Targets: first frame < 0.6 s, CPU <= 3 % of one core, 0 bytes/s while paused, a key within 0.2 s.

`--trees A B` runs the console from other source trees too (e.g. a `git archive` of the commit before a
change), alternating A, B, A, B window by window against the same engine, so that a machine shared with
other work slows both alike; figures are printed per tree.

    make bench-console
    .venv/bin/python bench/bench_console.py --containers 100 --workers 25 --size 120x35 --keys 10
    .venv/bin/python bench/bench_console.py --containers 500 --workers 125 --size 120x35 --keys 20
    .venv/bin/python bench/bench_console.py --size 120x35 --workers 25 --trees /tmp/before . --windows 6
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pstats
import pty
import re
import secrets
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dockerd import BUSYBOX_IMAGE, PrivateEngine, available  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARTS_RUNNER = Path(__file__).resolve().parent / "console_parts.py"
MARKER = b"pixel-tui"  # drawn in the header of the first frame
METRIC_LABELS = ("swap", "memory", "CPU", "load/core")
"""The sparkline's metrics in the order `g` cycles them (pixel_tui.ui.derive.METRICS)."""


class Console:
    """`pixel-tui` in a pseudo-terminal of a given size; reads everything it writes."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        cols: int = 80,
        rows: int = 24,
        program: Sequence[str] = (sys.executable, "-m", "pixel_tui"),
        cwd: Path | None = None,
    ) -> None:
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            if cwd is not None:
                os.chdir(cwd)
            os.execve(program[0], [*program, *args], env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.pid, self.fd = pid, fd
        self.output = bytearray()
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._fed = 0

    def read_for(self, seconds: float) -> int:
        """Read for `seconds`; returns the number of bytes the console wrote meanwhile."""
        deadline = time.perf_counter() + seconds
        count = 0
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                count += len(chunk)
                self.output += chunk
        return count

    def wait_for(self, marker: bytes, timeout: float = 20.0) -> float:
        """Seconds from spawn until `marker` appeared in the output."""
        deadline = time.perf_counter() + timeout
        while marker not in self.output:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{marker!r} never appeared; last output: {bytes(self.output[-300:])!r}")
            self.read_for(0.005)
        return time.perf_counter() - self.started

    def pump(self, seconds: float) -> None:
        """Read for `seconds`, then feed what arrived to the terminal emulator."""
        self.read_for(seconds)
        self._stream.feed(bytes(self.output[self._fed :]))
        self._fed = len(self.output)

    def send(self, keys: bytes) -> None:
        """Type keys."""
        os.write(self.fd, keys)

    def close(self) -> None:
        """Quit with q, then make sure the process is gone."""
        gone = (OSError, ProcessLookupError, ChildProcessError)
        with contextlib.suppress(gone):
            self.send(b"q")
            self.read_for(1.0)
        with contextlib.suppress(gone):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(gone):
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def compile_tree(tree: Path) -> None:
    """Byte-compile the pixel_tui package of `tree`, as installing it does, so that a start measures the
    console and not Python compiling 80 modules from source (which it does on every start where
    PYTHONDONTWRITEBYTECODE is set, as on some build machines)."""
    argv = [sys.executable, "-m", "compileall", "-q", str(tree / "pixel_tui")]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def shown_metric(console: Console) -> str | None:
    """The metric the sparkline pane names on the second line, right of the gauges."""
    pane = console.screen.display[1].rsplit("▏", 1)[-1].strip()
    pane = re.sub(r"^(cycle \d+|#\d+) ", "", pane)  # with a history the figure is a cycle's: "cycle 14 swap ..."
    return next((label for label in METRIC_LABELS if pane.startswith(label + " ") or pane == label), None)


def key_latency(console: Console) -> float:
    """Seconds from typing `g` until the pane names the next metric."""
    console.pump(0.05)
    current = shown_metric(console)
    assert current is not None, f"no metric on screen: {console.screen.display[1]!r}"
    wanted = METRIC_LABELS[(METRIC_LABELS.index(current) + 1) % len(METRIC_LABELS)]
    sent = time.perf_counter()
    console.send(b"g")
    while shown_metric(console) != wanted:
        console.pump(0.002)
        if time.perf_counter() - sent > 10:
            raise TimeoutError("g not answered in 10 s")
    return time.perf_counter() - sent


@dataclass
class Figures:
    """What the windows of one source tree measured."""

    cpu: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    threads: list[dict[str, float]] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)
    layouts: list[int] = field(default_factory=list)
    asked: dict[str, int] = field(default_factory=dict)


# The event loop's time by part, from the profile: (label, [(file suffix, function)]) summed as cumulative time.
# "apply" is the snapshot reaching the panes (the screen's reactives and every bound watcher; the gauges' watcher
# is async and runs after it); "render" is Textual's repaint timer (layout, compositor, writing the frame).
APPLY = (("ui/dashboard.py", "_deliver"), ("ui/gauges.py", "watch_snapshot"))
TABLES = (("ui/containers.py", "show_data"), ("ui/workers.py", "show_data"))
SCREEN = (("pixel_tui/safe.py", "displayable"), ("ui/derive.py", "smooth"), ("ui/derive.py", "add"))
RENDER = (("textual/screen.py", "_on_timer_update"),)
LAYOUT = (("textual/_compositor.py", "reflow"), ("textual/_compositor.py", "reflow_visible"))
COMPOSITOR = (("textual/_compositor.py", "render_update"),)
OUTPUT = (("textual/app.py", "_display"),)
CYCLES = ("ui/dashboard.py", "_deliver")


def cumulative(stats: pstats.Stats, functions: Sequence[tuple[str, str]]) -> float:
    """Cumulative seconds of the functions named (file suffix, name)."""
    table = stats.stats  # type: ignore[attr-defined]
    return sum(
        row[3]
        for (path, _, name), row in table.items()
        if any(path.endswith(suffix) and name == wanted for suffix, wanted in functions)
    )


def parts(profile: Path) -> tuple[int, dict[str, float]]:
    """Cycles applied in the window and the event loop's seconds by part."""
    stats = pstats.Stats(str(profile))
    table = stats.stats  # type: ignore[attr-defined]
    cycles = sum(row[1] for (path, _, name), row in table.items() if path.endswith(CYCLES[0]) and name == CYCLES[1])
    total = sum(row[2] for row in table.values())
    apply, tables, screen = cumulative(stats, APPLY), cumulative(stats, TABLES), cumulative(stats, SCREEN)
    render, layout = cumulative(stats, RENDER), cumulative(stats, LAYOUT)
    compositor, output = cumulative(stats, COMPOSITOR), cumulative(stats, OUTPUT)
    return cycles, {
        "apply: screen (safe text, CPU smoothing)": screen,
        "apply: tables (rows, cells, sync)": tables,
        "apply: other panes": apply - tables - screen,
        "render: layout": layout,
        "render: compositor (widgets' lines)": compositor,
        "render: frame to terminal": output,
        "render: rest of the repaint": render - layout - compositor - output,
        # Cumulative times of coroutines overlap a little under cProfile: a few tenths of a percent below 0 is 0.
        "event loop: everything else": max(total - apply - render, 0.0),
        "event loop total (profiled)": total,
    }


def thread_split(report: dict[str, object]) -> dict[str, float]:
    """CPU seconds of the window by thread: event loop, terminal writer, input, engine events, collections."""
    threads: dict[str, float] = report["threads"]  # type: ignore[assignment]
    named = {
        "event loop": threads.get("MainThread", 0.0),
        "terminal writer": threads.get("textual-output", 0.0),
        "engine events": threads.get("pixel-docker-events", 0.0),
    }
    known = sum(named.values())
    other_live = sum(threads.values()) - known
    named["other live threads"] = other_live
    named["collections (ended threads)"] = float(report["process"]) - known - other_live  # type: ignore[arg-type]
    return named


def make_containers(engine: PrivateEngine, count: int, workers: int) -> None:
    """`count` idle busybox containers, the first `workers` of them named as workers; eight at a time, and a
    start that fails (runc now and then does, under load) is tried again."""
    import docker

    def start(index: int) -> None:
        name = f"pixel-worker-{secrets.token_hex(4)}" if index < workers else f"idle-{index:03d}"
        for attempt in range(3):
            try:
                engine.client.containers.run(
                    BUSYBOX_IMAGE, ["sleep", "86400"], name=name, detach=True, network_mode="none"
                )
                return
            except docker.errors.APIError:
                with contextlib.suppress(docker.errors.APIError):
                    engine.client.containers.get(name).remove(force=True)
                if attempt == 2:
                    raise

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, range(count)))


def main() -> int:
    """Run the measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--workers", type=int, default=0, help="how many of the containers are workers")
    parser.add_argument("--size", default="80x24", help="terminal COLSxROWS")
    parser.add_argument("--seconds", type=float, default=30.0, help="CPU and bytes window")
    parser.add_argument("--windows", type=int, default=3, help="windows for the CPU median (per tree)")
    parser.add_argument(
        "--age",
        type=float,
        default=0.0,
        help="wait until the containers are this many seconds old before measuring (600: their uptime ticks "
        "by the minute, as on a host whose containers have been up a while; 0: by the second, as just started)",
    )
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before a window starts")
    parser.add_argument("--starts", type=int, default=5, help="runs for the first-frame median")
    parser.add_argument("--keys", type=int, default=0, help="key presses timed after each window")
    parser.add_argument("--profile", action="store_true", help="one more window per tree under cProfile")
    parser.add_argument("--trees", nargs="+", type=Path, default=[ROOT], help="source trees to compare")
    args = parser.parse_args()
    cols, rows = (int(part) for part in args.size.lower().split("x"))
    reason = available()
    if reason:
        print(f"cannot run the benchmark: {reason}", file=sys.stderr)
        return 2
    for tree in args.trees:
        compile_tree(tree)
    engine = PrivateEngine().start()
    parts_dir = Path(tempfile.mkdtemp(prefix="pixel-parts-"))
    try:
        made = time.perf_counter()
        make_containers(engine, args.containers, args.workers)
        print(f"{args.containers} containers ({args.workers} workers) made in {time.perf_counter() - made:.0f} s")
        if args.age > 0:
            time.sleep(args.age)  # from the last container's start

        def console_for(tree: Path, *, profile: bool = False) -> Console:
            env = {
                **os.environ,
                "TERM": "xterm-256color",
                "COLUMNS": str(cols),
                "LINES": str(rows),
                "PIXEL_TUI_HOME": str(engine.base_dir / "home"),
                "PYTHONPATH": str(tree.resolve()),
                "PIXEL_BENCH_PARTS_DIR": str(parts_dir),
                "PIXEL_BENCH_PROFILE": "1" if profile else "0",
            }
            argv = ["--docker-host", engine.url, "--interval", "1"]
            return Console(argv, env, cols, rows, program=(sys.executable, str(PARTS_RUNNER)))

        def window(console: Console) -> dict[str, object]:
            """One measured window, opened and closed by the runner's signals; its report."""
            before = set(parts_dir.glob("window-*.json"))
            os.kill(console.pid, signal.SIGUSR1)
            console.pump(args.seconds)
            os.kill(console.pid, signal.SIGUSR2)
            deadline = time.perf_counter() + 10
            while not (new := set(parts_dir.glob("window-*.json")) - before):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"the console wrote no window report: {console.screen.display}")
                console.pump(0.05)
            report: dict[str, object] = json.loads(new.pop().read_text())
            return report

        for tree in args.trees:
            firsts = []
            for _ in range(args.starts):
                console = console_for(tree)
                try:
                    firsts.append(console.wait_for(MARKER))
                finally:
                    console.close()
            if firsts:
                print(
                    f"[{tree}] first frame: median {statistics.median(firsts):.3f} s over {len(firsts)} starts "
                    f"(min {min(firsts):.3f}, max {max(firsts):.3f}); target < 0.6 s"
                )
        figures = {tree: Figures() for tree in args.trees}
        for _ in range(args.windows):
            for tree in args.trees:  # alternate: a busy machine slows every tree alike
                console = console_for(tree)
                try:
                    console.wait_for(MARKER)
                    console.pump(args.settle)  # the first cycles fill caches and averages
                    live_before = len(console.output)
                    report = window(console)
                    seconds = float(report["seconds"])  # type: ignore[arg-type]
                    figures[tree].cpu.append(100 * float(report["process"]) / seconds)  # type: ignore[arg-type]
                    figures[tree].rates.append((len(console.output) - live_before) / seconds)
                    figures[tree].threads.append({k: 100 * v / seconds for k, v in thread_split(report).items()})
                    layouts: dict[str, Any] = report["layouts"]  # type: ignore[assignment]
                    figures[tree].layouts.append(layouts["done"])
                    figures[tree].asked = layouts["asked"]
                    for press in range(args.keys):
                        console.pump(0.13 * (press % 8))  # land at different points of the interval
                        figures[tree].keys.append(key_latency(console))
                finally:
                    console.close()
        load = os.getloadavg()
        for tree, got in figures.items():
            print(
                f"[{tree}] {args.containers} containers ({args.workers} workers), 1 s interval, {cols}x{rows}: "
                f"CPU median {statistics.median(got.cpu):.2f} % of one core over {len(got.cpu)} windows of "
                f"{args.seconds:.0f} s ({', '.join(f'{p:.2f}' for p in got.cpu)}; target <= 3 %); "
                f"{statistics.median(got.rates):.0f} bytes/s to the terminal"
            )
            split = {key: statistics.median(w[key] for w in got.threads) for key in got.threads[0]}
            print("    by thread (median % of one core): " + ", ".join(f"{k} {v:.2f}" for k, v in split.items()))
            print(
                f"    screen layouts per window: {', '.join(map(str, got.layouts))}; asked for in the last by: "
                + ("; ".join(f"{who} x{count}" for who, count in got.asked.items()) or "nobody")
            )
            if got.keys:
                print(
                    f"    key latency: median {statistics.median(got.keys) * 1000:.0f} ms, "
                    f"max {max(got.keys) * 1000:.0f} ms over {len(got.keys)} keys (target <= 200 ms)"
                )
        print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
        if args.profile:
            for tree in args.trees:
                console = console_for(tree, profile=True)
                try:
                    console.wait_for(MARKER)
                    console.pump(args.settle)
                    report = window(console)
                finally:
                    console.close()
                profile = max(parts_dir.glob("window-*.prof"), key=lambda path: path.stat().st_mtime)
                cycles, by_part = parts(profile)
                total = by_part["event loop total (profiled)"] or 1.0
                # cProfile's own cost inflates many small calls: the shares are what the profile says; the
                # ms/cycle spread the event loop's unprofiled CPU (median of the windows above) over them.
                loop_percent = statistics.median(w["event loop"] for w in figures[tree].threads)
                per_cycle = 10 * loop_percent * float(report["seconds"]) / max(cycles, 1)  # type: ignore[arg-type]
                print(
                    f"[{tree}] event loop by part: cProfile on its thread CPU clock, {cycles} cycles; "
                    f"unprofiled it used {per_cycle:.1f} ms/cycle"
                )
                for label, seconds in by_part.items():
                    share = seconds / total
                    print(f"    {label:40} {100 * share:5.1f} %  ~{share * per_cycle:6.2f} ms/cycle")
                print(f"    profile kept in {profile}")
        tree = args.trees[-1]
        console = console_for(tree)
        try:
            console.wait_for(MARKER)
            console.pump(args.settle)
            console.send(b" ")
            console.read_for(2.0)  # the redraw that shows the pause marker
            paused = console.read_for(10.0)
            print(f"[{tree}] paused: {paused / 10.0:.1f} bytes/s over 10 s (target 0)")
        finally:
            console.close()
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
