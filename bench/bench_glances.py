"""Benchmark: pixel-tui beside glances on the same engine, in turn: what each costs itself and the engine.

Starts a private engine (tests/dockerd.py) with N idle busybox containers, a quarter of them workers
(`pixel-worker-<8 hex>`), then for several rounds runs, one after the other: nothing (the engine's
idle baseline), pixel-tui, glances (`glances -t 1`, its containers plugin on). Each tool runs in a
120x35 pseudo-terminal at a 1 s interval; after a warm-up it is measured over a window of the same
length. Per tool, the medians over the rounds of:

- own CPU: user + system of its process tree, % of one core;
- engine CPU added: dockerd + containerd + shims over the same window, minus the round's idle baseline;
- total: the two added up, and the ratio pixel-tui / glances;
- peak RSS of its process tree, bytes written to the terminal per second;
- pixel-tui only: time to the first frame, and the latency of a key (`g` until the sparkline pane
  names the next metric), measured after the window.

Targets: at N=100 a total ratio <= 0.10, pixel-tui's own CPU <= 3 %, first frame < 0.6 s, RSS < 80 MB;
at N=500 a key answered within 0.2 s. The load average is printed beside the figures: on a shared
machine the spread says how much to trust them.

glances comes from PyPI into a virtual environment of the benchmark's own (bench/.venv-glances, made
on first use: `pip install glances python-dateutil docker`; without python-dateutil glances shows
no containers, and says nothing). Its screen is captured once and must show a container.

    make bench-glances                                  # N=100 and 500, 3 rounds of 30 s after 5 s
    make bench-glances ARGS="--sizes 100 --rounds 2 --seconds 10 --warmup 3"
    .venv/bin/python bench/bench_glances.py --pixel-tui-src /tmp/other-checkout   # another pixel-tui

Needs root, dockerd and busybox-static (see tests/dockerd.py); never touches the user's engine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_console import Console, compile_tree, key_latency  # noqa: E402
from bench_ledger_churn import COLS, ROWS  # noqa: E402

from tests.dockerd import BUSYBOX_IMAGE, PrivateEngine, _daemon_pids, available  # noqa: E402

GLANCES_VENV = ROOT / "bench" / ".venv-glances"
GLANCES_PACKAGES = ("glances", "python-dateutil", "docker")
TARGETS = {"ratio": 0.10, "console": 3.0, "first_frame": 0.6, "rss_mb": 80.0, "key_s": 0.2}


def tree(pid: int) -> list[psutil.Process]:
    """A process and its descendants (those alive)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def cpu_seconds(processes: Iterable[psutil.Process]) -> dict[int, float]:
    """pid -> user + system seconds so far, children it reaped included."""
    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system + times.children_user + times.children_system
    return seconds


def used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two cpu_seconds() readings (a process gone meanwhile counts to its last)."""
    return sum(after.get(pid, spent) - spent for pid, spent in before.items()) + sum(
        spent for pid, spent in after.items() if pid not in before
    )


def peak_rss(pids: Iterable[int]) -> int:
    """The sum of the processes' peak resident sizes (VmHWM), bytes."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
    return total


@dataclass
class Window:
    """One tool's figures over one measurement window."""

    own: float
    engine: float
    rss: int = 0
    bytes_per_s: float = 0.0
    first_frame: float | None = None


@dataclass
class Results:
    """Every window of every round, by tool ("idle" is the engine alone)."""

    windows: dict[str, list[Window]] = field(default_factory=dict)
    keys: list[float] = field(default_factory=list)

    def add(self, tool: str, window: Window) -> None:
        """Keep one window's figures."""
        self.windows.setdefault(tool, []).append(window)

    def median(self, tool: str, figure: Callable[[Window, Window], float | None]) -> float | None:
        """Median over the rounds of a figure computed from the tool's window and the round's idle one."""
        values = [figure(w, idle) for w, idle in zip(self.windows[tool], self.windows["idle"], strict=False)]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None


def glances_binary(venv: Path) -> Path:
    """glances in the benchmark's own virtual environment, installed there from PyPI on first use."""
    binary = venv / "bin" / "glances"
    if binary.exists():
        return binary
    print(f"installing {', '.join(GLANCES_PACKAGES)} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *GLANCES_PACKAGES], check=True)
    return binary


def grow(engine: PrivateEngine, target: int) -> None:
    """Run idle busybox containers until `target` exist; every fourth is a worker by its name."""
    have = len(engine.client.containers.list(all=True, sparse=True))

    def start(index: int) -> None:
        name = f"pixel-worker-{index:08x}" if index % 4 == 0 else f"idle-{index:04d}"
        engine.client.containers.run(BUSYBOX_IMAGE, ["sleep", "86400"], name=name, detach=True, network_mode="none")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, range(have, target)))


