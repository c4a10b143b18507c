"""The cycle history: aggregation, the SQLite store and its failure modes, the importer, the recovery line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pixel_tui.history import tables
from pixel_tui.history.aggregate import CycleAggregator
from pixel_tui.history.importer import import_file, parse, ranges
from pixel_tui.history.model import FIELDS, OWN_SOURCE, Cycle, recovery_line, to_json
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.history.store import HistoryStore, HistoryUnavailable
from pixel_tui.history.tables import MIGRATIONS, SCHEMA_VERSION
from pixel_tui.model import DockerState, Level, Snapshot, Thresholds
from pixel_tui.settings import HistorySettings
from tests.scripted import crisis_frame

FIXTURES = Path(__file__).parent / "fixtures"
AUDIT = FIXTURES / "orchestrator-audit.jsonl"
PLAIN = FIXTURES / "cycles-plain.jsonl"
START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
NOON = datetime(2026, 11, 25, 15, 30, tzinfo=UTC).timestamp()  # the store's clock, for names and retention


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def sample(clock: Clock, at: float, cycle: int = 14, **host: object) -> Snapshot:
    """The crisis arc's frame of `cycle`, taken `at` seconds after START, the clock moved there."""
    clock.now = at
    frame = crisis_frame(cycle)
    if host:
        frame = replace(frame, host=replace(frame.host, **host))
    return replace(frame, taken_at=START + timedelta(seconds=at))


def own(at: datetime = START, **fields: object) -> Cycle:
    """A closed own cycle, not yet numbered (level ok unless given)."""
    cycle = Cycle(None, OWN_SOURCE, at, at + timedelta(seconds=60), 60.0, Level.OK)
    return replace(cycle, **fields)


