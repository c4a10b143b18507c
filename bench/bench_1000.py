"""Benchmark: pixel-tui at 1 000 containers: snapshot, first frame with data, idle CPU, a sort key, RSS.

On a private engine with N idle busybox containers (default 1 000, a quarter of them workers
`pixel-worker-<8 hex>` with a `running` task each in a ledger, see bench/engine_1000.py), for each
source tree and run (trees alternate run by run, so a machine shared with other work slows them alike):

- `pixel-tui snapshot --json --sample 0.1`: wall time from spawn to exit, and its peak RSS;
- the console in a 120x35 pseudo-terminal at a 1 s interval: the first frame WITH DATA (from spawn
  until the containers table's title counts all N containers: the title is set in the same batch as
  the rows, so that frame holds them), then, after a settle, idle CPU over a window (% of one core,
  the process, every thread), then the sort key (`>`) pressed K times at different points of the
  interval, each timed until the table's title names the new order (drawn with the reordered rows),
  then the console's peak RSS (VmHWM);
- the load average, as a measure of how much to trust the figures; and, beside the snapshot's and the first
  frame's wall time, the CPU seconds they took: on a machine whose load average is far above its cores, the
  wall time measures the queue for a core as much as pixel-tui;
- with `--collector N`, the console's collector alone in a process of its own (no Textual): its thread's CPU
  per collection over N collections (the median) and the process's, the part of idle CPU that is not the
  event loop's, measured without a terminal's noise.

It prints medians per tree and, with two trees, the paired ratios B/A (run i of B over run i of A).
Targets (tracker issue 14): snapshot < 1.5 s, first frame with data < 1.5 s, idle CPU < 5 % of a core,
a sort key < 200 ms, RSS < 120 MB.

Starting 1 000 containers takes minutes here: start them once and reuse them.

    python bench/engine_1000.py serve --state /tmp/pxd-1000.json &      # once; SIGTERM stops it
    python bench/bench_1000.py --state /tmp/pxd-1000.json --runs 5
    python bench/bench_1000.py --state /tmp/pxd-1000.json --trees /tmp/before . --runs 5
    python bench/bench_1000.py --state /tmp/pxd-1000.json --profile    # cProfile of each part, top functions
    python bench/bench_1000.py --state /tmp/pxd-1000.json --collector 60   # and the collector alone
    make bench-1000                                                       # its own engine, made and removed

Needs root, dockerd and busybox-static (see tests/dockerd.py); never touches the user's engine.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_console import PARTS_RUNNER, Console, compile_tree  # noqa: E402

TARGETS = {"snapshot_s": 1.5, "first_frame_s": 1.5, "idle_cpu": 5.0, "sort_ms": 200.0, "rss_mb": 120.0}
SORT_TITLES = (b"sort cpu", b"sort memory", b"sort state", b"sort name")
"""What the title says after each press of `>`, starting from the default order (name)."""
COLS, ROWS = 120, 35


@dataclass
class Figures:
    """One tree's figures, run by run."""

    snapshot_s: list[float] = field(default_factory=list)
    snapshot_cpu_s: list[float] = field(default_factory=list)
    snapshot_rss_mb: list[float] = field(default_factory=list)
    first_frame_s: list[float] = field(default_factory=list)
    first_frame_cpu_s: list[float] = field(default_factory=list)
    idle_cpu: list[float] = field(default_factory=list)
    idle_loop: list[float] = field(default_factory=list)
    sort_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    collect_ms: list[float] = field(default_factory=list)
    collect_process_ms: list[float] = field(default_factory=list)


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def process_cpu_s(pid: int) -> float:
    """User + system seconds a live process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    """The engine's address, the ledger, and how to run a tree's pixel-tui against them."""

    def __init__(self, info: dict[str, object], parts_dir: Path) -> None:
        self.url = str(info["DOCKER_HOST"])
        self.ledger = str(info["ledger"])
        self.home = str(info["home"])
        self.containers = int(info["containers"])  # type: ignore[call-overload]
        self.parts_dir = parts_dir

    def env(self, tree: Path, *, profile: bool = False) -> dict[str, str]:
        """The environment a run of `tree` gets."""
        return {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(COLS),
            "LINES": str(ROWS),
            "PIXEL_TUI_HOME": self.home,
            "PYTHONPATH": str(tree.resolve()),
            "PIXEL_BENCH_PARTS_DIR": str(self.parts_dir),
            "PIXEL_BENCH_PROFILE": "1" if profile else "0",
        }

    def args(self) -> list[str]:
        """Options every command gets: this engine, this ledger."""
        return ["--docker-host", self.url, "--ledger", self.ledger]

    def snapshot(self, tree: Path, profile: Path | None = None) -> tuple[float, float, float]:
        """Seconds, CPU seconds (user + system) and peak RSS (MB) of one `snapshot --json --sample 0.1`."""
        python = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
        argv = [*python, "-m", "pixel_tui", "snapshot", "--json", "--sample", "0.1", *self.args()]
        started = time.perf_counter()
        # From the tree's own directory: `python -m` puts the working directory first on sys.path, before
        # PYTHONPATH, so from elsewhere it could run another checkout's pixel_tui.
        process = subprocess.Popen(argv, env=self.env(tree), cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = bytearray()
        reader = threading.Thread(target=lambda: out.extend(process.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        reader.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        document = json.loads(out)
        count = len(document["containers"])
        if count < self.containers:
            raise RuntimeError(f"snapshot saw {count} containers, not {self.containers}")
        return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024

    def console(self, tree: Path, *, profile: bool = False) -> Console:
        """The console of `tree`, metered by console_parts.py, in a 120x35 pseudo-terminal."""
        argv = [*self.args(), "--interval", "1"]
        return Console(argv, self.env(tree, profile=profile), COLS, ROWS, program=(sys.executable, str(PARTS_RUNNER)))

    def data_marker(self) -> bytes:
        """What the containers table's title says once it holds every container."""
        return f"/{self.containers} running".encode()

    def window(self, console: Console, seconds: float, during: object = None) -> dict[str, object]:
        """A metered window (console_parts.py's SIGUSR1 ... SIGUSR2); `during(console)` runs inside it."""
        before = set(self.parts_dir.glob("window-*.json"))
        os.kill(console.pid, signal.SIGUSR1)
        if callable(during):
            during(console)
        else:
            console.read_for(seconds)
        os.kill(console.pid, signal.SIGUSR2)
        deadline = time.perf_counter() + 10
        while not (new := set(self.parts_dir.glob("window-*.json")) - before):
            if time.perf_counter() > deadline:
                raise TimeoutError("the console wrote no window report")
            console.read_for(0.05)
        report: dict[str, object] = json.loads(new.pop().read_text())
        return report