def engine_processes(engine: PrivateEngine) -> list[psutil.Process]:
    """dockerd, containerd and the shims of the private engine (by its mount namespace)."""
    assert engine.base_dir is not None
    processes = []
    for pid in _daemon_pids(engine.base_dir, engine._mnt_ns):
        with contextlib.suppress(psutil.NoSuchProcess):
            processes.append(psutil.Process(pid))
    return processes


def measure(engine: PrivateEngine, seconds: float, terminal: Console | None) -> Window:
    """CPU of the tool's tree and of the engine over `seconds`, reading the terminal all along."""
    daemons = engine_processes(engine)
    tool = tree(terminal.pid) if terminal else []
    engine_before, tool_before = cpu_seconds(daemons), cpu_seconds(tool)
    started = time.perf_counter()
    written = terminal.read_for(seconds) if terminal else time.sleep(seconds) or 0
    elapsed = time.perf_counter() - started
    tool_after = cpu_seconds(tree(terminal.pid)) if terminal else {}
    engine_after = cpu_seconds(daemons)
    rss = peak_rss(tool_after) if terminal else 0
    return Window(
        own=100 * used(tool_before, tool_after) / elapsed,
        engine=100 * used(engine_before, engine_after) / elapsed,
        rss=rss,
        bytes_per_s=written / elapsed,
    )


def wait_for_text(terminal: Console, wanted: Callable[[str], bool], what: str, timeout: float) -> None:
    """Read until the emulated screen satisfies `wanted`; fails naming `what` and showing the screen."""
    deadline = time.perf_counter() + timeout
    while True:
        terminal.pump(0.5)
        text = "\n".join(terminal.screen.display)
        if wanted(text):
            return
        if time.perf_counter() > deadline:
            raise SystemExit(f"{what} not on screen after {timeout:.0f} s; the screen:\n{text}")


def shows_a_container(text: str) -> bool:
    """True when a container of the benchmark is named on the screen."""
    return "idle-0" in text or "pixel-worker-0" in text