def line_of(text: str, path: Path = AUDIT) -> int:
    """The number of the fixture's line holding `text`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path.name}")


# --- aggregation ----------------------------------------------------------------------------------------


def test_a_cycle_keeps_the_max_and_mean_counts_worst_level_and_actions():
    clock = Clock()
    aggregator = CycleAggregator(60.0, clock)
    assert aggregator.add(sample(clock, 0, 12)) is None
    assert aggregator.add(sample(clock, 20, 14)) is None
    aggregator.add_action("worker.kill pixel-worker-3f2a9c1d ok")
    assert aggregator.add(sample(clock, 40, 16)) is None
    aggregator.add_action("prune ok")

    cycle = aggregator.add(sample(clock, 60, 17))  # cycle_s after the start: closes the cycle

    assert cycle is not None and cycle.cycle is None and cycle.source == OWN_SOURCE
    assert cycle.started_at == START and cycle.ended_at == START + timedelta(seconds=60)
    assert cycle.duration_s == 60.0
    assert cycle.swap_percent == 92.5
    assert cycle.swap_percent_mean == pytest.approx((79.4 + 92.5 + 2.9) / 3)
    assert cycle.memory_percent == 54.6 and cycle.memory_percent_mean == pytest.approx((54.6 + 53.0 + 44.7) / 3)
    assert cycle.cpu_percent == 38.6 and cycle.cpu_percent_mean == pytest.approx((28.7 + 38.6 + 17.8) / 3)
    assert cycle.load_per_core == pytest.approx(0.16)
    assert cycle.disk_percent == 67.7 and cycle.disk_percent_mean == pytest.approx(67.7)
    # The most seen at once, though the last sample (cycle 16: stuck worker killed) has fewer.
    assert (cycle.containers, cycle.workers, cycle.timed_out, cycle.phantoms) == (10, 3, 1, 2)
    assert cycle.level is Level.CRITICAL  # cycle 14's, though the cycle ends at warning
    assert cycle.actions == ("worker.kill pixel-worker-3f2a9c1d ok", "prune ok")
    assert cycle.method is None and cycle.notes is None

    # The closing sample starts the next cycle; its actions start empty.
    rest = aggregator.flush()
    assert rest is not None and rest.swap_percent == 0.0 and rest.started_at == START + timedelta(seconds=60)
    assert rest.actions == () and rest.duration_s == 0.0
    assert aggregator.flush() is None


def test_unmeasured_figures_stay_unmeasured():
    clock = Clock()
    aggregator = CycleAggregator(60.0, clock)
    aggregator.add(sample(clock, 0, 14, cpu_percent=None))  # the collector's first sample has no CPU figure
    aggregator.add(sample(clock, 30, 15))
    cycle = aggregator.flush()
    assert cycle is not None and cycle.cpu_percent == 30.4 and cycle.cpu_percent_mean == 30.4

    aggregator.add(sample(clock, 100, 14, cpu_percent=None, disks=()))
    cycle = aggregator.flush()
    assert cycle is not None
    assert cycle.cpu_percent is None and cycle.cpu_percent_mean is None
    assert cycle.disk_percent is None and cycle.disk_percent_mean is None


def test_an_engine_that_did_not_answer_counted_nothing():
    clock = Clock()
    aggregator = CycleAggregator(60.0, clock)
    blind = replace(
        sample(clock, 0, 14),
        docker=DockerState(False, "unix:///var/run/docker.sock", "no Docker socket"),
        containers=(),
        workers=(),
    )
    aggregator.add(blind)
    cycle = aggregator.flush()
    assert cycle is not None and cycle.swap_percent == 92.5
    assert (cycle.containers, cycle.workers, cycle.timed_out, cycle.phantoms) == (None, None, None, None)

    aggregator.add(replace(blind, taken_at=START + timedelta(seconds=100)))
    aggregator.add(sample(clock, 110, 16))
    cycle = aggregator.flush()
    assert cycle is not None and (cycle.containers, cycle.workers) == (9, 2)


def test_a_gap_closes_the_cycle_at_its_last_sample():
    clock = Clock()
    aggregator = CycleAggregator(60.0, clock)
    aggregator.add(sample(clock, 0, 14))
    clock.now = 5
    aggregator.add_action("before the last sample")
    aggregator.add(sample(clock, 10, 15))
    clock.now = 150  # asleep from 10 s to 200 s; an action lands in the gap
    aggregator.add_action("after the last sample")

    closed = aggregator.add(sample(clock, 200, 16))

    assert closed is not None
    assert closed.ended_at == START + timedelta(seconds=10) and closed.duration_s == 10.0  # nothing invented
    assert closed.swap_percent == 92.5 and closed.actions == ("before the last sample",)
    after = aggregator.flush()
    assert after is not None and after.started_at == START + timedelta(seconds=200)
    assert after.swap_percent == 2.9 and after.actions == ("after the last sample",)


def test_cycles_tile_the_collection_time():
    clock = Clock()
    aggregator = CycleAggregator(10.0, clock)
    closed = [cycle for at in range(0, 62, 2) if (cycle := aggregator.add(sample(clock, at, 14))) is not None]
    assert [(cycle.started_at, cycle.ended_at) for cycle in closed] == [
        (START + timedelta(seconds=start), START + timedelta(seconds=start + 10)) for start in range(0, 60, 10)
    ]
    assert aggregator.samples == 1


def test_cycle_s_must_be_positive():
    with pytest.raises(ValueError):
        CycleAggregator(0.0)


# --- the store: numbering, retention, migrations -------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


def test_numbering_starts_at_1_and_continues_across_restarts(db_path: Path):
    first = HistoryStore(db_path)
    assert [first.add_own(own()).cycle for _ in range(3)] == [1, 2, 3]
    first.close()
    again = HistoryStore(db_path)
    assert again.add_own(own()).cycle == 4
    assert [cycle.cycle for cycle in again.recent()] == [1, 2, 3, 4]
    assert sqlite3.connect(db_path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sqlite3.connect(db_path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    again.close()


def test_a_cycle_comes_back_as_it_was_written(db_path: Path):
    store = HistoryStore(db_path)
    written = own(
        swap_percent=92.5,
        swap_percent_mean=90.1,
        cpu_percent=None,
        containers=10,
        actions=("worker.kill pixel-worker-3f2a9c1d ok", "naïve ✓"),
        level=Level.CRITICAL,
        notes="a\nnote",
    )
    numbered = store.add_own(written)
    assert store.recent(1) == [numbered] and numbered == replace(written, cycle=1)


def test_imported_numbers_do_not_shift_own_ones_and_listing_is_by_time(db_path: Path):
    store = HistoryStore(db_path)
    first = store.add_own(own(START))
    report = import_file(AUDIT, store, first_cycle=13)
    assert [cycle.cycle for cycle in report.added] == [13, 14, 15, 16, 17, 18]
    assert store.add_own(own(START + timedelta(minutes=1))).cycle == first.cycle + 1 == 2  # not 19
    listed = store.recent()
    assert [(cycle.source, cycle.cycle) for cycle in listed] == [
        *((AUDIT.name, number) for number in range(13, 19)),  # June 2025, before the own cycles
        (OWN_SOURCE, 1),
        (OWN_SOURCE, 2),
    ]
    assert [cycle.cycle for cycle in store.recent(2)] == [1, 2]


def test_retention_by_days_counts_from_when_a_cycle_was_recorded(db_path: Path):
    clock = Clock(NOON)
    store = HistoryStore(db_path, retention_days=1.0, clock=clock)
    for _ in range(3):
        store.add_own(own())
    import_file(AUDIT, store, first_cycle=13)  # cycles from 2025: kept, they were recorded today
    assert store.count() == 9
    clock.now += 2 * 86400
    assert store.add_own(own()).cycle == 4  # writing enforces retention; numbering goes on
    assert [(cycle.source, cycle.cycle) for cycle in store.recent()] == [(OWN_SOURCE, 4)]


def test_retention_by_rows_keeps_the_newest(db_path: Path):
    store = HistoryStore(db_path, retention_rows=3)
    for _ in range(5):
        store.add_own(own())
    assert [cycle.cycle for cycle in store.recent()] == [3, 4, 5]


def test_numbering_survives_retention_deleting_every_own_cycle(db_path: Path):
    clock = Clock(NOON)
    store = HistoryStore(db_path, retention_days=1.0, clock=clock)
    store.add_own(own())
    store.add_own(own())
    clock.now += 3 * 86400
    store.add_imported([replace(own(), cycle=1, source="old.jsonl")])  # retention ran: no own cycle left
    assert store.count() == 1
    assert store.add_own(own()).cycle == 3


WRITER = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from pixel_tui.history.model import OWN_SOURCE, Cycle
from pixel_tui.history.store import HistoryStore
from pixel_tui.model import Level

path, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
store = HistoryStore(path, busy_timeout_s=20)
numbers = []
for _ in range(40):
    now = datetime.now(UTC)
    numbers.append(store.add_own(Cycle(None, OWN_SOURCE, now, now, 0.0, Level.OK)).cycle)
print(" ".join(map(str, numbers)))
"""


