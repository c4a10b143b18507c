"""One metric table, levels judged once: a threshold set in the config reaches every view alike.

The demo's world goes through the real collector with settings parsed from TOML; the gauges, `snapshot`
(text and JSON), the history (own and imported records) and the exporter must then all tell the level the
snapshot was judged at. And no module outside `pixel_tui/levels.py` compares a figure with a threshold.
"""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

import pytest

import pixel_tui
from pixel_tui import schema
from pixel_tui.demo.run import build_demo
from pixel_tui.export.metrics import RESOURCES, families
from pixel_tui.headless import render_table, status_line
from pixel_tui.history.aggregate import CycleAggregator
from pixel_tui.history.records import cycle_level
from pixel_tui.levels import HOST_METRICS, METRIC, SPARKLINE_METRICS, ContainerLevels, Level, Levels, Thresholds
from pixel_tui.model import Container, Snapshot, utcnow
from pixel_tui.settings import UISettings, parse_settings
from pixel_tui.ui.containers import cells as container_cells
from pixel_tui.ui.derive import SessionSamples
from pixel_tui.ui.gauges import readings

KEYS = tuple(metric.key for metric in HOST_METRICS)

CONFIGS = {
    "defaults": ("", {"swap": Level.CRITICAL, "memory": Level.WARNING}),
    "relaxed": (
        "[thresholds]\n" + "".join(f"{key} = [997, 998, 999]\n" for key in KEYS),
        dict.fromkeys(KEYS, Level.OK),
    ),
    "strict": (
        "[thresholds]\nswap = [90, 95, 99]\ndisk = [10, 20, 30]\nload = [0.01, 0.02, 0.03]\n",
        {"swap": Level.CAREFUL, "disk": Level.CRITICAL, "load": Level.CRITICAL, "memory": Level.WARNING},
    ),
}
"""Configs, and the levels they give the demo's host at cycle 14 (swap 92.5 %, memory 89 %, disk 67.7 %)."""


def _snapshot(tmp_path: Path, config: str) -> tuple[Snapshot, Thresholds]:
    import tomllib

    settings = parse_settings(tomllib.loads(config))
    demo = build_demo(settings, tmp_path, clock=lambda: 1.0)  # cycle 14: the crisis
    try:
        return demo.collector.collect(), settings.thresholds
    finally:
        demo.history.close()


def _gauge_levels(snapshot: Snapshot, thresholds: Thresholds) -> dict[str, Level]:
    shown = {reading.key: reading.level for reading in readings(snapshot, thresholds)}
    disks = [level for key, level in shown.items() if key.startswith("disk-")]
    return {key: Level.worst(disks) if key == "disk" else shown[key] for key in KEYS}


def _table_levels(snapshot: Snapshot) -> dict[str, Level]:
    """The LEVEL column of `snapshot`'s gauge table, by metric (the disks' worst for disk)."""
    names = {metric.label.lower(): metric.key for metric in HOST_METRICS}
    found: dict[str, list[Level]] = {}
    lines = render_table(snapshot).splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("GAUGE"))
    for line in lines[start + 1 :]:
        if not line:
            break
        name, _value, level, *_ = re.split(r"\s{2,}", line)
        key = names.get(name.split(" ")[0] if name.startswith("disk ") else name)
        if key is not None:
            found.setdefault(key, []).append(Level(level.lower()))
    return {key: Level.worst(levels) for key, levels in found.items()}


