"""Benchmark: `pixel-tui heal --every` kills timed-out workers that ignore SIGTERM in time (issue 13, part 3).

Starts a private engine (tests/dockerd.py), then `pixel-tui heal --every INTERVAL` on it as a subprocess
(a private PIXEL_TUI_HOME and config: `[remediate] stop_grace_s`, no ledger), and a spawner that starts
`--rate` busybox workers a minute, evenly spaced, for `--minutes`. Each is named `pixel-worker-<8 hex>`,
labelled `pixel.timeout=<--timeout>`, and runs a shell that ignores SIGTERM as PID 1, so every stop
waits out the whole grace and ends with SIGKILL. Before the run a probe worker is stopped with a 2 s grace
to prove it (the stop must take the grace) and to time the engine's own stop + remove.

For every worker: started = the container's State.StartedAt, removed = the engine's `destroy` event
(a container list each minute catches any event missed), lateness = removed - (started + timeout).
The bound is 2 x interval + stop grace + `--allowance` (default 1 s: the engine's own stop, KILL and
remove, which the probe measures, and a collection). Once the spawner is done, it waits until the last
worker's bound has passed (or every worker is gone); a worker still there then is over the bound.

Prints one row a minute (workers spawned, killed, median and max lateness of those killed, how many of
them over the bound, and at the minute's end how many are overdue, i.e. alive past their timeout, and
how many of those are past the bound), then a summary (median, p95, max lateness, count over the bound),
what heal's audit log says of its kills (outcomes, how long one took, how many ran at once), and heal's
CPU (% of one core over its life) and RSS (at the end and peak). Exit 0 when every worker was killed
within the bound, 1 when one was not, 2 when it cannot run; Ctrl-C prints the summary so far and stops
the engine.

    make bench-heal                                   # 30 minutes, 10 workers a minute, 20 s timeout
    make bench-heal ARGS="--minutes 4"
    .venv/bin/python bench/bench_heal_timeouts.py --minutes 4 --interval 1 --timeout 20 --rate 10
    .venv/bin/python bench/bench_heal_timeouts.py --tree /tmp/other-checkout   # heal from another tree

Needs root, dockerd and busybox-static (see tests/dockerd.py); never touches the user's engine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dockerd import EngineError, PrivateEngine, available  # noqa: E402

WORKER_COMMAND = ["sh", "-c", 'trap "" TERM; while true; do sleep 1; done']
"""A worker that ignores SIGTERM: sh is PID 1 and traps TERM to nothing (its sleeps inherit that)."""
TIMEOUT_LABEL = "pixel.timeout"
PROBE_GRACE_S = 2


@dataclass
class Worker:
    """One spawned worker and what the engine said of it."""

    id: str
    name: str
    started: float
    """State.StartedAt, seconds since the epoch."""
    timeout: float
    removed: float | None = None
    """The engine's destroy event, seconds since the epoch (or the list that first missed it)."""
    seen_by_list: bool = False
    """True when `removed` comes from a container list, not an event: an upper bound."""

    @property
    def deadline(self) -> float:
        """When its timeout ran out."""
        return self.started + self.timeout

    @property
    def lateness(self) -> float | None:
        """Seconds from its deadline until it was removed; None while it lives."""
        return None if self.removed is None else self.removed - self.deadline


class Roster:
    """The workers spawned so far and the destroy events seen, shared by the spawner, the event watcher
    and the main loop (an event may arrive before the spawner registered its container)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: dict[str, Worker] = {}
        self._destroyed: dict[str, float] = {}
        self.spawn_failures = 0

    def add(self, worker: Worker) -> None:
        """Register a started worker."""
        with self._lock:
            worker.removed = self._destroyed.pop(worker.id, worker.removed)
            self._workers[worker.id] = worker

    def destroyed(self, container_id: str, at: float, *, by_list: bool = False) -> None:
        """The engine removed `container_id` at `at` (the first report wins)."""
        with self._lock:
            worker = self._workers.get(container_id)
            if worker is None:
                self._destroyed.setdefault(container_id, at)
            elif worker.removed is None:
                worker.removed, worker.seen_by_list = at, by_list

    def workers(self) -> list[Worker]:
        """A copy of the list, in spawn order."""
        with self._lock:
            return list(self._workers.values())


def engine_time(text: str) -> float:
    """Seconds since the epoch of an engine timestamp (RFC 3339 in UTC, nanoseconds)."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp() + float("0." + (fraction or "0"))


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), math.ceil(fraction * len(ordered))) - 1)]


def seconds(value: float | None) -> str:
    """A lateness for a table cell."""
    return "-" if value is None else f"{value:.1f}"