def test_two_processes_writing_at_once_never_share_a_number(db_path: Path, tmp_path: Path):
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    time.sleep(0.3)
    go.touch()  # both create the store and write at the same moment
    outputs = []
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
        outputs.append([int(number) for number in out.split()])
    assert sorted(outputs[0] + outputs[1]) == list(range(1, 81))
    assert all(numbers == sorted(numbers) for numbers in outputs)
    assert sorted(cycle.cycle for cycle in HistoryStore(db_path).recent()) == list(range(1, 81))


def _v1_file(path: Path) -> None:
    """A schema-1 store made by hand, holding own cycle 7."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO cycles (cycle, source, started_at, actions, recorded_at) VALUES (7, 'pixel-tui', ?, '[]', ?)",
        (START.timestamp(), NOON),
    )
    db.close()


def test_a_v1_file_made_by_hand_is_read_and_continued(db_path: Path):
    _v1_file(db_path)
    store = HistoryStore(db_path)
    assert store.add_own(own()).cycle == 8  # after the highest own cycle, even without the counter
    assert [cycle.cycle for cycle in store.recent()] == [7, 8]


def test_migration_steps_take_an_old_file_to_the_current_version(db_path: Path, monkeypatch: pytest.MonkeyPatch):
    _v1_file(db_path)
    step = ("ALTER TABLE cycles ADD COLUMN host TEXT", "CREATE INDEX cycles_by_host ON cycles (host)")
    monkeypatch.setattr(tables, "MIGRATIONS", (*MIGRATIONS, step))
    monkeypatch.setattr(tables, "SCHEMA_VERSION", len(MIGRATIONS) + 1)
    store = HistoryStore(db_path)
    assert [cycle.cycle for cycle in store.recent()] == [7]
    store.close()
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    assert "host" in {row[1] for row in db.execute("PRAGMA table_info(cycles)")}


def test_a_store_from_a_newer_pixel_tui_is_refused_and_left_alone(db_path: Path):
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = db_path.read_bytes()
    store = HistoryStore(db_path)
    with pytest.raises(HistoryUnavailable) as refused:
        store.add_own(own())
    assert str(refused.value).startswith("history unavailable: ")
    assert "schema version 99" in str(refused.value) and "newer pixel-tui" in str(refused.value)
    assert store.status == str(refused.value)
    assert db_path.read_bytes() == before and list(db_path.parent.iterdir()) == [db_path]


# --- failure modes: the caller keeps going ----------------------------------------------------------------------


def _recorder(path: Path, ticks: Clock, **store_options: object) -> HistoryRecorder:
    """A recorder of 60 s cycles on the `ticks` clock, over a store made with `store_options`."""
    store = HistoryStore(path, **store_options)  # type: ignore[arg-type]
    return HistoryRecorder(path, HistorySettings(cycle_s=60.0), clock=ticks, store=store)


def _close_cycles(recorder: HistoryRecorder, clock: Clock, count: int) -> list[Cycle]:
    """Feed samples until `count` more cycles closed; the cycles `record` returned."""
    closed: list[Cycle] = []
    while len(closed) < count:
        cycle = recorder.record(sample(clock, clock.now + 30, 14))
        if cycle is not None:
            closed.append(cycle)
    return closed


def test_a_locked_store_is_reported_and_the_cycles_wait(db_path: Path):
    assert HistoryStore(db_path).count() == 0  # the store exists, in WAL mode
    clock = Clock()
    recorder = _recorder(db_path, clock, busy_timeout_s=0.2)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")

    (waiting,) = _close_cycles(recorder, clock, 1)

    assert waiting.cycle is None and recorder.pending == 1
    assert recorder.status is not None and recorder.status.startswith("history unavailable: the store is locked")
    assert "1 cycle waiting" in recorder.status
    assert [cycle.cycle for cycle in recorder.recent(5)] == [None]
    holder.execute("ROLLBACK")
    holder.close()
    (written,) = _close_cycles(recorder, clock, 1)
    assert written.cycle == 2 and recorder.status is None and recorder.pending == 0
    assert [cycle.started_at for cycle in HistoryStore(db_path).recent()] == [
        START + timedelta(seconds=30),
        START + timedelta(seconds=90),
    ]


def test_a_corrupt_store_is_moved_aside_and_a_fresh_one_started(db_path: Path):
    db_path.parent.mkdir(parents=True)
    garbage = b"this is not a database\n" * 400
    db_path.write_bytes(garbage)
    stale_wal = db_path.with_name(db_path.name + "-wal")
    stale = b"\x37\x7f\x06\x82" + bytes(60)
    stale_wal.write_bytes(stale)
    clock = Clock()
    recorder = _recorder(db_path, clock, clock=lambda: NOON)

    (cycle,) = _close_cycles(recorder, clock, 1)

    aside = db_path.with_name("history.sqlite3.corrupt-20261125T153000Z")
    assert aside.read_bytes() == garbage
    assert aside.with_name(aside.name + "-wal").read_bytes() == stale  # not replayed into the fresh store
    assert cycle.cycle == 1 and recorder.status is None
    (notice,) = recorder.take_notices()
    assert "corrupt (file is not a database)" in notice and str(aside) in notice
    assert recorder.take_notices() == []
    assert [c.cycle for c in HistoryStore(db_path).recent()] == [1]


def test_a_corrupt_store_never_overwrites_an_earlier_one(db_path: Path):
    db_path.parent.mkdir(parents=True)
    earlier = db_path.with_name("history.sqlite3.corrupt-20261125T153000Z")
    earlier.write_bytes(b"the first corrupt store")
    db_path.write_bytes(b"the second corrupt store" * 200)
    store = HistoryStore(db_path, clock=lambda: NOON)
    assert store.add_own(own()).cycle == 1
    assert earlier.read_bytes() == b"the first corrupt store"
    assert earlier.with_name(earlier.name + "-1").read_bytes() == b"the second corrupt store" * 200


def test_a_malformed_store_found_while_reading_is_moved_aside(db_path: Path):
    store = HistoryStore(db_path)
    for _ in range(200):
        store.add_own(own(notes="n" * 300))
    store.close()
    with db_path.open("r+b") as file:  # some b-tree pages overwritten
        file.seek(3 * 4096)
        file.write(b"\xde\xad\xbe\xef" * 4096)
    with pytest.raises(HistoryUnavailable, match="the store is corrupt"):
        HistoryStore(db_path, heal=False).recent()  # a command that only reads reports it
    store = HistoryStore(db_path)
    assert store.recent() == [] and store.add_own(own()).cycle == 1
    assert any(path.name.startswith("history.sqlite3.corrupt-") for path in db_path.parent.iterdir())


@pytest.fixture
def mount() -> Iterator[Callable[..., Path]]:
    """mount(target, *args): a mount the test may use; all are unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    mounted: list[Path] = []

    def do(target: Path, *args: str) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount here: {result.stderr.strip()}")
        if target not in mounted:
            mounted.append(target)
        return target

    yield do
    for target in reversed(mounted):
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def test_a_read_only_file_system_is_reported_and_collection_goes_on(tmp_path: Path, mount):
    data = mount(tmp_path / "ro", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs")
    path = data / "pixel-tui" / "history.sqlite3"
    clock = Clock()
    recorder = _recorder(path, clock)
    closed = _close_cycles(recorder, clock, 2)
    assert [cycle.cycle for cycle in closed] == [None, None]
    assert recorder.status is not None and "read-only file system" in recorder.status
    assert recorder.pending == 2
    recorder.close()


def test_a_store_on_a_read_only_mount_is_still_listed(tmp_path: Path, mount):
    original = tmp_path / "rw" / "history.sqlite3"
    store = HistoryStore(original)
    store.add_own(own())
    store.add_own(own())
    store.close()
    view = mount(tmp_path / "view", "--bind", str(original.parent))
    mount(view, "-o", "remount,bind,ro")
    clock = Clock()
    recorder = _recorder(view / "history.sqlite3", clock)
    (cycle,) = _close_cycles(recorder, clock, 1)
    assert cycle.cycle is None
    assert recorder.status is not None and "read-only file system" in recorder.status
    assert [c.cycle for c in HistoryStore(view / "history.sqlite3").recent()] == [1, 2]
    recorder.close()
    assert HistoryStore(original).count() == 2


def test_a_full_disk_is_reported_and_the_cycles_are_written_once_there_is_room(tmp_path: Path, mount):
    data = mount(tmp_path / "small", "-t", "tmpfs", "-o", "size=256k", "tmpfs")
    path = data / "history.sqlite3"
    clock = Clock()
    recorder = _recorder(path, clock)
    assert [cycle.cycle for cycle in _close_cycles(recorder, clock, 1)] == [1]
    filler = data / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)

    waiting = _close_cycles(recorder, clock, 2)

    assert [cycle.cycle for cycle in waiting] == [None, None]
    assert recorder.status is not None and "the disk is full" in recorder.status
    filler.unlink()
    (written,) = _close_cycles(recorder, clock, 1)
    assert written.cycle == 4 and recorder.status is None
    assert [cycle.cycle for cycle in recorder.recent(10)] == [1, 2, 3, 4]
    assert [cycle.started_at for cycle in recorder.recent(10)] == sorted(c.started_at for c in recorder.recent(10))
    recorder.close()


