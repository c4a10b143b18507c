"""Benchmark: how soon a frozen engine (dockerd SIGSTOPped) shows as unreachable, and what it costs meanwhile.

Each trial runs a collector at a fixed rate (as the pipeline does) on a private engine with a few
containers, freezes dockerd at a random moment of an interval, and measures: the time from the freeze
to the end of the first collection that says unreachable (target: two intervals), the longest
collection while it stays frozen, and the time from the thaw to the first collection that reaches it
again. Both collectors are measured: the quiet one (local engine, healthy event stream: nothing but
the probe asks the engine) and one that lists every collection (as for a remote engine). Then
`snapshot --json` and `heal` are timed on the frozen engine (they must exit 3 with the reason).

    make bench-frozen                          # 5 trials each at a 2 s interval
    make bench-frozen ARGS="--trials 9 --interval 1.5"

Needs root, dockerd and busybox-static (see tests/dockerd.py); never touches the user's engine, and
always thaws the engine it froze.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pixel_tui.collect import Collector  # noqa: E402
from pixel_tui.engine.client import request_timeout  # noqa: E402
from pixel_tui.settings import Settings  # noqa: E402
from tests.dockerd import PrivateEngine, available  # noqa: E402
from tests.test_cli import CALM  # noqa: E402


def trial(engine: PrivateEngine, interval: float, quiet: bool) -> tuple[float, float, float]:
    """(freeze -> unreachable, longest collection while frozen, thaw -> reachable), in seconds."""
    collector = Collector(Settings(docker_host=engine.url, interval=interval))
    collector._engine.quiet = quiet
    frozen_at: list[float] = []

    def freeze() -> None:
        engine.freeze_daemon()
        frozen_at.append(time.monotonic())

    try:
        collector.collect()
        deadline = time.monotonic() + 20
        while not (collector._engine._events and collector._engine._events.healthy):
            assert time.monotonic() < deadline, "the event stream did not connect"
            time.sleep(0.02)
        start = time.monotonic()
        assert collector.collect().docker.reachable
        timer = threading.Timer(random.uniform(0.05, interval - 0.05), freeze)  # anywhere in the interval
        timer.start()
        lost = back = thawed_at = None
        longest = 0.0
        for index in range(1, 40):
            time.sleep(max(0.0, start + index * interval - time.monotonic()))
            began = time.monotonic()
            reachable = collector.collect().docker.reachable
            ended = time.monotonic()
            if thawed_at is None:
                if lost is None and not reachable:
                    lost = ended - frozen_at[0]
                elif lost is not None:
                    longest = max(longest, ended - began)
                    if index >= 6:
                        engine.thaw_daemon()
                        thawed_at = time.monotonic()
            elif reachable:
                back = ended - thawed_at
                break
        timer.join()
        assert lost is not None and back is not None, "never lost, or never back"
        return lost, longest, back
    finally:
        engine.thaw_daemon()
        collector.close()


def command(engine: PrivateEngine, config: Path, *args: str) -> float:
    """Seconds `pixel-tui ARGS` takes on the frozen engine (it must exit 3)."""
    engine.freeze_daemon()
    try:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pixel_tui", *args, "--config", str(config), "--docker-host", engine.url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - started
    finally:
        engine.thaw_daemon()
    assert result.returncode == 3, (result.returncode, result.stdout[-500:], result.stderr[-500:])
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    reason = available()
    if reason:
        print(f"bench-frozen: {reason}", file=sys.stderr)
        return 2
    interval = args.interval
    print(f"interval {interval:g} s, request timeout {request_timeout(interval, 'unix:///x'):g} s; medians (max)")
    with PrivateEngine() as engine:
        for index in range(5):
            engine.run("sleep 3600", name=f"bystander-{index}")
        for quiet in (True, False):
            results = [trial(engine, interval, quiet) for _ in range(args.trials)]
            lost, longest, back = zip(*results, strict=True)
            label = "quiet (stream healthy)" if quiet else "listing every collection"
            print(
                f"{label:26} freeze->unreachable {statistics.median(lost):.2f} s ({max(lost):.2f}, "
                f"bound {2 * interval:g})  collection while frozen {statistics.median(longest) * 1000:.0f} ms "
                f"({max(longest) * 1000:.0f})  thaw->reachable {statistics.median(back):.2f} s ({max(back):.2f})"
            )
        config = Path(engine.base_dir or "/tmp") / "calm.toml"
        config.write_text(CALM)
        for args_ in (("snapshot", "--json", "--sample", "0.1"), ("snapshot", "--json"), ("heal",)):
            times = [command(engine, config, *args_) for _ in range(3)]
            took = f"{statistics.median(times):.2f} s ({max(times):.2f})"
            print(f"{' '.join(args_):26} on a frozen engine: exit 3 in {took}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
