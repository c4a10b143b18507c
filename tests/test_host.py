"""Host CPU %: the sampler's own baseline, right on the first line and from any thread."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections import namedtuple

import psutil

from pixel_tui.collect.host import HostSampler, busy_percent

MISSING = "unix:///nonexistent/pixel-test.sock"
Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")


def times(user=0.0, system=0.0, idle=0.0, iowait=0.0, guest=0.0) -> Times:
    return Times(user, 0.0, system, idle, iowait, 0.0, 0.0, 0.0, guest, 0.0)


class Fake:
    """A scripted cpu_times source and clock."""

    def __init__(self) -> None:
        self.times = times()
        self.now = 100.0

    def cpu_times(self) -> Times:
        return self.times

    def clock(self) -> float:
        return self.now


def sampler(fake: Fake) -> HostSampler:
    return HostSampler(cpu_times=fake.cpu_times, clock=fake.clock)


def test_cpu_percent_from_deltas_of_the_samplers_own_baseline():
    fake = Fake()
    host = sampler(fake)  # the baseline is taken here: the first reading after it is measured
    fake.times, fake.now = times(user=30, system=10, idle=50, iowait=10), 101.0
    assert host.cpu_percent() == 40.0  # busy = total - idle - iowait
    fake.times, fake.now = times(user=30, system=10, idle=150, iowait=10), 102.0
    assert host.cpu_percent() == 0.0
    # Guest time is already in user on Linux: not counted twice.
    fake.times, fake.now = times(user=130, system=10, idle=150, iowait=10, guest=100), 103.0
    assert host.cpu_percent() == 100.0


def test_a_too_short_window_is_unmeasured_and_keeps_the_baseline():
    fake = Fake()
    host = sampler(fake)
    fake.times, fake.now = times(user=1, idle=0), 100.05
    assert host.cpu_percent() is None
    assert host.sample().cpu_percent is None
    # The next reading measures from creation, not from the too-short reading.
    fake.times, fake.now = times(user=25, idle=75), 100.5
    assert host.cpu_percent() == 25.0


def test_counters_going_backwards_and_no_delta():
    fake = Fake()
    fake.times = times(user=100, idle=100, iowait=50)
    host = sampler(fake)
    # iowait went backwards (tickless kernels do that): no change, not a negative one.
    fake.times, fake.now = times(user=110, idle=130, iowait=40), 101.0
    assert host.cpu_percent() == 25.0
    fake.now = 102.0  # nothing moved at all: no figure, never a division by zero
    assert host.cpu_percent() is None
    fake.times, fake.now = times(user=0, idle=0, iowait=0), 103.0  # every counter went back
    assert host.cpu_percent() is None
    fake.times, fake.now = times(user=5, idle=15, iowait=0), 104.0  # measured from the new baseline
    assert host.cpu_percent() == 25.0
    assert busy_percent(times(user=1), times(user=1)) is None


def _busy(stop: threading.Event) -> None:
    while not stop.is_set():
        pass


def _reference(before, after) -> float:
    return busy_percent(before, after) or 0.0


def test_samples_from_two_threads_in_turn_while_a_core_is_busy():
    host = HostSampler()
    figures: list[float | None] = []
    marks = [psutil.cpu_times()]
    turns = [queue.Queue(), queue.Queue()]
    done: queue.Queue = queue.Queue()

    def sampler_thread(turn: queue.Queue) -> None:
        # Two long-lived threads taking turns: what asyncio.to_thread's pool does to the collection.
        while turn.get():
            figures.append(host.sample().cpu_percent)
            marks.append(psutil.cpu_times())
            done.put(None)

    threads = [threading.Thread(target=sampler_thread, args=(turn,)) for turn in turns]
    stop = threading.Event()
    burner = threading.Thread(target=_busy, args=(stop,))
    for thread in [*threads, burner]:
        thread.start()
    try:
        for index in range(6):
            time.sleep(0.4)
            turns[index % 2].put(True)
            done.get(timeout=10)
    finally:
        stop.set()
        for turn in turns:
            turn.put(False)
        for thread in [*threads, burner]:
            thread.join()
    assert None not in figures, figures
    references = [_reference(marks[i], marks[i + 1]) for i in range(len(figures))]
    cores = psutil.cpu_count() or 1
    for figure, reference in zip(figures, references, strict=True):
        # One core busy: at least about 1/cores of the machine; what others run here is measured too.
        assert figure > 50.0 / cores, (figures, references)
        assert abs(figure - reference) < 25.0, (figures, references)


def test_first_watch_plain_line_has_a_real_cpu_figure():
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        before = psutil.cpu_times()
        result = subprocess.run(
            [sys.executable, "-m", "pixel_tui", "watch", "--plain", "--count", "2", "--interval", "0.5"]
            + ["--docker-host", MISSING],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NO_COLOR": "1"},
        )
        reference = _reference(before, psutil.cpu_times())
    finally:
        burner.kill()
        burner.wait()
    assert result.returncode in (1, 2, 3), result.stderr  # the worst level printed: never ok without an engine
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    figures = [re.search(r" cpu=(\S+)", line).group(1) for line in lines]
    assert "-" not in figures and "0.0" not in figures, (figures, reference)
    cores = psutil.cpu_count() or 1
    for figure in map(float, figures):
        assert figure > 50.0 / cores and abs(figure - reference) < 35.0, (figures, reference)


def test_the_shortest_snapshot_sample_still_measures_cpu():
    """`snapshot --sample 0.1` (the benchmarks' and cron's quick reading) gives a CPU figure, not '-'."""
    result = subprocess.run(
        [sys.executable, "-m", "pixel_tui", "snapshot", "--json", "--sample", "0.1", "--docker-host", MISSING],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.stdout, result.stderr
    assert json.loads(result.stdout)["host"]["cpu_percent"] is not None