def test_the_recorder_numbers_what_it_records_and_lists_recent_cycles(db_path: Path):
    clock = Clock()
    recorder = HistoryRecorder(db_path, HistorySettings(cycle_s=60.0), clock=clock)
    recorder.add_action("worker.kill pixel-worker-3f2a9c1d ok")
    first, second = _close_cycles(recorder, clock, 2)
    assert (first.cycle, second.cycle) == (1, 2) and recorder.status is None
    assert first.actions == ("worker.kill pixel-worker-3f2a9c1d ok",)
    assert [cycle.cycle for cycle in recorder.recent(1)] == [2]
    recorder.close()  # writes the open cycle at its last sample
    assert [cycle.cycle for cycle in HistoryRecorder(db_path).recent(10)] == [1, 2, 3]


# --- importing ----------------------------------------------------------------------------------------------------


def test_the_audit_log_fixture_imports_cycles_13_to_18(db_path: Path):
    report = import_file(AUDIT, HistoryStore(db_path), first_cycle=13, cores=16)
    assert report.source == "orchestrator-audit.jsonl" and report.form == "audit log"
    assert report.held == 0 and report.cores is not None and (report.cores.count, report.cores.given) == (16, True)
    cycles = {cycle.cycle: cycle for cycle in report.added}
    assert list(cycles) == [13, 14, 15, 16, 17, 18] and report.present == ()
    assert {number: cycle.swap_percent for number, cycle in cycles.items()} == {
        13: 88.0,
        14: 92.5,
        15: 82.1,
        16: 2.9,
        17: 0.0,
        18: 0.0,
    }
    assert [cycle.started_at for cycle in report.added] == sorted(cycle.started_at for cycle in report.added)
    crisis, calm = cycles[14], cycles[18]
    assert crisis.level is Level.CRITICAL  # stated WARNING; 92.5 % swap reaches critical against the thresholds
    assert crisis.started_at == datetime(2025, 6, 12, 14, 0, 0, 91000, tzinfo=UTC) and crisis.duration_s == 400.0
    assert crisis.actions == (
        "tool getVPSMetrics",
        "tool getEcosystemStatus",
        "tool notifyHuman",
        "tool scheduleNextRun",
    )
    assert crisis.method is None and crisis.notes is not None and crisis.notes.startswith("Swap at 92.5% (critical)")
    assert crisis.load_per_core == pytest.approx(3.85 / 16) and crisis.cpu_percent is None
    assert (calm.memory_percent, calm.disk_percent, calm.load_per_core) == (53.0, 67.7, 0.04)
    assert calm.level is Level.WARNING  # healthy figures, but its worker ran into the timeout
    assert (calm.workers, calm.timed_out, calm.phantoms, calm.containers) == (1, 1, None, None)
    assert calm.actions == (
        "tool getVPSMetrics",
        "worker.spawned pixel-worker-3f2a9c1d",
        "tool spawnWorker",
        "cycle.skipped overlapping_cycle",
        "tool getVPSMetrics",
        "worker.failed pixel-worker-3f2a9c1d exit 124 (timed out)",
        "tool checkWorkerStatus",
        "worker.cleanup orphaned 1",  # written after its cycle_complete, still this cycle's
    )
    assert calm.started_at - cycles[16].started_at > timedelta(hours=5)
    assert cycles[16].started_at - crisis.started_at == timedelta(minutes=45, microseconds=13000)
    assert cycles[16].level is Level.OK and cycles[16].actions[-1] == "worker.cleanup removed 2"
    attempt = cycles[15]
    assert attempt.actions == (
        "tool getVPSMetrics",
        "tool getEcosystemLogs failed: Command failed: docker compose logs --tail 200 pixel-agent error during "
        "connect: context deadline exceeded",
        "worker.spawned pixel-worker-c81d20f4",
        "tool spawnWorker",
        "worker.completed pixel-worker-c81d20f4 exit 0",
        "tool checkWorkerStatus",
        "tool checkWorkerStatus",  # its tool_result is the line cut off mid-write
    )
    error = cycles[13]
    assert error.actions == (
        "tool getVPSMetrics",
        "worker.spawn_rejected worker_busy: Worker already running: pixel-worker-9b04e7aa",
        "tool spawnWorker",
        "tool checkWorkerStatus failed: Command failed: docker inspect pixel-worker-9b04e7aa error during connect: "
        "context deadline exceeded",
        "cycle.error Failed after 3 attempts. Last error: Service Unavailable",
    )
    assert error.level is Level.CRITICAL and error.notes is None and error.duration_s == pytest.approx(252.532)


