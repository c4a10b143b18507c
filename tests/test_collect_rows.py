"""Rows kept from one collection to the next: an unchanged container is the very same object (no engine needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixel_tui.collect.listing import UNMEASURED, Inspected, Rows, same_items

STARTED = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def item(cid: str, state: str = "running", status: str = "Up 2 hours") -> dict[str, object]:
    return {"Id": cid, "Names": [f"/{cid}"], "Image": "busybox", "State": state, "Status": status, "Labels": {}}


def inspected(restarts: int = 0) -> Inspected:
    return Inspected(("running", None), STARTED, restarts, None, 4242, None, 0.0)


def test_a_container_whose_list_item_inspect_and_figures_are_unchanged_is_the_same_object() -> None:
    rows = Rows(host_memory=8 << 30)
    listed, info = item("a" * 64), inspected()
    first = rows.row(listed, info, (0.0, 320_000, None), False)
    assert rows.row(listed, info, (0.0, 320_000, None), False) is first
    assert first.uptime_at(STARTED + timedelta(hours=2)) == 7200.0  # derived from its start, not stored
    assert first.mem_limit == 8 << 30  # unlimited: the host's memory
    for changed in (
        rows.row(listed, info, (0.5, 320_000, None), False),  # its CPU moved
        rows.row(listed, info, (0.5, 330_000, None), False),  # its memory moved
        rows.row(listed, info, (0.5, 330_000, None), True),  # an estimate now
        rows.row(dict(listed), info, (0.5, 330_000, None), True),  # listed again: another item
        rows.row(listed, inspected(restarts=1), (0.5, 330_000, None), True),  # inspected again
    ):
        assert changed is not first
        first = changed
    assert first.restarts == 1 and first.cpu_percent == 0.5 and first.cpu_estimated


def test_rows_of_containers_no_longer_listed_are_forgotten() -> None:
    rows = Rows(host_memory=None)
    a, b = item("a" * 64), item("b" * 64, state="exited", status="Exited (3) 1 minute ago")
    kept_a, kept_b = rows.row(a, None, UNMEASURED, False), rows.row(b, None, UNMEASURED, False)
    assert kept_b.exit_code == 3 and not kept_a.inspected and kept_a.uptime_at(STARTED) is None
    rows.keep_only({a["Id"]})
    assert rows.row(a, None, UNMEASURED, False) is kept_a
    assert rows.row(b, None, UNMEASURED, False) is not kept_b  # built again: it was forgotten
    rows.clear()
    assert rows.row(a, None, UNMEASURED, False) is not kept_a


def test_a_list_that_found_nothing_new_keeps_the_items_and_so_the_rows() -> None:
    rows, info = Rows(host_memory=None), inspected()
    before = [item("a" * 64), item("b" * 64)]
    built = [rows.row(entry, info, (0.0, 1, None), False) for entry in before]
    again = same_items(before, [item("a" * 64), item("b" * 64, status="Up 3 hours"), item("c" * 64)])
    assert again[0] is before[0]  # equal: the very item, so the very row
    assert rows.row(again[0], info, (0.0, 1, None), False) is built[0]
    assert again[1] is not before[1] and again[1]["Status"] == "Up 3 hours"  # changed: the new one, a new row
    assert rows.row(again[1], info, (0.0, 1, None), False) is not built[1]
    assert again[2]["Id"] == "c" * 64 and same_items(None, again) == again
