"""Unit tests of the console's plain parts: themes, stylesheet, derived data, formatting, scripted source."""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from pixel_tui.model import Level
from pixel_tui.ui.derive import CpuSmoother, SessionSamples
from pixel_tui.ui.text import Cell, Palette, clip, level_label, short_duration, short_size, ticking
from pixel_tui.ui.themes import GAUGE_VARIABLES, ThemeError, builtin_themes, load_themes, parse_theme
from tests.scripted import (
    CRISIS_CYCLE,
    GHOST_TASK,
    LOG_TAILER,
    ScriptedSource,
    container_id,
    crisis_frame,
    crisis_frames,
)

UI = Path(__file__).resolve().parents[2] / "pixel_tui" / "ui"
BORDERS = {"border", "border-top", "border-left", "border-right", "border-bottom"}


def test_builtin_themes_ship_with_the_gauge_variables() -> None:
    themes = builtin_themes()
    assert themes.errors == ()
    assert themes.names[:3] == ("pixel-dark", "pixel-light", "pixel-contrast")
    for theme in themes.themes:
        assert set(GAUGE_VARIABLES) <= set(theme.variables), theme.name
        for field in ("background", "surface", "panel", "foreground", "accent", "warning", "error", "success"):
            assert getattr(theme, field), (theme.name, field)
    assert {theme.name: theme.dark for theme in themes.themes}["pixel-light"] is False


def test_the_builtin_themes_are_the_files_of_the_top_level_themes_folder() -> None:
    shipped = {entry.name for entry in resources.files("pixel_tui.themes").iterdir() if entry.name.endswith(".toml")}
    folder = {path.name for path in (UI.parents[1] / "themes").glob("*.toml")}
    assert shipped == folder >= {"pixel-dark.toml", "pixel-light.toml", "pixel-contrast.toml"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = [", "not valid TOML"),
        ('primary = "#fff"', "name: expected a theme name"),
        ('name = "x"', "primary: a theme needs"),
        ('name = "x"\nprimary = "blurple"', "primary: not a color"),
        ('name = "x"\nprimary = "#fff"\ndark = "yes"', "dark: expected true or false"),
        ('name = "x"\nprimary = "#fff"\ncolour = "#000"', "unknown key 'colour'"),
        ('name = "x"\nprimary = "#fff"\n[variables]\ngauge-ok = "nope"', "variables.gauge-ok: not a color"),
    ],
)
def test_a_bad_theme_file_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ThemeError, match=re.escape(message)):
        parse_theme(text, "t.toml")


def test_user_themes_load_after_the_builtins_and_bad_ones_are_reported(tmp_path: Path) -> None:
    (tmp_path / "ok.toml").write_text('name = "ok"\nprimary = "#123456"\n[variables]\ngauge-ok = "#00ff00"\n')
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    themes = load_themes(tmp_path)
    assert themes.names[-1] == "ok" and "pixel-dark" in themes.names
    assert len(themes.errors) == 1 and "bad.toml" in themes.errors[0]
    assert load_themes(tmp_path / "missing").errors == ()


def test_the_stylesheet_uses_theme_variables_only() -> None:
    sheets = list(UI.glob("*.tcss"))
    assert len(sheets) == 1
    text = re.sub(r"/\*.*?\*/", "", sheets[0].read_text(), flags=re.S)
    declarations = re.findall(r"([\w-]+)\s*:\s*([^;{}]*);", text)
    assert declarations
    for prop, value in declarations:
        assert not re.search(r"#[0-9a-fA-F]{3,8}\b|\b(rgb|hsl)a?\(", value), (prop, value)
        if prop in ("color", "background") or prop.endswith("-color") or prop in BORDERS:
            assert "$" in value or value.strip() in ("none", "transparent"), (prop, value)
    python = "".join(path.read_text() for path in UI.glob("*.py"))
    assert not re.search(r"[\"']#[0-9a-fA-F]{6}[\"']", python)


def test_cpu_is_smoothed_per_container_and_forgotten_when_gone() -> None:
    frames = crisis_frames(9, 12)
    smoother = CpuSmoother(3)
    api = container_id("pixel-api")
    raw = [next(c for c in frame.containers if c.id == api).cpu_percent for frame in frames]
    shown = [next(c for c in smoother.smooth(frame).containers if c.id == api).cpu_percent for frame in frames]
    assert shown[0] == raw[0]
    assert shown[-1] == pytest.approx(sum(raw[-3:]) / 3)
    gone = replace(frames[0], containers=())
    smoother.smooth(gone)
    assert next(c for c in smoother.smooth(frames[0]).containers if c.id == api).cpu_percent == raw[0]
    assert CpuSmoother(1).smooth(frames[0]) is frames[0]


def test_session_samples_count_the_collections() -> None:
    samples = SessionSamples(limit=3)
    for frame in crisis_frames(9, 14):
        trend = samples.add(frame)
    assert trend.unit == "sample" and trend.problem is None
    points = trend.points
    assert [point.number for point in points] == [4, 5, 6]
    assert points[-1].value("swap") == 92.5 and points[-1].value("load") == pytest.approx(0.16)