def test_bad_lines_are_reported_by_number_and_the_rest_kept():
    parsed = parse(AUDIT.read_bytes(), AUDIT.name, Thresholds())
    reasons = {skipped.line: skipped.reason for skipped in parsed.skipped}
    assert list(reasons) == sorted(reasons)
    assert reasons.pop(line_of('"2025-06-12T14:19:55.812Z"')).startswith("not JSON (unterminated string")
    assert reasons.pop(line_of('"timestamp":"yesterday"')) == "timestamp: 'yesterday' is not an ISO-8601 time"
    assert reasons.pop(line_of('"swapPercent":"n/a"')) == "swapPercent: 'n/a' is not a number"
    assert reasons.pop(line_of('["vps_metrics"')) == "not a JSON object (a list)"
    assert reasons.pop(line_of('"2025-06-12T21:00:00.090Z","type":"cycle_start"')).startswith(
        "this cycle has not ended yet"
    )
    assert reasons == {}  # the head, the end of a cycle whose start the trim cut off, is passed over silently
    assert len(parsed.cycles) == 6 and all(cycle.cycle is None for cycle in parsed.cycles)  # the store numbers them


def test_the_plain_form_imports_the_report_table(db_path: Path):
    store = HistoryStore(db_path)
    report = import_file(PLAIN, store)
    assert report.form == "plain" and report.skipped == ()
    assert [(c.cycle, c.swap_percent, c.method) for c in report.added] == [
        (14, 92.5, "Crisis"),
        (15, 82.1, "Attempt"),
        (16, 2.9, "Miracle"),
        (17, 0.0, "Learned"),
        (18, 0.0, "Mature"),
    ]
    attempt = report.added[1]
    assert attempt.duration_s == 900 and attempt.ended_at == attempt.started_at + timedelta(minutes=15)
    assert report.added[0].duration_s is None and report.added[0].ended_at is None
    assert report.added[0].notes == "System at risk of complete failure"
    assert import_file(PLAIN, store).added == ()