def probe(engine: PrivateEngine) -> tuple[float, float]:
    """Stop a worker with a short grace: it must take the grace (TERM ignored). Returns (stop s, remove s)."""
    container = engine.run(WORKER_COMMAND, name=f"pixel-probe-{secrets.token_hex(4)}")
    time.sleep(1.0)  # let sh install its trap (as PID 1 it ignores TERM anyway: no handler, no default action)
    begun = time.monotonic()
    container.stop(timeout=PROBE_GRACE_S)
    stopped = time.monotonic()
    container.remove()
    removed = time.monotonic()
    if stopped - begun < PROBE_GRACE_S - 0.1:
        raise RuntimeError(f"the probe worker stopped in {stopped - begun:.2f} s: its PID 1 did not ignore SIGTERM")
    return stopped - begun, removed - stopped


def spawn(engine: PrivateEngine, roster: Roster, args: argparse.Namespace, begun: float, stop: threading.Event) -> None:
    """Start `rate` workers a minute, evenly spaced from `begun` (monotonic), for `minutes`."""
    period = 60.0 / args.rate
    for index in range(round(args.minutes * args.rate)):
        if stop.wait(max(0.0, begun + index * period - time.monotonic())):
            return
        try:
            container = engine.run(
                WORKER_COMMAND, name=f"pixel-worker-{secrets.token_hex(4)}", labels={TIMEOUT_LABEL: f"{args.timeout:g}"}
            )
            started = engine_time(container.attrs["State"]["StartedAt"])
            roster.add(Worker(container.id, container.name, started, args.timeout))
        except Exception as error:  # noqa: BLE001 - counted and said; the run goes on
            roster.spawn_failures += 1
            print(f"spawn failed: {error}", file=sys.stderr, flush=True)


def watch_destroys(stream: Iterator[dict[str, Any]], roster: Roster) -> None:
    """Record each container's destroy event until the stream is closed."""
    with contextlib.suppress(Exception):  # closing the stream from the main thread ends the iteration
        for event in stream:
            if event.get("Action") == "destroy":
                roster.destroyed(event["id"], event["timeNano"] / 1e9)


def reconcile(client: docker.DockerClient, roster: Roster) -> None:
    """Workers missing from a container list with no destroy event seen: removed by now at the latest."""
    now = time.time()
    present = {item["Id"] for item in client.api.containers(all=True)}
    for worker in roster.workers():
        if worker.removed is None and worker.id not in present:
            roster.destroyed(worker.id, now, by_list=True)


def write_config(home: Path, args: argparse.Namespace) -> Path:
    """A config for the heal process: its interval, the stop grace, autoheal on, no ledger."""
    home.mkdir(parents=True)
    config = home / "bench-config.toml"
    config.write_text(
        f"interval = {float(args.interval)}\n\n"
        f"[remediate]\nstop_grace_s = {float(args.stop_grace)}\n\n"
        "[autoheal]\nenabled = true\n"
    )
    return config


class Heal:
    """`pixel-tui heal --every` in a session of its own (Ctrl-C is ours to pass on), sampled for RSS."""

    def __init__(self, tree: Path, url: str, home: Path, config: Path, interval: float) -> None:
        self.out_path, self.err_path = home / "heal.out", home / "heal.err"
        env = {**os.environ, "PIXEL_TUI_HOME": str(home), "PYTHONPATH": str(tree)}
        env.pop("DOCKER_HOST", None)
        argv = [
            "setpriv", "--pdeathsig", "TERM",  # if the bench dies, heal goes too
            sys.executable, "-m", "pixel_tui", "heal", "--every", f"{interval:g}",
            "--docker-host", url, "--config", str(config),
        ]  # fmt: skip
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=out, stderr=err, start_new_session=True)
        self.process = psutil.Process(self.proc.pid)
        self.began = time.monotonic()
        self.peak_rss = 0

    def sample(self) -> None:
        """Note the RSS now; raise when heal has exited."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"heal exited with {self.proc.returncode}:\n{self.tail(self.err_path)}")
        with contextlib.suppress(psutil.Error):
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)

    def usage(self) -> tuple[float, float, int]:
        """CPU seconds (user + system) so far, seconds alive, RSS now."""
        times = self.process.cpu_times()
        rss = self.process.memory_info().rss
        self.peak_rss = max(self.peak_rss, rss)
        return times.user + times.system, time.monotonic() - self.began, rss

    def stop(self) -> None:
        """SIGTERM (it ends its loop when the step in hand returns), then SIGKILL after 30 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def lines(self) -> int:
        """Lines heal printed (one per action)."""
        with contextlib.suppress(OSError):
            return len(self.out_path.read_text(errors="replace").splitlines())
        return 0

    @staticmethod
    def tail(path: Path, count: int = 15) -> str:
        """The last lines of one of its outputs."""
        with contextlib.suppress(OSError):
            return "\n".join(path.read_text(errors="replace").splitlines()[-count:])
        return "(none)"