def sort_presses(console: Console, presses: int, start: int) -> list[float]:
    """Press `>` `presses` times, each at another point of the 1 s interval; seconds until the title names the
    new order. `start` is how many presses this console already had."""
    times = []
    for press in range(start, start + presses):
        console.read_for(0.37 * (press % 3) + 0.1)  # land at different points of the interval
        wanted = SORT_TITLES[press % len(SORT_TITLES)]
        mark = len(console.output)
        sent = time.perf_counter()
        console.send(b">")
        while wanted not in console.output[mark:]:
            if time.perf_counter() - sent > 30:
                raise TimeoutError(f"{wanted!r} never drawn")
            console.read_for(0.002)
        times.append(time.perf_counter() - sent)
    return times


COLLECTOR_COST = """
import json, statistics, sys, time
from pixel_tui.collect import Collector
from pixel_tui.settings import Settings, WorkerSettings
url, ledger, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = Settings(docker_host=url, interval=1.0, workers=WorkerSettings(ledger=ledger))
collector = Collector(settings, defer_batch=250)  # as the console makes it
for _ in range(6):  # the held-back inspects read, every cgroup located
    collector.collect()
    time.sleep(0.2)
spent, started = [], time.process_time()
for _ in range(count):
    before = time.thread_time()
    collector.collect()
    spent.append(time.thread_time() - before)
    time.sleep(0.2)
process = (time.process_time() - started) / count
collector.close()
print(json.dumps({"thread_ms": 1000 * statistics.median(spent), "process_ms": 1000 * process}))
"""
"""The console's collector alone, in a process of its own: its thread's CPU per collection (median) and the
process's (its threads too), once the first collections are past (--collector)."""