def test_plain_records_without_numbers_are_numbered_in_order_and_bad_ones_reported():
    text = (
        "\n".join(
            [
                '{"time": "2025-06-12T14:00:00Z", "swap_percent": 92.5, "load": 2.56, "cores": 16}',
                '{"time": "2025-06-12T14:15:00Z", "swap_percent": "82.1%"}',
                '{"cycle": 2, "time": "2025-06-12T14:20:00Z"}',
                '{"time": "2025-06-12T14:30:00Z", "swap_percent": 192.5}',
                '{"time": "2025-06-12T14:31:00Z", "memory_percent": NaN}',
                '{"swap_percent": 2.9}',
                '{"cycle": 0, "time": "2025-06-12T14:40:00Z"}',
                '{"time": "2025-06-12T14:45:00Z", "swap_percent": 2.9, "level": "warning", "notes": 5}',
                '{"timestamp": "2025-06-12T14:46:00Z", "type": "cycle_start", "cycle": 4}',
            ]
        ).encode()
        + b'\n{"time": "2025-06-12T14:50:00Z", "notes": "caf\xe9"}\n'
    )
    parsed = parse(text, "report.jsonl", Thresholds())
    assert [(c.cycle, c.swap_percent, c.load_per_core) for c in parsed.cycles] == [
        (1, 92.5, 0.16),
        (2, 82.1, None),
        (3, 2.9, None),
    ]
    assert parsed.cycles[2].level is Level.WARNING and parsed.cycles[2].notes == "5"
    assert [(s.line, s.reason) for s in parsed.skipped] == [
        (3, "cycle 2 already appears on line 2"),
        (4, "swap_percent: 192.5 is out of range (0 to 100)"),
        (5, "not JSON (NaN is not a number JSON allows)"),
        (6, "no time"),
        (7, "cycle: 0 is not a cycle number (a whole number from 1)"),
        (9, "an audit-log event in a file of cycle records"),
        (10, "not UTF-8 text (byte 47)"),
    ]


