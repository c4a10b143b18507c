"""Benchmark: flat over hours (issue 14, item 6). The console and `heal --every` against a churning engine.

Starts a private engine (tests/dockerd.py) and a churn (bench/soak_churn.py): about `--containers` busybox
containers (default 100) and `--rate` operations a second (default 3): idle containers run, stopped and
removed; workers spawned as the orchestrator spawns them, with ledger tasks that go pending -> running ->
completed; a fifth of the workers hang past their `pixel.timeout` (heal kills them and aborts their task)
and a tenth vanish under a running task (a ghost, which heal aborts after its grace). Then, side by side
on that engine and ledger, each with its own PIXEL_TUI_HOME:

- the console, `pixel-tui --interval 1 --ledger L`, in a 120x35 pseudo-terminal, autoheal OFF (heal does
  the healing; the console only watches, draws, records history and events), its output read and dropped;
- `pixel-tui heal --every 1 --ledger L` with autoheal's policy (stop grace 2 s, ghost and orphan grace 10 s).

Every 5 s it samples each process's RSS, open descriptors and threads; every minute it prints one row per
minute: the churn's operations and containers, and for each process RSS (MB), descriptors and threads (the
minute's highest) and CPU (% of one core over the minute). At the end, the verdict on issue 14's criteria:

- RSS: every minute of the last 5 within 10 % of minute 5 (the console's and heal's);
- descriptors and threads: no growth, i.e. no new high in the last 5 minutes (the highest of the last 5 is
  no higher than the highest from minute 2 until then): a leak keeps making new highs, while descriptors
  follow the running containers (cgroup files held open) and a thread pool fills up as it is first needed.

`--judge LOG` prints the verdict again from the rows a run printed.

Exit 0 when both processes meet both, 1 when not, 2 when it cannot run.

`--trace DIR` runs both under tracemalloc (bench/soak_trace/sitecustomize.py): every `--trace-every`
seconds each dumps a snapshot to DIR/<console|heal>-<n>.snap, and bench/soak_trace/compare.py A B prints
what grew between two (by line and by traceback). Memory figures under tracing are not the product's (the
tracing costs more than the product): use it to find what grows, then measure without it.

    make bench-soak                                    # 30 minutes
    make bench-soak ARGS="--minutes 6 --trace /tmp/soak-trace"
    .venv/bin/python bench/bench_soak.py --minutes 8 --containers 100 --rate 3

Needs root, dockerd and busybox-static (see tests/dockerd.py); never touches the user's engine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from soak_churn import Churn  # noqa: E402

from tests.dockerd import EngineError, PrivateEngine, available  # noqa: E402

TRACE_HOOK = ROOT / "bench" / "soak_trace"
SAMPLE_S = 5.0
COLS, ROWS = 120, 35


@dataclass
class Watched:
    """One process under watch and its per-minute figures."""

    label: str
    pid: int
    process: psutil.Process = field(init=False)
    rss: list[float] = field(default_factory=list)
    """MB at each minute's end."""
    fds: list[int] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    _fds_max: int = 0
    _threads_max: int = 0
    _cpu_at: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        self.process = psutil.Process(self.pid)
        self._cpu_at = (self._cpu_seconds(), time.monotonic())

    def _cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def sample(self) -> None:
        """Note the descriptors and threads now (the minute keeps its highest)."""
        self._fds_max = max(self._fds_max, self.process.num_fds())
        self._threads_max = max(self._threads_max, self.process.num_threads())

    def close_minute(self) -> None:
        """The minute's figures: RSS now, highest descriptors and threads, CPU over the minute."""
        self.sample()
        cpu, at = self._cpu_seconds(), time.monotonic()
        self.cpu.append(100 * (cpu - self._cpu_at[0]) / max(at - self._cpu_at[1], 1e-6))
        self._cpu_at = (cpu, at)
        self.rss.append(self.process.memory_info().rss / 1e6)
        self.fds.append(self._fds_max)
        self.threads.append(self._threads_max)
        self._fds_max = self._threads_max = 0

    def row(self, minute: int) -> str:
        """This process's cells of a minute's row."""
        return f"{self.rss[minute]:>7.1f} {self.fds[minute]:>4} {self.threads[minute]:>4} {self.cpu[minute]:>5.1f}"

    def verdict(self) -> bool:
        """Print whether this process stayed flat; True when it did."""
        return judge(self.label, self.rss, self.fds, self.threads, self.cpu)