def _exported_levels(snapshot: Snapshot) -> dict[str, int]:
    (family,) = [f for f in families(snapshot, {}, autoheal_enabled=False, scrape_s=0.0) if f.name == "pixel_tui_level"]
    return {sample.labels["resource"]: int(sample.value) for sample in family.samples}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_threshold_in_the_config_reaches_every_view_alike(tmp_path, name):
    config, expected = CONFIGS[name]
    snapshot, thresholds = _snapshot(tmp_path, config)
    judged = {key: snapshot.levels.of_metric(key) for key in KEYS}
    for key, level in expected.items():
        assert judged[key] is level, (key, judged[key])
    assert _gauge_levels(snapshot, thresholds) == judged
    assert _table_levels(snapshot) == judged
    document = schema.to_json(snapshot)
    assert {key: Level(document["levels"][key]) for key in KEYS} == judged
    exported = _exported_levels(snapshot)
    assert {key: exported[key] for key in KEYS} == {key: level.rank for key, level in judged.items()}
    assert exported["overall"] == snapshot.levels.overall.rank == Level(document["levels"]["overall"]).rank
    assert f"overall={snapshot.levels.overall.value}" in status_line(snapshot)
    # The history: an own cycle keeps the worst overall level; an imported record of the same figures is judged
    # by the same table against the same thresholds.
    aggregator = CycleAggregator(cycle_s=60.0, clock=lambda: 0.0)
    aggregator.add(snapshot)
    cycle = aggregator.flush()
    assert cycle is not None and cycle.level is snapshot.levels.overall
    for key in KEYS:
        assert cycle_level({key: cycle.figure(key)}, thresholds) is judged[key], key
    # The sparkline's samples carry the figures the levels were judged on.
    point = SessionSamples().add(snapshot).points[-1]
    for metric in SPARKLINE_METRICS:
        assert metric.level(point.value(metric.key), thresholds) is judged[metric.key]


def test_container_levels_follow_the_cpu_and_memory_thresholds():
    container = Container("c1", "web", "nginx", "running", None, None, 0, 60.0, 850, 1000)
    default = ContainerLevels.of(container, Thresholds())
    assert (default.cpu, default.memory) == (Level.CAREFUL, Level.WARNING)
    raised = Thresholds(cpu=(95.0, 97.0, 99.0), memory=(80.0, 90.0, 95.0))
    assert ContainerLevels.of(container, raised) == ContainerLevels(Level.OK, Level.CAREFUL)
    shown = container_cells(container, raised, utcnow())
    assert (shown[3].role, shown[4].role) == ("", "careful")


def test_the_table_names_each_metric_once_everywhere():
    keys = list(KEYS)
    assert keys == ["cpu", "memory", "swap", "disk", "load"]
    assert [f.name for f in fields(Thresholds)] == keys, "one [thresholds] key per metric, in the table's order"
    assert [f.name for f in fields(Levels)] == [*keys, "workers", "disks"]
    assert list(RESOURCES) == ["overall", *keys, "workers"]
    assert {metric.key for metric in SPARKLINE_METRICS} <= set(keys)
    assert UISettings().history_metric in METRIC
    assert [metric.short.lower() for metric in HOST_METRICS] == ["cpu", "mem", "swap", "disk", "load"]
    assert all(metric.unit in ("%", "") for metric in HOST_METRICS)


# --- nothing else judges a figure ---------------------------------------------------------------------------

ROOT = Path(pixel_tui.__file__).parent
TABLE = "levels.py"
READERS = (
    "headless.py",
    "schema.py",
    "export/metrics.py",
    "fleet/hosts.py",
    "history/aggregate.py",
    "history/records.py",
    "ui/gauges.py",
    "ui/containers.py",
    "ui/derive.py",
    "ui/history.py",
    "ui/history_screen.py",
)
"""The modules that show or keep a metric or its level: each reads the table."""


def _judging(tree: ast.AST) -> list[str]:
    """Where a module compares a figure with a threshold itself: `level_for`, or a threshold tuple read by key."""
    found = []
    for node in ast.walk(tree):
        called = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if called == "level_for":
            found.append(f"line {node.lineno}: level_for")
        if isinstance(node, ast.Attribute) and node.attr in KEYS:
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if name == "thresholds" or isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "Thresholds":
                found.append(f"line {node.lineno}: thresholds.{node.attr}")
    return found


def test_only_the_table_compares_a_figure_with_a_threshold():
    offenders = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == TABLE:
            continue
        found = _judging(ast.parse(path.read_text(), relative))
        if found:
            offenders[relative] = found
    assert offenders == {}, "levels are judged in pixel_tui/levels.py only"


def test_the_check_sees_a_module_that_judges():
    sample = "def level(t, v):\n    return level_for(v, t.cpu) if v else settings.thresholds.swap[2]\n"
    assert _judging(ast.parse(sample)) == ["line 2: level_for", "line 2: thresholds.swap"]


@pytest.mark.parametrize("relative", READERS)
def test_every_view_of_a_metric_reads_the_table(relative):
    tree = ast.parse((ROOT / relative).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "pixel_tui.levels" in imported, f"{relative} should name its metrics from pixel_tui.levels"