def test_an_unreadable_file_is_refused(tmp_path: Path, db_path: Path):
    from pixel_tui.files import UnreadableFile

    with pytest.raises(FileNotFoundError):
        import_file(tmp_path / "missing.jsonl", HistoryStore(db_path))
    with pytest.raises(UnreadableFile, match="a directory"):
        import_file(tmp_path, HistoryStore(db_path))


def test_a_file_called_pixel_tui_cannot_pass_for_own_cycles(tmp_path: Path, db_path: Path):
    disguised = tmp_path / "pixel-tui"
    disguised.write_bytes(PLAIN.read_bytes())
    store = HistoryStore(db_path)
    report = import_file(disguised, store)
    assert report.source == "pixel-tui.import" and all(not cycle.own for cycle in store.recent())
    assert store.add_own(own()).cycle == 1


def test_ranges():
    assert ranges([13, 14, 15, 18]) == "13-15, 18" and ranges([]) == "" and ranges([7]) == "7"


# --- the recovery line and the JSON form --------------------------------------------------------------------------


def test_the_recovery_line_of_the_imported_arc(db_path: Path):
    store = HistoryStore(db_path)
    import_file(AUDIT, store, first_cycle=13, cores=16)
    cycles = store.recent()
    assert recovery_line(cycles) == "swap 92.5% -> 0% (100% recovery) over cycles 14-18"
    assert recovery_line(cycles[:4]) == "swap 92.5% -> 2.9% (96.9% recovery) over cycles 14-16"
    assert recovery_line(cycles, "memory") == "memory 91.2% -> 53% (41.9% recovery) over cycles 13-18"
    assert recovery_line(cycles, "load") == "load 0.24 -> 0.04 (83.4% recovery) over cycles 14-18"
    assert recovery_line(cycles[1:2]) == "swap 92.5% -> 92.5% (0% recovery) over cycle 14"
    assert recovery_line([own(swap_percent=0.0)]) == "swap 0% -> 0% (nothing to recover from) over cycle ?"
    assert recovery_line([own()]) is None and recovery_line([]) is None
    with pytest.raises(ValueError):
        recovery_line(cycles, "temperature")


def test_the_json_form_has_exactly_the_documented_fields():
    document = to_json(replace(own(swap_percent=92.456, load_per_core=0.16049, level=Level.CRITICAL), cycle=3))
    assert (
        tuple(document)
        == FIELDS
        == (
            "cycle",
            "source",
            "started_at",
            "ended_at",
            "duration_s",
            "level",
            "swap_percent",
            "memory_percent",
            "cpu_percent",
            "disk_percent",
            "load_per_core",
            "swap_percent_mean",
            "memory_percent_mean",
            "cpu_percent_mean",
            "disk_percent_mean",
            "load_per_core_mean",
            "containers",
            "workers",
            "timed_out",
            "phantoms",
            "actions",
            "method",
            "notes",
        )
    )
    assert document["started_at"] == "2026-11-25T15:00:00Z" and document["level"] == "critical"
    assert document["swap_percent"] == 92.46 and document["load_per_core"] == 0.16
    assert document["memory_percent"] is None and document["actions"] == []