def minute_row(label: str, workers: list[Worker], start: float, end: float, bound: float) -> str:
    """One row: spawned and killed in [start, end), their lateness, and what is overdue at `end`."""
    spawned = sum(start <= w.started < end for w in workers)
    lateness = [w.removed - w.deadline for w in workers if w.removed is not None and start <= w.removed < end]
    alive = [w for w in workers if w.removed is None or w.removed >= end]
    overdue = sum(w.deadline < end for w in alive)
    past = sum(w.deadline + bound < end for w in alive)
    return (
        f"{label:>6} {spawned:>7} {len(lateness):>6}"
        f" {seconds(statistics.median(lateness) if lateness else None):>9} {seconds(max(lateness, default=None)):>9}"
        f" {sum(value > bound for value in lateness):>6} {overdue:>8} {past:>11}"
    )


def summary(workers: list[Worker], bound: float, now: float) -> int:
    """Print the summary; returns how many workers were over the bound (killed late, or never)."""
    removed = [w for w in workers if w.removed is not None]
    lateness = [w.lateness for w in removed if w.lateness is not None]
    left = [w for w in workers if w.removed is None]
    late_left = [w for w in left if w.deadline + bound < now]
    over = sum(value > bound for value in lateness) + len(late_left)
    print(f"\nworkers: {len(workers)} spawned, {len(removed)} killed, {len(left)} still there")
    if lateness:
        print(
            f"lateness of the killed: median {statistics.median(lateness):.1f} s, p95 {percentile(lateness, 0.95):.1f}"
            f" s, max {max(lateness):.1f} s (bound {bound:g} s); {sum(v > bound for v in lateness)} over the bound"
        )
    if late_left:
        print(
            f"still there past the bound: {len(late_left)}, overdue by {min(now - w.deadline for w in late_left):.1f}"
            f" to {max(now - w.deadline for w in late_left):.1f} s (at least)"
        )
    by_list = sum(w.seen_by_list for w in removed)
    if by_list:
        print(f"({by_list} removals seen by a container list, not an event: their lateness is an upper bound)")
    print(f"over the bound: {over} of {len(workers)}")
    return over


