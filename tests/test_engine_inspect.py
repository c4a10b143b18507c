"""The socket inspector on a real engine: many containers over a few connections, gone ones, engine errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from pixel_tui.engine.client import connect
from pixel_tui.engine.inspect import InspectError, SocketInspector


def _inspector(engine, pool: ThreadPoolExecutor, connections: int = 4) -> SocketInspector:
    api, _ = connect(engine.url, explicit=True, timeout=10)
    try:
        return SocketInspector(
            engine.url.removeprefix("unix://"),
            api.api_version,
            timeout=10,
            executor=lambda: pool,
            connections=connections,
        )
    finally:
        api.close()


def test_inspects_many_as_the_sdk_does_and_none_for_the_gone(engine):
    started = [engine.run("sleep 600", name=f"inspected-{index}") for index in range(9)]
    gone = engine.run("sleep 600", name="gone-before")
    gone.remove(force=True)
    ids = [container.id for container in started] + [gone.id]
    with ThreadPoolExecutor(4) as pool:
        inspector = _inspector(engine, pool)
        found = inspector.inspect(ids)
    assert list(found) == ids, "in the order asked"
    assert found[gone.id] is None
    for container in started:
        document = found[container.id]
        expected = engine.client.api.inspect_container(container.id)
        assert document is not None and document["Id"] == container.id
        assert document["State"]["Pid"] == expected["State"]["Pid"] > 0
        assert document["State"]["StartedAt"] == expected["State"]["StartedAt"]
    assert inspector.requests == len(ids)


def test_one_container_and_none(engine):
    container = engine.run("sleep 600", name="alone")
    with ThreadPoolExecutor(2) as pool:
        inspector = _inspector(engine, pool)
        assert inspector.inspect([]) == {}
        only = inspector.inspect([container.id])
    assert only[container.id]["Name"] == "/alone"


def test_an_engine_error_is_raised_with_its_message(engine):
    engine.lacks("refuses_newer_api_version")
    container = engine.run("sleep 600", name="asked-too-new")
    with ThreadPoolExecutor(2) as pool:
        inspector = SocketInspector(engine.url.removeprefix("unix://"), "9.99", timeout=10, executor=lambda: pool)
        with pytest.raises(InspectError, match=r"HTTP 400: client version 9\.99 is too new"):
            inspector.inspect([container.id])


def test_an_unreachable_socket_raises_oserror(tmp_path):
    with ThreadPoolExecutor(2) as pool:
        inspector = SocketInspector(str(tmp_path / "none.sock"), "1.41", timeout=1, executor=lambda: pool)
        with pytest.raises(OSError):
            inspector.inspect(["a" * 64, "b" * 64])