def judge(label: str, rss: list[float], fds: list[int], threads: list[int], cpu: list[float]) -> bool:
    """Print one process's verdict from its per-minute figures; True when it stayed flat."""
    if len(rss) < 10:
        print(f"{label}: too short for a verdict ({len(rss)} minutes; 10 needed)")
        return False
    base, last = rss[4], rss[-5:]
    drift = [100 * (value - base) / base for value in last]
    rss_ok = all(abs(value) <= 10 for value in drift)
    # A leak makes new highs to the end; descriptors follow the running containers (cgroup files held open) and a
    # thread pool fills up as it is first needed, so a new high is what counts, not the spread.
    fds_ok, threads_ok = max(fds[-5:]) <= max(fds[1:-5]), max(threads[-5:]) <= max(threads[1:-5])
    slope = (rss[-1] - rss[-11]) / 10 if len(rss) >= 11 else float("nan")
    print(
        f"{label}: RSS minute 5 {base:.1f} MB, last 5 minutes {min(last):.1f}-{max(last):.1f} MB"
        f" ({min(drift):+.1f} % to {max(drift):+.1f} %): {'within' if rss_ok else 'NOT within'} 10 %;"
        f" last 10 minutes {slope:+.2f} MB a minute; peak {max(rss):.1f} MB."
        f" Descriptors {min(fds[1:])}-{max(fds[1:-5])} from minute 2, last 5 minutes up to {max(fds[-5:])}:"
        f" {'no growth' if fds_ok else 'GROWTH'}. Threads {min(threads[1:])}-{max(threads[1:-5])}, last 5 minutes"
        f" up to {max(threads[-5:])}: {'no growth' if threads_ok else 'GROWTH'}. CPU median"
        f" {statistics.median(cpu):.1f} % of a core"
    )
    return rss_ok and fds_ok and threads_ok


def judge_log(path: Path) -> bool:
    """The verdict again from the rows a run printed (`--judge LOG`)."""
    figures: dict[str, tuple[list[float], list[int], list[int], list[float]]] = {
        "console": ([], [], [], []),
        "heal": ([], [], [], []),
    }
    for line in path.read_text().splitlines():
        cells = line.replace("|", " ").split()
        if len(cells) != 12 or not cells[0].isdigit():
            continue
        for label, at in (("console", 4), ("heal", 8)):
            rss, fds, threads, cpu = figures[label]
            rss.append(float(cells[at]))
            fds.append(int(cells[at + 1]))
            threads.append(int(cells[at + 2]))
            cpu.append(float(cells[at + 3]))
    return all([judge(label, *values) for label, values in figures.items()])


class Terminal:
    """`pixel-tui` in a pseudo-terminal; a thread reads and drops what it draws."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        import fcntl
        import termios

        pid, fd = pty.fork()
        if pid == 0:
            os.execve(argv[0], argv, env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.pid, self.fd, self.bytes = pid, fd, 0
        self.tail = b""
        threading.Thread(target=self._drain, name="pty-drain", daemon=True).start()

    def _drain(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.bytes += len(chunk)
                self.tail = (self.tail + chunk)[-2000:]

    def alive(self) -> bool:
        """True while the console runs."""
        with contextlib.suppress(ChildProcessError):
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        return False

    def close(self) -> None:
        """q, then SIGKILL if it is still there."""
        with contextlib.suppress(OSError):
            os.write(self.fd, b"q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.alive():
            time.sleep(0.1)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def write_config(path: Path, ledger: Path, *, autoheal: bool) -> Path:
    """A config: 1 s interval, the ledger, short graces so heal acts within the run."""
    path.write_text(
        "interval = 1.0\n\n"
        f'[workers]\nledger = "{ledger}"\nghost_grace_s = 10.0\norphan_grace_s = 10.0\nspawn_window_s = 30.0\n\n'
        "[remediate]\nstop_grace_s = 2.0\n\n"
        f"[autoheal]\nenabled = {'true' if autoheal else 'false'}\nstartup_cycles = 2\n"
    )
    return path


def environment(home: Path, args: argparse.Namespace, label: str) -> dict[str, str]:
    """The environment of one pixel-tui process: its own home, this tree, the tracing hook if asked."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PIXEL_TUI_HOME": str(home), "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    env.pop("DOCKER_HOST", None)
    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
        env["PYTHONPATH"] = f"{TRACE_HOOK}{os.pathsep}{ROOT}"
        env["PIXEL_SOAK_TRACE"] = str(args.trace / label)
        env["PIXEL_SOAK_TRACE_EVERY"] = str(args.trace_every)
    return env


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30, help="how long (default 30; 10 at least for a verdict)")
    parser.add_argument("--containers", type=int, default=100, help="containers kept (default 100)")
    parser.add_argument("--rate", type=float, default=3.0, help="operations a second (default 3)")
    parser.add_argument("--trace", type=Path, help="run both under tracemalloc, dumping snapshots into this folder")
    parser.add_argument("--judge", type=Path, help="print the verdict of a run's printed rows (a saved output)")
    parser.add_argument("--trace-every", type=float, default=60.0, help="seconds between two snapshots (default 60)")
    args = parser.parse_args()
    if args.minutes < 1 or args.containers < 1 or args.rate <= 0:
        parser.error("--minutes, --containers and --rate must be positive")
    return args


