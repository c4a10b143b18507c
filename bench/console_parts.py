"""Run `pixel-tui` with a by-part meter attached: bench_console.py starts this instead of `-m pixel_tui`.

Between SIGUSR1 (window start) and SIGUSR2 (window end) it reads each live thread's CPU from /proc, and with
$PIXEL_BENCH_PROFILE=1 profiles the event loop (the main thread) with cProfile on a per-thread CPU clock, so
time spent waiting for input or for the next cycle does not count. At SIGUSR2 it writes, into
$PIXEL_BENCH_PARTS_DIR:

- `window-PID-N.json`: CPU seconds per thread name over the window, the process total, how many screen
  layouts ran and which widgets asked for one (a layout reflows and repaints the whole screen);
- `window-PID-N.prof`: the event loop's profile (pstats format), when profiled.

Threads that live and die within a window (one per collection, see pixel_tui.threads) are counted by the
difference between the process total and the live threads. Everything else is `python -m pixel_tui`.
"""

from __future__ import annotations

import cProfile
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each live Python thread, summed by thread name."""
    times: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        times[thread.name] = times.get(thread.name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return times


def process_cpu() -> float:
    """CPU seconds of the whole process, exited threads included."""
    used = os.times()
    return used.user + used.system


class Layouts:
    """Counts screen layouts, and who asked for them, while a window is open."""

    def __init__(self) -> None:
        self.open = False
        self.asked: Counter[str] = Counter()
        self.done = 0
        from textual.screen import Screen
        from textual.widget import Widget

        refresh, refresh_layout = Widget.refresh, Screen._refresh_layout
        layouts = self

        def asking(widget: Widget, *regions: Any, **kwargs: Any) -> Any:
            if layouts.open and kwargs.get("layout") and not widget._layout_required:
                stack = traceback.extract_stack(limit=16)[:-1]
                # The console's own frame that asked, else Textual's that did.
                caller = next((f for f in reversed(stack) if "pixel_tui" in f.filename), stack[-1])
                where = f"{Path(caller.filename).name}:{caller.lineno} {caller.name}"
                layouts.asked[f"{type(widget).__name__}#{widget.id} from {where}"] += 1
            return refresh(widget, *regions, **kwargs)

        def laying_out(screen: Screen[Any], *args: Any, **kwargs: Any) -> None:
            if layouts.open:
                layouts.done += 1
            refresh_layout(screen, *args, **kwargs)

        Widget.refresh = asking  # type: ignore[method-assign]
        Screen._refresh_layout = laying_out  # type: ignore[method-assign]

    def start(self) -> None:
        """Count from now."""
        self.open, self.done = True, 0
        self.asked.clear()

    def stop(self) -> dict[str, Any]:
        """Stop counting; what was counted."""
        self.open = False
        return {"done": self.done, "asked": dict(self.asked.most_common(12))}


class Meter:
    """Starts and stops the profile and the thread clocks on signals."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.window = 0
        self.profile: cProfile.Profile | None = None
        self.open = False
        self.started: tuple[float, float, dict[str, float]] = (0.0, 0.0, {})
        self.layouts = Layouts()

    def start(self, _signum: int, _frame: FrameType | None) -> None:
        """A window starts: clocks now, and the profile from here when asked for ($PIXEL_BENCH_PROFILE=1)."""
        self.started = (time.monotonic(), process_cpu(), thread_cpu())
        self.open = True
        self.layouts.start()
        if os.environ.get("PIXEL_BENCH_PROFILE") == "1":
            self.profile = cProfile.Profile(time.thread_time)
            self.profile.enable()

    def stop(self, _signum: int, _frame: FrameType | None) -> None:
        """The window ends: write the profile and what each thread used."""
        if not self.open:
            return
        self.open = False
        if self.profile is not None:
            self.profile.disable()
        wall0, total0, threads0 = self.started
        report = {
            "seconds": time.monotonic() - wall0,
            "process": process_cpu() - total0,
            "threads": {name: used - threads0.get(name, 0.0) for name, used in thread_cpu().items()},
            "layouts": self.layouts.stop(),
        }
        self.window += 1
        stem = self.folder / f"window-{os.getpid()}-{self.window}"
        if self.profile is not None:
            self.profile.dump_stats(f"{stem}.prof")
            self.profile = None
        # Written whole, then renamed: the bench reads the report as soon as its name appears.
        Path(f"{stem}.part").write_text(json.dumps(report))
        os.replace(f"{stem}.part", f"{stem}.json")


def main() -> int:
    """Install the meter, then run the CLI with the arguments given."""
    meter = Meter(Path(os.environ["PIXEL_BENCH_PARTS_DIR"]))
    signal.signal(signal.SIGUSR1, meter.start)
    signal.signal(signal.SIGUSR2, meter.stop)
    from pixel_tui.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
