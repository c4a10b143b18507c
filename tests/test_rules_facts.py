"""The fields of each target of a snapshot, as rules see them (docs/rules.md, the fields table)."""

from __future__ import annotations

from dataclasses import replace

from pixel_tui.rules.facts import HealthClock, targets
from pixel_tui.rules.when import parse_when
from tests.scripted import crisis_frame


def _by_kind(snapshot, **kwargs):
    found: dict[str, list] = {}
    for target in targets(snapshot, **kwargs):
        found.setdefault(target.kind, []).append(target)
    return found


def test_every_kind_of_target_has_its_fields_and_the_hosts():
    snapshot = crisis_frame(14)
    kinds = _by_kind(snapshot, swap_margin_percent=10.0)
    assert set(kinds) == {"container", "worker", "orphan", "ghost", "lock", "host"}
    (host,) = kinds["host"]
    assert host.fields["host.swap"] == 92.5 and host.fields["host.swap.level"] == "critical"
    assert host.fields["host.level"] == "critical" and host.fields["swapoff_fits"] is True
    (stuck,) = [t for t in kinds["worker"] if t.name == "pixel-worker-3f2a9c1d"]
    assert stuck.fields["timed_out"] is True and stuck.fields["age_s"] == 2880.0
    assert stuck.key.startswith("worker:") and "health" not in stuck.fields
    (ghost,) = kinds["ghost"]
    assert ghost.key == f"ghost:{ghost.subject.task_id}" and "name" not in ghost.fields
    grafana = next(t for t in kinds["container"] if t.name == "pixel-grafana")
    assert grafana.fields["health"] == "unhealthy" and grafana.fields["restarts"] == 3
    assert grafana.fields["label.nothing-here"] == "" and "timed_out" not in grafana.fields
    assert "label.x" not in ghost.fields  # a ghost has no labels: the field is absent, not ''
    (lock,) = kinds["lock"]
    assert "stale_s" not in lock.fields  # a live lock


def test_a_stale_lock_says_for_how_long_and_a_conflicting_worker_is_no_target():
    snapshot = crisis_frame(14)
    stale = replace(snapshot.lock, stale=True, stale_s=400.0)
    conflicted = tuple(replace(w, conflict="two tasks claim it") for w in snapshot.workers)
    kinds = _by_kind(replace(snapshot, lock=stale, workers=conflicted))
    assert kinds["lock"][0].fields["stale_s"] == 400.0
    assert "worker" not in kinds and "ghost" not in kinds


def test_health_for_s_counts_from_when_pixel_tui_saw_the_health_change():
    clock = HealthClock()
    snapshot = crisis_frame(14)
    grafana = next(c for c in snapshot.containers if c.name == "pixel-grafana")
    assert clock.see(snapshot, 100.0)[grafana.id] == 0.0
    assert clock.see(snapshot, 160.0)[grafana.id] == 60.0
    healed = replace(snapshot, containers=tuple(replace(c, health="healthy") if c.id == grafana.id else c
                                                for c in snapshot.containers))  # fmt: skip
    assert clock.see(healed, 170.0)[grafana.id] == 0.0
    health_for = clock.see(snapshot, 200.0)
    (target,) = [
        t for t in targets(snapshot, health_for=health_for) if t.name == "pixel-grafana" and t.kind == "container"
    ]
    assert target.fields["health_for_s"] == 0.0
    assert parse_when("health == 'unhealthy' and health_for_s < 1s").holds(target.fields)
