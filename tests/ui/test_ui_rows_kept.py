"""What lets the console keep a row from one collection to the next at 1 000 containers (README "1 000 containers")."""

from __future__ import annotations

from dataclasses import replace

from pixel_tui.model import Thresholds
from pixel_tui.safe import displayable
from pixel_tui.ui.containers import cells, shown
from pixel_tui.ui.derive import CpuSmoother
from pixel_tui.ui.text import ticked, ticking
from tests.scripted import CRISIS_CYCLE, container_id, crisis_frame


def test_ticked_is_what_ticking_shows() -> None:
    for seconds in (0.0, 59.4, 61.0, 119.9, 120.0, 150.7, 179.99, 3_725.3, -130.5, None):
        assert ticking(seconds) == ticking(ticked(seconds))
    assert ticked(130.0) == ticked(179.0) == 120.0  # one minute shown: one key
    assert ticked(110.0) != ticked(111.0)  # to the second for the first two minutes


def test_a_container_shown_alike_keeps_its_key_and_cells() -> None:
    frame = crisis_frame(CRISIS_CYCLE)
    container = next(c for c in frame.containers if c.id == container_id("pixel-api") and c.uptime_s)
    thresholds = Thresholds()
    old = replace(container, uptime_s=3_600.0 + 5)
    later = replace(container, uptime_s=3_600.0 + 50)  # the same minute: the same text
    assert shown(old) == shown(later) and cells(old, thresholds) == cells(later, thresholds)
    for changed in (
        replace(old, uptime_s=3_600.0 + 65),
        replace(old, cpu_percent=(old.cpu_percent or 0) + 0.1),
        replace(old, mem_used=(old.mem_used or 0) + 1),
        replace(old, state="exited"),
        replace(old, restarts=(old.restarts or 0) + 1),
    ):
        assert shown(changed) != shown(old)


def test_an_idle_container_passes_the_smoother_and_displayable_as_the_same_object() -> None:
    frame = crisis_frame(CRISIS_CYCLE)
    idle = replace(frame.containers[0], cpu_percent=0.0)
    quiet = replace(frame, containers=(idle,))
    smoother = CpuSmoother(3)
    for _ in range(3):
        assert smoother.smooth(quiet).containers[0] is idle
    assert displayable(idle) is idle
    hostile = replace(idle, name="evil\x1b]0;pwned\x07", labels={"k\x1b": "v"})
    cleaned = displayable(hostile)
    assert cleaned.name == "evil\\x1b]0;pwned\\x07" and cleaned.labels == {"k\\x1b": "v"}
    assert cleaned.cpu_percent == 0.0 and cleaned.uptime_s == idle.uptime_s
