"""A container's log followed on a real engine (`docker logs --follow --timestamps`), stoppable from any thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import docker
import docker.errors

from pixel_tui.collect.detail import ask
from pixel_tui.collect.liveness import Liveness
from pixel_tui.loglines import LineSplitter


class DockerLogStream:
    """One follow request on a client of its own, so that closing it ends the read at once, over ssh:// too.

    docker-py's `CancellableStream.close` shuts a unix or TCP socket down, which wakes the blocked read; over
    ssh:// it refuses (a paramiko channel), so the client is closed as well: its SSH connection goes, and the
    read ends with it (the engine's event stream is stopped the same way, collect/events.py).
    """

    def __init__(self, api: docker.APIClient, container_id: str, tail: int) -> None:
        """Ask for the log (raises docker.errors.NotFound when the container is gone); `api` is this stream's own."""
        self._api: docker.APIClient | None = api
        self._id = container_id
        self._lock = threading.Lock()
        self._closed = False
        self.ended: str | None = None
        """Why the lines ended, once they have."""
        self._stream: Any = api.logs(container_id, stream=True, follow=True, timestamps=True, tail=tail)

    def __iter__(self) -> Iterator[str]:
        """The lines as the container writes them; ends when it stops, or on close()."""
        splitter = LineSplitter()
        try:
            for chunk in self._stream:
                yield from splitter.feed(chunk)
                if self._closed:
                    break
            yield from splitter.flush()
        except Exception as error:  # noqa: BLE001 - a broken stream ends the log; the view says why
            if not self._closed:
                self.ended = f"the stream broke: {error}"
        if self.ended is None:
            self.ended = "closed" if self._closed else self._why_ended()
        self.close()

    def _why_ended(self) -> str:
        """Why the engine ended the log: the container's state, asked once."""
        api = self._api
        if api is None:
            return "closed"
        try:
            state = api.inspect_container(self._id).get("State") or {}
        except docker.errors.NotFound:
            return "container removed"
        except Exception:  # noqa: BLE001 - the engine went away with the stream
            return "the engine closed the stream"
        status = state.get("Status") or "stopped"
        if status == "running":
            return "the engine closed the stream"
        code = state.get("ExitCode")
        return f"container {status}" + (f" (exit code {code})" if status == "exited" and code is not None else "")

    def close(self) -> None:
        """End the read and release the connection (from any thread, as often as called)."""
        with self._lock:
            self._closed = True
            stream, api, self._api = self._stream, self._api, None
        if api is None:
            return
        with contextlib.suppress(Exception):  # ssh:// refuses; a broken stream may fail: the client goes anyway
            stream.close()
        with contextlib.suppress(Exception):
            api.close()


def follow(
    liveness: Liveness, connect: Callable[[], docker.APIClient], url: str, container_id: str, tail: int
) -> DockerLogStream:
    """A DockerLogStream on a new client from `connect` (closed if the request fails): LookupError when the
    container is gone, ConnectionError in one line when the engine is down or does not answer."""

    def request(api: docker.APIClient) -> DockerLogStream:
        try:
            return DockerLogStream(api, container_id, tail)
        except BaseException:
            api.close()
            raise

    return cast(DockerLogStream, ask(liveness, connect, url, container_id, request))