def collector_cost(bench: Bench, tree: Path, count: int) -> tuple[float, float]:
    """(thread, process) CPU milliseconds per collection of `tree`'s collector on the bench's engine."""
    argv = [sys.executable, "-c", COLLECTOR_COST, bench.url, bench.ledger, str(count)]
    done = subprocess.run(argv, env=bench.env(tree), cwd=tree, capture_output=True, text=True, timeout=300, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["thread_ms"], figures["process_ms"]


def run_once(bench: Bench, tree: Path, figures: Figures, args: argparse.Namespace) -> None:
    """One run of every measurement for one tree."""
    if args.collector:
        thread_ms, process_ms = collector_cost(bench, tree, args.collector)
        figures.collect_ms.append(thread_ms)
        figures.collect_process_ms.append(process_ms)
    seconds, cpu, rss = bench.snapshot(tree)
    figures.snapshot_s.append(seconds)
    figures.snapshot_cpu_s.append(cpu)
    figures.snapshot_rss_mb.append(rss)
    console = bench.console(tree)
    try:
        figures.first_frame_s.append(console.wait_for(bench.data_marker(), timeout=60))
        figures.first_frame_cpu_s.append(process_cpu_s(console.pid))
        console.read_for(args.settle)
        report = bench.window(console, args.seconds)
        seconds = float(report["seconds"])  # type: ignore[arg-type]
        figures.idle_cpu.append(100 * float(report["process"]) / seconds)  # type: ignore[arg-type]
        figures.idle_loop.append(100 * report["threads"].get("MainThread", 0.0) / seconds)  # type: ignore[attr-defined]
        presses = sort_presses(console, args.keys, 0)
        figures.sort_ms.extend(1000 * t for t in presses)
        figures.rss_mb.append(peak_rss_mb(console.pid))
    finally:
        console.close()


def top(profile: Path, count: int = 18) -> str:
    """The functions with the most cumulative time in a profile, as pstats prints them."""
    import io

    out = io.StringIO()
    stats = pstats.Stats(str(profile), stream=out)
    stats.sort_stats("cumulative").print_stats(count)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start : start + count + 1])


def profile_all(bench: Bench, tree: Path, args: argparse.Namespace) -> None:
    """cProfile of the snapshot command (main thread), the idle console and the sort key (event loop)."""
    folder = Path(tempfile.mkdtemp(prefix="pixel-1000-prof-"))
    bench.snapshot(tree, folder / "snapshot.prof")
    print(f"\n[{tree}] snapshot --json --sample 0.1 under cProfile (main thread):\n{top(folder / 'snapshot.prof')}")
    console = bench.console(tree, profile=True)
    try:
        console.wait_for(bench.data_marker(), timeout=60)
        console.read_for(args.settle)
        bench.window(console, args.seconds)
        idle = max(bench.parts_dir.glob("window-*.prof"), key=lambda p: p.stat().st_mtime)
        print(f"\n[{tree}] idle console, event loop over {args.seconds:.0f} s:\n{top(idle)}")
        bench.window(console, 0, during=lambda c: sort_presses(c, 4, 0))
        keys = max(bench.parts_dir.glob("window-*.prof"), key=lambda p: p.stat().st_mtime)
        print(f"\n[{tree}] 4 sort keys, event loop:\n{top(keys)}")
    finally:
        console.close()
    print(f"profiles kept in {folder} and {bench.parts_dir}")