def main() -> int:  # noqa: PLR0915 - one run, start to verdict, reads best in one place
    """Run the soak; exit 0 when both processes stayed flat."""
    args = parse_args()
    if args.judge:
        return 0 if judge_log(args.judge) else 1
    reason = available()
    if reason:
        print(f"cannot run the benchmark: {reason}", file=sys.stderr)
        return 2
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "pixel_tui")], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    engine = PrivateEngine()
    churn: Churn | None = None
    console: Terminal | None = None
    heal: subprocess.Popen[bytes] | None = None
    watched: list[Watched] = []
    flat = False
    with tempfile.TemporaryDirectory(prefix="pixel-soak-") as folder:
        base = Path(folder)
        try:
            engine.start()
            print(f"private engine {engine.url} ({engine.storage_driver}), started in {engine.startup_seconds:.1f} s")
            ledger = base / "task-ledger.json"
            client = docker.DockerClient(base_url=engine.url, timeout=60)
            churn = Churn(client, engine.image, ledger, target=args.containers, rate=args.rate)
            churn.start()
            while churn.census()[0] < args.containers * 0.9:  # fill up before anything is measured
                time.sleep(1)
            print(f"filled to {churn.census()[0]} containers; starting the console and heal", flush=True)
            program = [sys.executable, "-m", "pixel_tui", "--docker-host", engine.url]
            console_config = write_config(base / "console.toml", ledger, autoheal=False)
            console = Terminal([*program, "--config", str(console_config)],
                               environment(base / "console-home", args, "console"))  # fmt: skip
            heal_config = write_config(base / "heal.toml", ledger, autoheal=True)
            heal_home = base / "heal-home"
            heal_err = open(base / "heal.err", "wb")  # noqa: SIM115 - open for the life of heal
            heal = subprocess.Popen(
                ["setpriv", "--pdeathsig", "TERM", *program, "--config", str(heal_config), "heal", "--every", "1"],
                env=environment(heal_home, args, "heal"), stdout=subprocess.DEVNULL, stderr=heal_err,
                start_new_session=True,
            )  # fmt: skip
            time.sleep(0.5)  # setpriv execs python: watch python, not setpriv
            watched = [Watched("console", console.pid), Watched("heal", heal.pid)]
            print(
                f"console: pid {console.pid}, autoheal off, {COLS}x{ROWS}, interval 1 s;"
                f" heal --every 1: pid {heal.pid}, autoheal on; {args.containers} containers,"
                f" {args.rate:g} operations/s, {args.minutes} minutes",
                flush=True,
            )
            print(f"{'min':>3} {'ops':>5} {'ctrs':>4} {'wkrs':>4} |{'console RSS MB':>15} {'fds':>4} {'thr':>4}"
                  f" {'CPU%':>5} |{'heal RSS MB':>12} {'fds':>4} {'thr':>4} {'CPU%':>5}", flush=True)  # fmt: skip
            begun = time.monotonic()
            ops_before = ops_at_begin = churn.counts.ops
            for minute in range(args.minutes):
                end = begun + 60 * (minute + 1)
                while (left := end - time.monotonic()) > 0:
                    time.sleep(min(SAMPLE_S, left))
                    if not console.alive():
                        raise RuntimeError(f"the console exited; its last output: {console.tail[-600:]!r}")
                    if heal.poll() is not None:
                        said = (base / "heal.err").read_text()[-600:]
                        raise RuntimeError(f"heal exited with {heal.returncode}: {said}")
                    for process in watched:
                        process.sample()
                    if int(left) % 10 < SAMPLE_S:
                        churn.forget_gone()
                for process in watched:
                    process.close_minute()
                total, workers = churn.census()
                ops, ops_before = churn.counts.ops - ops_before, churn.counts.ops
                print(f"{minute + 1:>3} {ops:>5} {total:>4} {workers:>4} |{watched[0].row(minute):>27} |"
                      f"{watched[1].row(minute):>24}", flush=True)  # fmt: skip
            counts = churn.counts
            print(
                f"\nchurn: {counts.ops - ops_at_begin} operations while measured"
                f" ({(counts.ops - ops_at_begin) / (time.monotonic() - begun):.2f}/s); in all {counts.started}"
                f" containers started, {counts.removed} removed by the churn, {counts.stopped} stopped;"
                f" {counts.workers} workers: {counts.completed} completed, {counts.hung} hung (heal's to kill),"
                f" {counts.vanished} vanished (ghosts); {counts.failures} failed operations"
            )
            audit = heal_home / "state" / "audit.jsonl"
            with contextlib.suppress(OSError):
                print(f"heal's audit log: {len(audit.read_text().splitlines())} lines")
            print(f"console drew {console.bytes / 1e6:.1f} MB")
            results = [process.verdict() for process in watched]
            flat = all(results)
            print(f"verdict: {'FLAT' if flat else 'NOT FLAT'}")
        except KeyboardInterrupt:
            print("\ninterrupted", flush=True)
        except (EngineError, RuntimeError, docker.errors.DockerException, psutil.Error) as error:
            print(f"the benchmark broke off: {error}", file=sys.stderr, flush=True)
            return 2
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            if console is not None:
                console.close()
            if heal is not None and heal.poll() is None:
                heal.terminate()
                try:
                    heal.wait(30)
                except subprocess.TimeoutExpired:
                    heal.kill()
            if churn is not None:
                churn.stop()
            engine.stop()
    return 0 if flat else 1


if __name__ == "__main__":
    raise SystemExit(main())