def run_size(engine: PrivateEngine, size: int, args: argparse.Namespace, glances: Path, home: Path) -> Results:
    """The rounds at one size: idle, pixel-tui, glances, in turn."""
    results = Results()
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PIXEL_TUI_"))},
        "TERM": "xterm-256color",
        "COLUMNS": str(COLS),
        "LINES": str(ROWS),
        "HOME": str(home),
    }
    pixel_src = Path(args.pixel_tui_src).resolve()
    pixel_args = ["--docker-host", engine.url, "--interval", "1"]
    pixel_env = {**base_env, "PIXEL_TUI_HOME": str(home / "pixel-tui"), "PYTHONPATH": str(pixel_src)}
    glances_args = ["-t", "1", "--disable-check-update"]
    glances_env = {**base_env, "DOCKER_HOST": engine.url}
    checked = False
    for round_ in range(1, args.rounds + 1):
        time.sleep(args.warmup)  # whatever ran before settles
        results.add("idle", measure(engine, args.seconds, None))
        for tool in ("pixel-tui", "glances"):
            if tool == "pixel-tui":
                terminal = Console(pixel_args, pixel_env, COLS, ROWS, cwd=pixel_src)
            else:
                terminal = Console(glances_args, glances_env, COLS, ROWS, program=[str(glances)])
            try:
                first = terminal.wait_for(b"pixel-tui" if tool == "pixel-tui" else b"\x1b[", timeout=60)
                if not checked:
                    wait_for_text(terminal, shows_a_container, f"{tool}: a container", timeout=120)
                terminal.read_for(args.warmup)
                window = measure(engine, args.seconds, terminal)
                window.first_frame = first
                results.add(tool, window)
                if tool == "pixel-tui" and args.presses:
                    terminal.pump(1.0)
                    for press in range(args.presses):
                        terminal.pump(0.13 * (press % 7))  # at different points of the collection interval
                        results.keys.append(key_latency(terminal))
            finally:
                terminal.close()
        checked = True
        print(f"  round {round_}/{args.rounds} done, load {load()}", flush=True)
    return results


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report(engine: PrivateEngine, size: int, results: Results, args: argparse.Namespace, load_before: str) -> None:
    """Print the table of medians, the ratios and the targets for one size."""
    idle = statistics.median(w.engine for w in results.windows["idle"])
    daemons = len(engine_processes(engine))
    rows = {}
    for tool in ("pixel-tui", "glances"):
        rows[tool] = {
            "own": results.median(tool, lambda w, _idle: w.own),
            "added": results.median(tool, lambda w, idle_w: w.engine - idle_w.engine),
            "total": results.median(tool, lambda w, idle_w: w.own + w.engine - idle_w.engine),
            "rss": results.median(tool, lambda w, _idle: w.rss / 1e6),
            "bytes": results.median(tool, lambda w, _idle: w.bytes_per_s),
            "first": results.median(tool, lambda w, _idle: w.first_frame),
        }
    print(
        f"\nN={size} ({size // 4} workers), {args.rounds} rounds of {args.seconds:.0f} s after {args.warmup:.0f} s,"
        f" {COLS}x{ROWS}, 1 s interval; engine ({daemons} processes) idle {idle:.2f} % of a core;"
        f" load average before {load_before}, after {load()}"
    )
    print(
        f"{'':<11}{'own CPU %':>10}{'engine +%':>10}{'total %':>9}{'peak RSS MB':>12}{'bytes/s':>9}{'1st frame s':>12}"
    )
    for tool, row in rows.items():
        first = "" if tool != "pixel-tui" else f"{row['first']:.3f}"
        print(
            f"{tool:<11}{row['own']:>10.2f}{row['added']:>10.2f}{row['total']:>9.2f}{row['rss']:>12.1f}"
            f"{row['bytes']:>9.0f}{first:>12}"
        )
    pixel, glances = rows["pixel-tui"], rows["glances"]
    ratio = pixel["total"] / glances["total"] if glances["total"] > 0 else float("nan")
    print(
        f"{'ratio':<11}{pixel['own'] / glances['own']:>10.3f}"
        f"{pixel['added'] / glances['added'] if glances['added'] > 0 else float('nan'):>10.3f}{ratio:>9.3f}"
        f"{pixel['rss'] / glances['rss']:>12.2f}"
    )
    checks = [f"total ratio {ratio:.3f} (target <= {TARGETS['ratio']})"]
    if size <= 100:
        checks += [
            f"console {pixel['own']:.2f} % (target <= {TARGETS['console']})",
            f"first frame {pixel['first']:.3f} s (target < {TARGETS['first_frame']})",
            f"RSS {pixel['rss']:.1f} MB (target < {TARGETS['rss_mb']:.0f})",
        ]
    if results.keys:
        median_key, worst = statistics.median(results.keys), max(results.keys)
        target = f" (target <= {TARGETS['key_s']} s)" if size >= 500 else ""
        checks.append(
            f"key median {median_key * 1000:.0f} ms, max {worst * 1000:.0f} ms over {len(results.keys)}{target}"
        )
    print("pixel-tui: " + "; ".join(checks), flush=True)


def main() -> int:
    """Run the benchmark at each size and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500", help="comma-separated container counts")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of idle, pixel-tui, glances")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before each window")
    parser.add_argument("--presses", type=int, default=10, help="key presses timed after each pixel-tui window")
    parser.add_argument("--glances-venv", default=str(GLANCES_VENV), help="where glances is (or gets) installed")
    parser.add_argument("--pixel-tui-src", default=str(ROOT), help="the pixel-tui checkout to run")
    args = parser.parse_args()
    reason = available()
    if reason:
        print(f"cannot run the benchmark: {reason}", file=sys.stderr)
        return 2
    glances = glances_binary(Path(args.glances_venv))
    compile_tree(Path(args.pixel_tui_src).resolve())
    version = subprocess.run([str(glances), "--version"], capture_output=True, text=True, check=False).stdout
    engine = PrivateEngine().start()
    try:
        print(f"private engine {engine.url} ({engine.storage_driver}); {version.splitlines()[0] if version else ''}")
        with tempfile.TemporaryDirectory(prefix="pixel-glances-") as home:
            for size in sorted(int(size) for size in args.sizes.split(",")):
                grow(engine, size)
                time.sleep(10)  # dockerd and containerd stay busy for a while after starting hundreds
                load_before = load()
                print(f"N={size}: {args.rounds} rounds, load {load_before}", flush=True)
                report(engine, size, run_size(engine, size, args, glances, Path(home)), args, load_before)
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
