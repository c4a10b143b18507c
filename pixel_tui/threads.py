"""Blocking calls run off the event loop in daemon threads, so a call that never returns cannot hold the exit."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


async def in_daemon_thread(call: Callable[[], T], *, name: str = "pixel-blocking") -> T:
    """Run `call` in a new daemon thread and await its result (or its exception).

    `asyncio.to_thread` uses the loop's default executor, whose threads are joined when the loop
    closes: one collection stuck on a dead NFS mount or an unanswering engine would keep the process
    alive after the operator quit. A daemon thread is abandoned at exit instead. One thread per call
    is cheap at one call per collection interval.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.done():  # the awaiting task was cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        caught: BaseException | None
        try:
            result = call()
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting task, which decides
            result, caught = None, error
        else:
            caught = None
        with contextlib.suppress(RuntimeError):  # the loop closed while the call ran: nobody waits any more
            loop.call_soon_threadsafe(deliver, result, caught)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future


def run_in_daemon_threads(calls: list[Callable[[], T]], *, name: str) -> list[T]:
    """Run each call in a daemon thread of its own, wait for all, and return their results in order.

    The first exception raised by a call is raised here once all are done. Daemon threads for the same
    reason as above: a remediation step still waiting for the engine when pixel-tui was stopped (and
    recorded as interrupted) must not hold the process past its shutdown bound.
    """
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - raised again in the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, call), name=name, daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


class DaemonPool:
    """A small pool of daemon threads taking calls in order (concurrent.futures' threads are joined at exit)."""

    def __init__(self, workers: int, *, name: str) -> None:
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=name, daemon=True) for _ in range(max(workers, 1))]
        self._started = False
        self._waiting: set[Future[Any]] = set()

    def submit(self, call: Callable[[], T]) -> Future[T]:
        """Queue `call`; its future. RuntimeError once the pool is shut down."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            if not self._started:
                self._started = True
                for thread in self._threads:
                    thread.start()
            self._waiting.add(future)
            self._queue.put((future, call))
        return future

    def shutdown(self) -> None:
        """Take no more calls and cancel those not begun; those running go on (their threads are daemons)."""
        with self._lock:
            self._closed = True
            waiting, self._waiting = self._waiting, set()
            for _ in self._threads:
                self._queue.put(None)
        for future in waiting:
            future.cancel()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, call = item
            with self._lock:
                self._waiting.discard(future)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as error:  # noqa: BLE001 - kept in the future, as concurrent.futures does
                future.set_exception(error)
            else:
                future.set_result(result)


MALLOC_ARENAS = 2
"""The malloc arenas glibc may create (its default: 8 per core). Each thread that allocates while the others
hold theirs gets an arena of its own, and the collections' and actions' short-lived threads left heal's RSS
creeping by 10 % over 30 minutes of churn (bench/bench_soak.py); two kept it within 2.4 %."""
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas before any thread starts; True when done. Left alone where the operator set
    MALLOC_ARENA_MAX, and where the C library is not glibc (musl has no mallopt)."""
    import ctypes
    import os
    import sys

    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def sleep_interruptibly(seconds: float) -> None:
    """Sleep `seconds` in the main thread; a signal's Python handler runs at once (Ctrl+C's KeyboardInterrupt
    ends the sleep), whichever thread the kernel delivered the signal to.

    `time.sleep` is cut short only when the main thread itself takes the signal; with the collector's threads
    alive the kernel may hand SIGINT or SIGTERM to one of them, and a `snapshot --sample 30` then slept out
    its 30 s before Ctrl+C took effect.
    """
    import time

    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        wait_for_signal(left)  # returning runs the handlers; a handler that raises ends the sleep


def wait_for_signal(timeout: float) -> None:
    """Wait in the main thread until a signal with a Python handler arrives (any thread may take it) or
    `timeout` passes; the handler runs as soon as this returns. It waits on the signal wakeup fd, which
    is written whoever takes the signal."""
    import os
    import select
    import signal
    import time

    if threading.current_thread() is not threading.main_thread():
        time.sleep(max(timeout, 0.0))  # signals are the main thread's to handle; only it may set the wakeup fd
        return
    read_end, write_end = os.pipe()
    try:
        os.set_blocking(write_end, False)
        previous = signal.set_wakeup_fd(write_end)
        try:
            # poll, not select: at a thousand containers the collector holds more than 1 024 descriptors,
            # and select() refuses any descriptor numbered above that.
            poller = select.poll()
            poller.register(read_end, select.POLLIN)
            poller.poll(max(timeout, 0.0) * 1000)
        finally:
            signal.set_wakeup_fd(previous)
    finally:
        os.close(read_end)
        os.close(write_end)
