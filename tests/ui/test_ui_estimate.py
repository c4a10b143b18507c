"""A CPU % that is an estimate (a podman engine's stats, without its CPU count) is shown as one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pixel_tui.model import Container, Thresholds
from pixel_tui.ui.containers import cells, shown

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ROW = Container("ab" * 32, "web", "busybox", "running", None, NOW - timedelta(seconds=60), 0, 12.34, 1024, 2048)


def test_an_estimated_cpu_figure_is_marked_and_its_row_redrawn():
    measured = cells(ROW, Thresholds(), NOW)
    estimated = cells(replace(ROW, cpu_estimated=True), Thresholds(), NOW)
    assert measured[3].text == "12.3" and estimated[3].text == "~12.3"
    assert shown(ROW, NOW) != shown(replace(ROW, cpu_estimated=True), NOW)