def median(values: list[float]) -> float:
    """The median, NaN for nothing."""
    return statistics.median(values) if values else float("nan")


def report(figures: dict[Path, Figures], runs: int) -> None:
    """Medians per tree against the targets; paired ratios when two trees ran."""
    rows = (
        ("snapshot --json --sample 0.1", "snapshot_s", "s", "snapshot_s"),
        ("  its CPU (user + system)", "snapshot_cpu_s", "s", None),
        ("first frame with data", "first_frame_s", "s", "first_frame_s"),
        ("  CPU until then", "first_frame_cpu_s", "s", None),
        ("idle CPU, % of a core", "idle_cpu", "%", "idle_cpu"),
        ("  of which the event loop", "idle_loop", "%", None),
        ("sort key until redrawn", "sort_ms", "ms", "sort_ms"),
        ("console peak RSS", "rss_mb", "MB", "rss_mb"),
        ("snapshot peak RSS", "snapshot_rss_mb", "MB", None),
        ("collector alone, a collection", "collect_ms", "ms", None),
        ("  the process's CPU per collection", "collect_process_ms", "ms", None),
    )
    for tree, got in figures.items():
        print(f"[{tree}] medians over {runs} runs:")
        for label, name, unit, target in rows:
            values: list[float] = getattr(got, name)
            if not values and name.startswith("collect"):
                continue  # measured only with --collector
            spread = f"{min(values):.3g} to {max(values):.3g}" if values else "-"
            goal = f"target < {TARGETS[target]:g} {unit}" if target else ""
            print(f"    {label:30} {median(values):9.3f} {unit:2}  ({spread}, n={len(values)})  {goal}")
    trees = list(figures)
    if len(trees) == 2:
        a, b = figures[trees[0]], figures[trees[1]]
        print(f"paired ratios {trees[1]} / {trees[0]} (median of run-by-run ratios):")
        for label, name, _, _ in rows:
            pairs = [y / x for x, y in zip(getattr(a, name), getattr(b, name), strict=False) if x]
            if pairs:
                print(f"    {label:30} {median(pairs):.3f}")


def main() -> int:
    """Run the measurements (on a served engine, or on one of its own) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, help="a running bench/engine_1000.py's state file (else: start one)")
    parser.add_argument("--containers", type=int, default=1000, help="without --state: how many to start")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0, help="idle CPU window")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the first frame before the window")
    parser.add_argument("--keys", type=int, default=4, help="sort key presses per run")
    parser.add_argument("--trees", nargs="+", type=Path, default=[ROOT], help="source trees to compare")
    parser.add_argument("--profile", action="store_true", help="then profile each part once per tree")
    parser.add_argument(
        "--collector", type=int, default=0, metavar="N", help="also time N collections of the collector alone"
    )
    args = parser.parse_args()
    for tree in args.trees:
        compile_tree(tree)
    server = None
    state = args.state
    if state is None:
        state = Path(tempfile.mkdtemp(prefix="pixel-1000-")) / "state.json"
        argv = [sys.executable, str(ROOT / "bench" / "engine_1000.py"), "serve", "--containers", str(args.containers)]
        server = subprocess.Popen([*argv, "--state", str(state)])
        while not state.exists():
            if server.poll() is not None:
                print("the engine could not be started", file=sys.stderr)
                return 2
            time.sleep(1)
    try:
        info = json.loads(state.read_text())
        bench = Bench(info, Path(tempfile.mkdtemp(prefix="pixel-1000-parts-")))
        print(f"engine {bench.url}: {info['containers']} containers, {info['workers']} workers, {info['tasks']} tasks")
        figures = {tree: Figures() for tree in args.trees}
        for _ in range(args.runs):
            for tree in args.trees:
                run_once(bench, tree, figures[tree], args)
        load = os.getloadavg()
        report(figures, args.runs)
        print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
        if args.profile:
            for tree in args.trees:
                profile_all(bench, tree, args)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
