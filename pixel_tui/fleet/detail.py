"""One host of the fleet in detail, read from Prometheus: every pixel-tui series it exports, and an hour of
its level and workers as sparklines. Read-only: acting stays with the host's own console."""

from __future__ import annotations

import time

from pixel_tui.fleet.prom import PromClient, PromError
from pixel_tui.model import Level

BLOCKS = "▁▂▃▄▅▆▇█"
HOUR_S = 3600.0
STEP_S = 60.0
TRENDS = (
    ("level", 'pixel_tui_level{{job="{job}",instance="{instance}",resource="overall"}}', 3.0),
    ("timed out", 'pixel_tui_workers{{job="{job}",instance="{instance}",state="timed_out"}}', None),
    ("phantoms", 'sum(pixel_tui_workers{{job="{job}",instance="{instance}",state=~"ghost|orphan"}})', None),
)
"""(name, query, top of the scale or None for the largest value) of the sparklines."""
LEVEL_WORDS = dict(enumerate(level.value for level in (Level.OK, Level.CAREFUL, Level.WARNING, Level.CRITICAL)))

Section = tuple[str, list[tuple[str, str]]]


def sparkline(points: list[float | None], top: float | None = None) -> str:
    """One character per point, its height the value's share of `top` (or of the largest); a gap is a space."""
    values = [p for p in points if p is not None]
    scale = top if top is not None else max(values, default=0.0)
    if scale <= 0:
        return "".join(" " if p is None else BLOCKS[0] for p in points)
    last = len(BLOCKS) - 1
    return "".join(" " if p is None else BLOCKS[max(0, min(last, round(p / scale * last)))] for p in points)


def host_sections(client: PromClient, job: str, instance: str, now: float | None = None) -> list[Section]:
    """What Prometheus holds of `instance`: its series now, the last hour as sparklines, how to act on it."""
    now = time.time() if now is None else now
    sections: list[Section] = []
    try:
        result = client.query(f'{{__name__=~"pixel_tui_.+",job="{job}",instance="{instance}"}}', at=now)
        rows, actions = [], []
        for series in sorted(result.series, key=lambda s: (s.labels.get("__name__", ""), sorted(s.labels.items()))):
            name = series.labels.get("__name__", "?").removeprefix("pixel_tui_")
            if name == "remediation_actions_total":  # eighty counters, most of them zero: only those that moved
                if series.value:
                    labels = series.labels
                    what = f"{labels.get('action')} by {labels.get('actor_kind')}"
                    actions.append((what, f"{labels.get('outcome')} {series.value:g}"))
                continue
            extra = ",".join(f"{k}={v}" for k, v in sorted(series.labels.items())
                             if k not in ("__name__", "job", "instance"))  # fmt: skip
            rows.append((f"{name}{{{extra}}}" if extra else name, _value(name, series.value)))
        sections.append(("Now", rows or [("series", "none: the host's exporter is down or not scraped yet")]))
        if rows:
            sections.append(("Remediation since its audit log began", actions or [("attempts", "none")]))
        if result.warnings:
            sections.append(("Prometheus warnings", [("", warning) for warning in result.warnings]))
    except PromError as error:
        sections.append(("Now", [("error", str(error))]))
    trend_rows = []
    for name, query, top in TRENDS:
        try:
            trend = client.query_range(query.format(job=job, instance=instance), now - HOUR_S, now, STEP_S)
        except PromError as error:
            trend_rows.append((name, f"error: {error}"))
            continue
        points = _on_steps(trend.series[0].points if trend.series else (), now)
        trend_rows.append((name, sparkline(points, top) + ("  (no points)" if all(p is None for p in points) else "")))
    sections.append(("The last hour (a minute per character)", trend_rows))
    host = instance.rsplit(":", 1)[0].strip("[]")
    sections.append(
        (
            "Acting on it",
            [
                ("here", "read-only: the fleet view reads Prometheus and changes nothing"),
                ("on the host", f"ssh {host}, then pixel-tui"),
                ("from here", f"pixel-tui --docker-host ssh://{host} (see README, Remote engines)"),
            ],
        )
    )
    return sections


def _on_steps(points: tuple[tuple[float, float], ...], now: float) -> list[float | None]:
    by_step = {round((now - t) / STEP_S): v for t, v in points}
    steps = int(HOUR_S / STEP_S)
    return [by_step.get(steps - i) for i in range(steps + 1)]


def _value(name: str, value: float) -> str:
    if name == "level":
        return LEVEL_WORDS.get(int(value), f"{value:g}")
    if name.endswith("_timestamp_seconds"):
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))
    return f"{value:g}"
