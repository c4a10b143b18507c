"""A followed log without a screen: lines split and made safe, the bounded buffer and its filter, the inbox, save;
the demo's followed logs; and, on the private engine, a real follow that ends with its container or on close."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pixel_tui.collect import Collector
from pixel_tui.demo.chatter import DemoLogStream
from pixel_tui.demo.world import STUCK_WORKER, UNHEALTHY, World, container_id
from pixel_tui.loglines import Inbox, LineSplitter, LogBuffer, find_spans, parse_line, save_lines
from pixel_tui.settings import Settings


def lines(*texts: str, start: int = 1) -> list:
    """Parsed lines numbered from `start`."""
    return [parse_line(start + index, text) for index, text in enumerate(texts)]


def test_a_line_keeps_its_timestamp_apart_and_its_text_safe() -> None:
    line = parse_line(1, "2026-12-06T08:48:12.123456789Z \x1b[31mred\x1b[0m \x1b]0;title\x07 done")
    assert line.stamp == "2026-12-06T08:48:12.123456789Z" and line.short_stamp == "2026-12-06T08:48:12.123Z"
    assert line.text == "\x1b[31mred\x1b[0m \\x1b]0;title\\x07 done"  # colours kept, the rest escaped
    assert line.plain == "red \\x1b]0;title\\x07 done" and line.cells == len(line.plain)
    bare = parse_line(2, "no timestamp here")
    assert bare.stamp == "" and bare.text == "no timestamp here"
    assert parse_line(3, "宽字 x").cells == 6


def test_the_splitter_makes_whole_lines_of_chunks_cut_anywhere() -> None:
    splitter = LineSplitter(longest=16)
    assert splitter.feed(b"one\ntw") == ["one"]
    assert splitter.feed(b"o \xc3") == [], "half of an é"
    assert splitter.feed(b"\xa9\r\nthr") == ["two é"]  # \r\n ends a line like \n
    assert splitter.feed(b"ee\n\xff\n") == ["three", "\ufffd"]
    assert splitter.feed(b"x" * 20) == ["x" * 20], "a line that never ends is cut"
    assert splitter.feed(b"tail") == [] and splitter.flush() == ["tail"] and splitter.flush() == []


def test_the_buffer_keeps_the_last_lines_and_its_filter_follows_them() -> None:
    buffer = LogBuffer(keep=5)
    assert buffer.add(lines("a error", "b", "c error", "d")) == 4
    buffer.set_filter("ERROR")
    assert [line.plain for line in buffer.shown] == ["a error", "c error"]
    assert buffer.add(lines("e", "f error", "g", start=5)) == 1
    assert [line.plain for line in buffer.lines] == ["c error", "d", "e", "f error", "g"]
    assert [line.plain for line in buffer.shown] == ["c error", "f error"], "a dropped line leaves the filter too"
    assert buffer.received == 7 and buffer.matches("f ") == [1]
    buffer.set_filter("")
    assert len(buffer.shown) == 5 and buffer.matches("error") == [0, 3] and buffer.matches("") == []


def test_spans_ignore_case() -> None:
    assert find_spans("Error: error", "ERROR") == [(0, 5), (7, 12)]
    assert find_spans("aaa", "aa") == [(0, 2)] and find_spans("x", "") == []


def test_the_inbox_wakes_the_view_once_per_batch_and_stays_bounded() -> None:
    inbox = Inbox(keep=3)
    wakes = [inbox.put(line) for line in lines("1", "2", "3", "4")]
    assert wakes == [True, False, False, False]
    assert [line.plain for line in inbox.take()] == ["2", "3", "4"] and inbox.take() == []
    assert inbox.put(parse_line(5, "5")) is True


def test_save_never_overwrites(tmp_path: Path) -> None:
    saved = lines("2026-12-06T08:48:12.1Z one", "two")
    first, written = save_lines(saved, tmp_path / "logs", "../etc/pass wd", "20261206-084812")
    second, _ = save_lines(saved[:1], tmp_path / "logs", "../etc/pass wd", "20261206-084812")
    assert first.name == "etc_pass_wd-20261206-084812.log" and first.parent == tmp_path / "logs" and written == 2
    assert second.name == "etc_pass_wd-20261206-084812-2.log"
    assert (
        first.read_text() == "2026-12-06T08:48:12.1Z one\ntwo\n"
        and second.read_text() == "2026-12-06T08:48:12.1Z one\n"
    )


def test_the_demo_follows_with_new_lines_and_stops_on_close_or_when_its_container_stops() -> None:
    world = World(wall=lambda: datetime(2026, 12, 6, 8, 48, tzinfo=UTC))
    grafana = world.container(container_id(UNHEALTHY))
    assert grafana is not None
    stream = DemoLogStream(world, grafana, tail=100, pace_s=0.01)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(stream))
    reader.start()
    deadline = time.monotonic() + 5
    while len(got) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    stream.close()
    reader.join(2)
    assert not reader.is_alive() and stream.ended == "closed" and len(got) >= 4
    assert all(parse_line(1, line).stamp for line in got) and "health check failed" in got[-1]
    stuck = world.container(container_id(STUCK_WORKER))
    assert stuck is not None
    world.stop(stuck.id)
    ended = DemoLogStream(world, stuck, tail=2, pace_s=0.01)
    assert [parse_line(1, line).plain for line in ended] == [
        "? Overwrite existing snapshot? (y/N)",
        "(waiting for input)",
    ]
    assert ended.ended == "container exited"


def reading(stream_class: str) -> bool:
    """True while some thread is inside a `<stream_class>.__iter__`."""
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_name == "__iter__" and frame.f_code.co_qualname.startswith(stream_class):
                return True
            frame = frame.f_back
    return False


def follow_until(stream, want: int, timeout: float = 20.0) -> tuple[list[str], threading.Thread]:
    """Read `stream` in a thread until `want` lines came; returns the lines (still growing) and the thread."""
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(stream), name="test-follow")
    reader.start()
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        time.sleep(0.05)
    return got, reader


@pytest.fixture
def collector(engine):
    collector = Collector(Settings(docker_host=engine.url))
    yield collector
    collector.close()


def test_a_real_follow_gets_new_lines_then_the_containers_exit(engine, collector) -> None:
    container = engine.run(
        ["sh", "-c", r"printf 'old\n'; sleep 1; for i in 1 2 3; do echo new-$i; sleep 0.3; done; exit 3"], name="ends"
    )
    stream = collector.follow_logs(container.id, tail=10)
    got, reader = follow_until(stream, 4)
    reader.join(20)
    assert not reader.is_alive()
    assert [parse_line(1, line).plain for line in got] == ["old", "new-1", "new-2", "new-3"]
    assert all(parse_line(1, line).stamp.startswith("20") for line in got)
    assert stream.ended == "container exited (exit code 3)"


def test_closing_a_real_follow_ends_its_thread_at_once(engine, collector) -> None:
    before = set(threading.enumerate())
    container = engine.run(["sh", "-c", "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.1; done"], name="ticks")
    stream = collector.follow_logs(container.id, tail=0)
    got, reader = follow_until(stream, 3)
    assert len(got) >= 3 and all(parse_line(1, line).plain.startswith("tick-") for line in got)
    started = time.monotonic()
    stream.close()
    reader.join(5)
    assert not reader.is_alive() and time.monotonic() - started < 2 and stream.ended == "closed"
    assert not reading("DockerLogStream")
    # Nothing left behind: the collector's own threads (events, probes) are not the follow's.
    assert not [t.name for t in set(threading.enumerate()) - before if t.name == "test-follow"]


def test_following_a_container_gone_says_so(engine, collector) -> None:
    container = engine.run("sleep 600", name="short-lived")
    engine.client.api.remove_container(container.id, force=True)
    with pytest.raises(LookupError, match="no longer exists"):
        collector.follow_logs(container.id, tail=10)
