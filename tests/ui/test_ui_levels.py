"""The console's gauges show the level the snapshot was judged at, thresholds from the config included."""

from __future__ import annotations

import tomllib

import pytest

from pixel_tui.demo.run import build_demo
from pixel_tui.model import Level
from pixel_tui.settings import parse_settings
from pixel_tui.ui.app import build_app
from pixel_tui.ui.gauges import Gauge
from tests.ui.helpers import dashboard, until

CONFIGS = {
    "": {"swap": Level.CRITICAL, "disk-0": Level.OK, "load": Level.OK},
    "[thresholds]\nswap = [90, 95, 99]\ndisk = [10, 20, 30]\nload = [0.01, 0.02, 0.03]\n": {
        "swap": Level.CAREFUL,
        "disk-0": Level.CRITICAL,
        "load": Level.CRITICAL,
    },
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
async def test_the_gauges_show_the_levels_the_config_s_thresholds_give(tmp_path, config):
    settings = parse_settings(tomllib.loads(config))
    demo = build_demo(settings, tmp_path, clock=lambda: 1.0)  # the demo's crisis, cycle 14
    app = build_app(demo.settings, demo.collector)
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            screen = dashboard(app)
            await until(pilot, lambda: screen.received >= 1)
            await pilot.pause()
            snapshot = screen.snapshot
            assert snapshot is not None
            for key, level in CONFIGS[config].items():
                gauge = app.screen.query_one(f"#gauge-{key}", Gauge)
                assert gauge.reading is not None and gauge.reading.level is level, key
                assert gauge.has_class(f"-{level.value}"), key
            swap = app.screen.query_one("#gauge-swap", Gauge).reading
            assert swap is not None and swap.level is snapshot.levels.swap
    finally:
        demo.history.close()
