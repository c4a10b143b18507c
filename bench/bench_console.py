"""Benchmark: the console's cost, run as a user runs it, in a pseudo-terminal.

Starts a private engine with N idle busybox containers (default 100), then `pixel-tui` in an 80x24
pseudo-terminal at a 1 s interval, and prints:

- time to the first frame (from spawn until the dashboard's header has been drawn), median of runs;
- CPU used by the console process over a window (default 30 s), as % of one core;
- bytes written to the terminal per second while live, and while refresh is paused (space).

Targets: first frame < 0.6 s, CPU <= 3 % of one core, 0 bytes/s while paused.

    make bench-console
    .venv/bin/python bench/bench_console.py --containers 100 --seconds 30
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import termios
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dockerd import BUSYBOX_IMAGE, PrivateEngine, available  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MARKER = b"pixel-tui"  # drawn in the header of the first frame


class Console:
    """`pixel-tui` in a pseudo-terminal of a given size; reads everything it writes."""

    def __init__(self, args: list[str], env: dict[str, str], cols: int = 80, rows: int = 24) -> None:
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(sys.executable, [sys.executable, "-m", "pixel_tui", *args], env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.pid, self.fd = pid, fd
        self.output = bytearray()

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


def main() -> int:
    """Run the measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0, help="CPU and bytes window")
    parser.add_argument("--windows", type=int, default=3, help="windows for the CPU median")
    parser.add_argument("--starts", type=int, default=5, help="runs for the first-frame median")
    args = parser.parse_args()
    reason = available()
    if reason:
        print(f"cannot run the benchmark: {reason}", file=sys.stderr)
        return 2
    engine = PrivateEngine().start()
    try:
        for index in range(args.containers):
            engine.client.containers.run(
                BUSYBOX_IMAGE, ["sleep", "86400"], name=f"idle-{index:03d}", detach=True, network_mode="none"
            )
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": "80",
            "LINES": "24",
            "PIXEL_TUI_HOME": str(engine.base_dir / "home"),
        }
        argv = ["--docker-host", engine.url, "--interval", "1"]
        firsts = []
        for _ in range(args.starts):
            console = Console(argv, env)
            try:
                firsts.append(console.wait_for(MARKER))
            finally:
                console.close()
        print(
            f"first frame: median {statistics.median(firsts):.3f} s over {len(firsts)} starts "
            f"(min {min(firsts):.3f}, max {max(firsts):.3f}); target < 0.6 s"
        )
        console = Console(argv, env)
        try:
            console.wait_for(MARKER)
            console.read_for(5.0)  # settle: the first cycles fill caches and averages
            process = psutil.Process(console.pid)
            cpu_percents, rates = [], []
            for _ in range(args.windows):
                cpu_before = sum(process.cpu_times()[:2])
                live_bytes = console.read_for(args.seconds)
                cpu_percents.append(100 * (sum(process.cpu_times()[:2]) - cpu_before) / args.seconds)
                rates.append(live_bytes / args.seconds)
            print(
                f"{args.containers} containers, 1 s interval, 80x24: CPU median {statistics.median(cpu_percents):.2f} %"
                f" of one core over {args.windows} windows of {args.seconds:.0f} s"
                f" ({', '.join(f'{p:.2f}' for p in cpu_percents)}; target <= 3 %);"
                f" {statistics.median(rates):.0f} bytes/s to the terminal"
            )
            console.send(b" ")
            console.read_for(2.0)  # the redraw that shows the pause marker
            paused = console.read_for(10.0)
            print(f"paused: {paused / 10.0:.1f} bytes/s over 10 s (target 0)")
        finally:
            console.close()
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
