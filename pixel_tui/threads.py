"""Blocking calls run off the event loop in daemon threads, so a call that never returns cannot hold the exit."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

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