def audit_figures(path: Path) -> None:
    """What heal's audit log says of its worker kills: outcomes, duration, how many at once."""
    records = []
    with contextlib.suppress(OSError):
        for raw in path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(raw)
                if isinstance(record, dict) and record.get("step") == "kill-worker":
                    records.append(record)
    if not records:
        print(f"audit: no kill-worker record in {path}")
        return
    outcomes: dict[str, int] = {}
    for record in records:
        outcomes[str(record.get("outcome"))] = outcomes.get(str(record.get("outcome")), 0) + 1
    durations = [float(r["duration_s"]) for r in records if r.get("outcome") == "ok" and r.get("duration_s")]
    spans = []
    for record in records:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            end = engine_time(str(record["time"]))
            spans.append((end - float(record["duration_s"] or 0), end))
    edges = sorted([(begin, 1) for begin, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, change in edges:  # an end sorts before a begin at the same instant
        running += change
        most = max(most, running)
    words = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    took = f"; one took median {statistics.median(durations):.2f} s, max {max(durations):.2f} s" if durations else ""
    print(f"audit: {len(records)} kill-worker records ({words}){took}; at most {most} at once")


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long workers are spawned (default 30)")
    parser.add_argument("--rate", type=float, default=10.0, help="workers spawned a minute (default 10)")
    parser.add_argument("--interval", type=float, default=2.0, help="heal's interval, `--every` (default 2 s)")
    parser.add_argument("--timeout", type=float, default=20.0, help="each worker's pixel.timeout (default 20 s)")
    parser.add_argument("--stop-grace", type=float, default=10.0, help="config [remediate] stop_grace_s (default 10)")
    parser.add_argument("--allowance", type=float, default=1.0, help="engine allowance in the bound (default 1 s)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree heal runs from (default: this one)")
    args = parser.parse_args()
    if args.interval < 1 or args.rate <= 0 or args.minutes <= 0 or args.timeout <= 0 or args.stop_grace < 0:
        parser.error("--interval must be at least 1 s; --rate, --minutes and --timeout positive; --stop-grace >= 0")
    return args


def main() -> int:
    """Run the benchmark; exit 1 when a worker was over the bound."""
    args = parse_args()
    reason = available()
    if reason:
        print(f"cannot run the benchmark: {reason}", file=sys.stderr)
        return 2
    bound = 2 * args.interval + args.stop_grace + args.allowance
    # Byte-compiled first, as the other benches do (bench_console.compile_tree: not imported, mypy checks this alone).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(args.tree.resolve() / "pixel_tui")], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    # SIGTERM ends the bench as Ctrl-C does: summary so far, then the engine stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    roster, stop = Roster(), threading.Event()
    engine = PrivateEngine()
    heal: Heal | None = None
    clients: list[docker.DockerClient] = []
    stream: Any = None
    interrupted = broken = False
    workers: list[Worker] = []
    with tempfile.TemporaryDirectory(prefix="pixel-heal-bench-") as folder:
        home = Path(folder) / "home"
        try:
            engine.start()
            print(f"private engine {engine.url} ({engine.storage_driver}), started in {engine.startup_seconds:.1f} s")
            stop_s, remove_s = probe(engine)
            print(
                f"probe: a worker ignoring SIGTERM took {stop_s:.2f} s to stop with a {PROBE_GRACE_S} s grace"
                f" (engine {stop_s - PROBE_GRACE_S:.2f} s beyond it) and {remove_s:.2f} s to remove"
            )
            config = write_config(home, args)
            events_client = docker.DockerClient(base_url=engine.url, timeout=None)
            lister = docker.DockerClient(base_url=engine.url, timeout=60)
            clients += [events_client, lister]
            stream = events_client.events(decode=True, filters={"type": "container", "event": "destroy"})
            threading.Thread(target=watch_destroys, args=(stream, roster), daemon=True).start()
            heal = Heal(args.tree.resolve(), engine.url, home, config, args.interval)
            print(
                f"heal --every {args.interval:g} s from {args.tree.resolve()}; {args.rate:g} workers a minute for"
                f" {args.minutes:g} min, timeout {args.timeout:g} s, stop grace {args.stop_grace:g} s; bound"
                f" 2 x {args.interval:g} + {args.stop_grace:g} + {args.allowance:g} (engine) = {bound:g} s",
                flush=True,
            )
            print(f"{'minute':>6} {'spawned':>7} {'killed':>6} {'median s':>9} {'max s':>9} {'over':>6}"
                  f" {'overdue':>8} {'past bound':>11}", flush=True)  # fmt: skip
            begun_wall, begun = time.time(), time.monotonic()
            spawner = threading.Thread(target=spawn, args=(engine, roster, args, begun, stop), daemon=True)
            spawner.start()
            minute = 0
            while True:
                heal.sample()
                now = time.time()
                if now >= begun_wall + 60 * (minute + 1):
                    reconcile(lister, roster)
                    workers = roster.workers()
                    start = begun_wall + 60 * minute
                    print(minute_row(str(minute + 1), workers, start, start + 60, bound), flush=True)
                    minute += 1
                if not spawner.is_alive():
                    workers = roster.workers()
                    last = max((w.deadline + bound for w in workers), default=now)
                    if all(w.removed is not None for w in workers) or now > last + 1.0:
                        break
                time.sleep(1.0 - (time.time() - now) % 1.0)
            reconcile(lister, roster)
            workers = roster.workers()
            end = time.time()
            start = begun_wall + 60 * minute
            if end - start >= 1:
                print(minute_row(f"+{end - start:.0f}s", workers, start, end, bound), flush=True)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: the figures so far", flush=True)
        except (EngineError, RuntimeError, docker.errors.DockerException) as error:
            broken = True
            print(f"the benchmark broke off: {error}", file=sys.stderr, flush=True)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave the engine running
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            stop.set()
            failed = None
            try:
                if heal is not None:
                    workers = roster.workers()
                    over = summary(workers, bound, time.time())
                    if roster.spawn_failures:
                        print(f"spawn failures: {roster.spawn_failures}")
                    audit_figures(home / "state" / "audit.jsonl")
                    with contextlib.suppress(psutil.Error):
                        cpu_s, alive_s, rss = heal.usage()
                        print(
                            f"heal: CPU {cpu_s:.1f} s over {alive_s:.0f} s = {100 * cpu_s / alive_s:.2f} % of one core;"
                            f" RSS {rss / 1e6:.0f} MB at the end, peak {heal.peak_rss / 1e6:.0f} MB;"
                            f" {heal.lines()} lines printed"
                        )
                    failed = over > 0
            except Exception as error:  # noqa: BLE001 - the engine must be stopped whatever went wrong
                print(f"could not sum up: {error}", file=sys.stderr)
            finally:
                if heal is not None:
                    heal.stop()
                    if heal.proc.returncode not in (0, 1, 2):  # heal's own codes: worst outcome of its actions
                        print(f"heal exited with {heal.proc.returncode}:\n{heal.tail(heal.err_path)}", file=sys.stderr)
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()
                for client in clients:
                    with contextlib.suppress(Exception):
                        client.close()
                engine.stop()
    if interrupted:
        return 130
    return 2 if broken or failed is None else int(failed)


if __name__ == "__main__":
    raise SystemExit(main())
