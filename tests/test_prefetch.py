"""The console's first collection starts before Textual is imported (pixel_tui/prefetch.py)."""

from __future__ import annotations

import threading

import pytest

from pixel_tui.prefetch import Prefetched
from tests.scripted import CRISIS_CYCLE, crisis_frame


class Recording:
    """A source that counts its collections, each one waiting for `go` when it is given."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[str] = []
        self.started = threading.Event()
        self.go = threading.Event()
        self.fail_first = fail_first
        self.closed = False

    def collect(self):
        self.calls.append(threading.current_thread().name)
        self.started.set()
        assert self.go.wait(10)
        if self.fail_first and len(self.calls) == 1:
            raise ConnectionError("engine went away")
        return crisis_frame(CRISIS_CYCLE + len(self.calls) - 1)

    def detail(self, container_id: str):
        return f"detail of {container_id}"

    def logs(self, container_id: str, tail: int = 200) -> str:
        return f"{tail} lines of {container_id}"

    def close(self) -> None:
        self.closed = True


def test_the_first_collection_starts_at_once_in_its_own_thread_and_is_returned_once():
    source = Recording()
    prefetched = Prefetched(source)
    assert source.started.wait(5), "collecting before anyone asked"
    assert source.calls == ["pixel-first-collection"]
    source.go.set()
    first = prefetched.collect()
    assert first == crisis_frame(CRISIS_CYCLE) and len(source.calls) == 1
    second = prefetched.collect()
    assert second == crisis_frame(CRISIS_CYCLE + 1) and len(source.calls) == 2
    assert source.calls[1] == threading.current_thread().name  # later ones in the caller's thread


def test_the_first_collect_waits_for_the_prefetch_rather_than_collecting_twice():
    source = Recording()
    prefetched = Prefetched(source)
    got = []
    asker = threading.Thread(target=lambda: got.append(prefetched.collect()))
    asker.start()
    assert source.started.wait(5)
    asker.join(0.2)
    assert asker.is_alive() and not got, "waits for the first collection to end"
    source.go.set()
    asker.join(5)
    assert got == [crisis_frame(CRISIS_CYCLE)] and len(source.calls) == 1


def test_a_failed_first_collection_is_raised_to_the_first_caller_and_the_next_collects_again():
    source = Recording(fail_first=True)
    source.go.set()
    prefetched = Prefetched(source)
    with pytest.raises(ConnectionError, match="engine went away"):
        prefetched.collect()
    assert prefetched.collect() == crisis_frame(CRISIS_CYCLE + 1)


def test_everything_else_is_the_sources_own():
    source = Recording()
    source.go.set()
    prefetched = Prefetched(source)
    assert prefetched.detail("abc") == "detail of abc"
    assert prefetched.logs("abc", 5) == "5 lines of abc"
    prefetched.close()
    assert source.closed
    with pytest.raises(AttributeError):
        prefetched.no_such_thing  # noqa: B018 - the source has none either
