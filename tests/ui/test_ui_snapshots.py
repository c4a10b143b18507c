"""Snapshot tests (pytest-textual-snapshot): the dashboard at 40x12, 80x24 and 160x45, and the high-contrast theme.

Deterministic by construction: scripted snapshots with fixed timestamps, no clock on screen, no blinking
cursor, a collector that only steps when told. Regenerate with `pytest tests/ui --snapshot-update`.
"""

from __future__ import annotations

from textual.pilot import Pilot

from tests.ui.helpers import make_app, replay


async def _crisis(pilot: Pilot) -> None:
    await replay(pilot)
    await pilot.pause()


def test_dashboard_40x12(snap_compare) -> None:
    """The smallest console: gauges keep their values and levels, the bars and the sparkline shrink."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(40, 12), run_before=_crisis)


def test_dashboard_80x24(snap_compare) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_crisis)


def test_dashboard_160x45(snap_compare) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(160, 45), run_before=_crisis)


def test_dashboard_high_contrast_read_only(snap_compare) -> None:
    app, _ = make_app(theme="pixel-contrast", read_only=True)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_crisis)