def test_figures_are_compact() -> None:
    assert short_size(None) == "-"
    assert short_size(512) == "512B"
    assert short_size(1640 * 1024**2) == "1.6G"
    assert short_size(16 * 1024**3) == "16G"
    assert short_size(410 * 1024**2) == "410M"
    assert short_duration(2760) == "46m" and short_duration(125) == "2m05s" and short_duration(None) == "-"
    assert clip("pixel-worker-3f2a9c1d", 10) == "pixel-wor…" and clip("short", 10) == "short"
    assert level_label(Level.CRITICAL) == "✖ CRITICAL" and level_label(Level.OK) == "✓ ok"


def test_palette_renders_cells_in_theme_colors() -> None:
    palette = Palette.from_variables({"background": "#000000", "gauge-critical": "#ff0000"})
    text = palette.render(Cell("TIMEOUT", "critical"))
    assert text.plain == " TIMEOUT" and text.style.bold and text.style.color.triplet.hex == "#ff0000"
    assert palette.render(Cell("1.0", right=True)).right


def test_the_scripted_source_replays_then_repeats_the_last() -> None:
    frames = crisis_frames(9, 10)
    source = ScriptedSource(frames)
    assert [source.collect() for _ in range(3)] == [frames[0], frames[1], frames[1]]
    assert source.calls == 3
    db = container_id("pixel-db")
    assert source.detail(db).name == "pixel-db" and source.logs(db) == ""
    source.remove(db)
    with pytest.raises(LookupError):
        source.detail(db)
    with pytest.raises(LookupError):
        source.logs("nope")
    source.close()
    assert source.closed
    with pytest.raises(ValueError):
        ScriptedSource([])


def test_the_crisis_frame_is_the_designed_one() -> None:
    frame = crisis_frame(CRISIS_CYCLE)
    assert frame.host.swap.percent == 92.5 and frame.levels.swap is Level.CRITICAL
    assert frame.host.memory.percent == 53.0 and frame.host.disk_percent == 67.7 and frame.host.load[0] == 0.64
    assert len(frame.containers) == 12
    assert any(c.health == "unhealthy" for c in frame.containers)
    assert LOG_TAILER in {c.name for c in frame.containers}
    assert LOG_TAILER not in {w.container for w in frame.workers}
    ghost = next(w for w in frame.workers if w.task_id == GHOST_TASK)
    assert ghost.container is None and ghost.phantom == "ghost"
    assert [w.phantom for w in frame.workers].count("orphan") == 1
    assert len(frame.timed_out) == 1
    assert crisis_frame(CRISIS_CYCLE) == frame  # fixed timestamps: the same every time
    with pytest.raises(ValueError):
        crisis_frame(3)


def test_ticking_durations_drop_their_seconds_after_two_minutes() -> None:
    from pixel_tui.ui.text import ticking, uptime

    seconds = (None, 5, 119.9, 120, 179, 599, 2204, 7265, 90061)
    assert [uptime(s) for s in seconds] == ["-", "5s", "1m59s", "2m", "2m", "9m", "36m", "2h01m", "1d01h"]
    assert [ticking(s, exact_below=300) for s in (299, 300, -299, -300)] == ["4m59s", "5m", "-4m59s", "-5m"]


def test_a_workers_countdown_is_to_the_second_only_in_its_last_five_minutes() -> None:
    from pixel_tui.ui.workers import cells

    worker = next(w for w in crisis_frame(CRISIS_CYCLE).workers if w.state == "running" and not w.timed_out)
    assert worker.timeout_s is not None

    def shown(age: float) -> tuple[str, str, str]:
        row = cells(replace(worker, age_s=age))
        return row[3].text, row[5].text, row[5].role

    timeout = worker.timeout_s
    assert shown(61) == ("1m01s", short_duration(timeout - 61 - (timeout - 61) % 60), "")
    assert shown(timeout - 299.5) == (ticking(timeout - 299.5), "4m59s", "careful")
    assert shown(timeout - 5) == (ticking(timeout - 5), "5s", "careful")
    assert shown(timeout + 65) == (ticking(timeout + 65), "over 1m05s", "critical")
    assert shown(timeout + 600) == (ticking(timeout + 600), "over 10m", "critical")


def test_snapshot_and_the_console_flag_workers_with_the_same_words() -> None:
    from pixel_tui.format import worker_flags
    from pixel_tui.headless import render_table
    from pixel_tui.ui.workers import cells

    frame = crisis_frame(CRISIS_CYCLE)
    words = {worker.key: " ".join(worker_flags(worker)) or "-" for worker in frame.workers}
    assert sorted(words.values()) == ["-", "PHANTOM ghost", "PHANTOM orphan", "TIMEOUT"]
    table = render_table(frame).splitlines()
    for worker in frame.workers:
        assert worker.task_id is not None
        line = next(line for line in table if line.startswith(worker.task_id))
        assert line.endswith(f"  {words[worker.key]}"), line  # FLAGS is the table's last column
        assert cells(worker)[6].text == words[worker.key]
