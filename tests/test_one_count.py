"""One count of workers and one wording of swap: the console, `watch --plain` and `snapshot` agree."""

from __future__ import annotations

import re
from dataclasses import replace

from pixel_tui.headless import render_table, status_line
from pixel_tui.model import Swap, Thresholds, Worker
from pixel_tui.ui.gauges import readings
from pixel_tui.ui.workers import title
from tests.scripted import crisis_frame


def test_the_three_views_count_the_same_workers():
    frame = crisis_frame(14)
    exited = next(w for w in frame.workers if w.state == "exited")
    ghost = next(w for w in frame.workers if w.container_id is None)
    assert isinstance(exited, Worker) and ghost.phantom == "ghost"  # rows the counts must leave out
    running = frame.running_workers
    assert running == sum(1 for w in frame.workers if w.container_id and w.state == "running") and running >= 1
    assert f" workers={running} " in status_line(frame)
    assert f"workers: {running} running," in render_table(frame)
    assert title(frame).startswith(f"Workers {running} running")


def test_no_swap_reads_none_everywhere():
    frame = crisis_frame(14)
    frame = replace(frame, host=replace(frame.host, swap=Swap(total=0, used=0, percent=0.0)))
    assert " swap=none " in status_line(frame)
    swap_row = next(line for line in render_table(frame).splitlines() if line.startswith("swap "))
    assert re.match(r"swap\s+none\s", swap_row) and "no swap configured" in swap_row, swap_row
    gauge = next(g for g in readings(frame, Thresholds()) if g.key == "swap")
    assert gauge.value == "none"
