"""The Docker engine side of a collection: a sparse list when something changed, cached inspects, metrics.

A local engine with a healthy event stream is listed only when the stream (or a cgroup that went
away) says something changed, and as a slow reconcile; in between, the last list stands and the
cgroup files give CPU and memory. A remote engine, or one whose stream is not healthy, is listed
every collection. Requests time out within the interval; `Liveness` tells a frozen engine within two
intervals and keeps collections from waiting on it. README "How it collects" tells the whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import docker
import docker.errors

from pixel_tui.collect.backlog import InspectBacklog, Key, Urgent
from pixel_tui.collect.cgroup_paths import CGROUP_ROOT, PROC_ROOT
from pixel_tui.collect.detail import ask, detail_from_inspect
from pixel_tui.collect.events import EngineEvents
from pixel_tui.collect.follow import DockerLogStream, follow
from pixel_tui.collect.listing import UNMEASURED, Inspected, Rows, Shape, list_health, list_name, same_items
from pixel_tui.collect.liveness import Liveness
from pixel_tui.collect.metrics import ContainerMetrics, Early, Sample, describe_failures
from pixel_tui.engine.client import (
    TIMEOUT_CEILING_S,
    connect_endpoint,
    describe_error,
    engine_product,
    resolve,
    timed_out,
)
from pixel_tui.engine.inspect import SocketInspector
from pixel_tui.model import Container, ContainerDetail, DockerState, Event


@dataclass
class EngineReading:
    """What one collection got from the engine."""

    state: DockerState
    containers: tuple[Container, ...] = ()
    env_timeouts: dict[str, str | None] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    errors: tuple[str, ...] = ()


class DockerEngine:
    """Talks to one Docker engine; survives it going away and coming back."""

    def __init__(
        self,
        url: str | None = None,
        *,
        context: str | None = None,
        host_memory: int | None = None,
        timeout_env: str = "WORKER_TIMEOUT_SECONDS",
        request_timeout: float = TIMEOUT_CEILING_S,
        pool_size: int = 8,
        reconcile_s: float = 30.0,
        inspect_refresh_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        cgroup_root: str = CGROUP_ROOT,
        proc_root: str = PROC_ROOT,
        defer_batch: int | None = None,
        urgent: Urgent | None = None,
    ) -> None:
        """`defer_batch`: read the inspects of a crowded engine's running non-`urgent` containers that many per
        collection, not all in the first (collect/backlog.py); None, all at once."""
        self.endpoint = resolve(url, context)
        """The engine to talk to, and the docker context it came from."""
        self.url = self.endpoint.url
        self._timeout_env = timeout_env
        self._request_timeout = request_timeout
        self._pool_size = pool_size
        self.reconcile_s = reconcile_s
        """Longest time between two lists of a local engine whose event stream is healthy."""
        self._inspect_refresh_s = inspect_refresh_s
        self._clock = clock
        self._api: docker.APIClient | None = None
        self._inspector: SocketInspector | None = None
        self._about: tuple[str | None, str] = (None, "docker")  # the engine's version and product (/version)
        self._inspected: dict[str, Inspected] = {}
        self._inspects = 0  # changes of _inspected: what _shape() was made from
        self._shaped: tuple[tuple[int, int], Shape] | None = None
        self._built = Rows(host_memory)
        """The last collection's rows, kept while nothing they show changed."""
        self.backlog = InspectBacklog(defer_batch, urgent)
        """The inspects held back for later collections."""
        self._listed: list[dict[str, Any]] | None = None  # the last list; None: list next collection
        self._listed_at = 0.0
        self._listed_with: EngineEvents | None = None  # the stream that has told every change since
        self._list_due = False  # a change found while measuring: list at the next collection
        self.lists = 0
        """How many times the containers were listed (the benches and tests read it)."""
        self.quiet = True
        """List a local engine with a healthy event stream only when needed; False: every collection."""
        self._pool: ThreadPoolExecutor | None = None
        self._events: EngineEvents | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._cycle_errors: list[str] = []
        self.metrics = ContainerMetrics(
            local=self.url.startswith("unix://"),
            executor=self._executor,
            clock=clock,
            cgroup_root=cgroup_root,
            proc_root=proc_root,
        )
        """CPU and memory of the running containers."""
        self.liveness = Liveness(
            lambda: self._client().ping(),
            timeout=request_timeout,
            describe=lambda error: describe_error(error, self.url),
            hung=timed_out,
        )
        """Whether the engine answers, probed beside the collections."""

    # -- connection ------------------------------------------------------------------------------

    def _client(self) -> docker.APIClient:
        with self._lock:
            if self._api is not None:
                return self._api
        # Connected outside the lock: a probe connecting to a silent engine must not hold up a drop.
        api, about = connect_endpoint(self.endpoint, timeout=self._request_timeout)
        with self._lock:
            kept = self._api
            if kept is None and not self._closed:  # closed meanwhile: a probe's late connection is not kept
                self._about = ((about or {}).get("Version"), engine_product(about))
                self.metrics.podman = self._about[1] == "podman"
                self._api = api
                return api
        api.close()
        if kept is None:
            raise ConnectionError("the collector was closed")
        return kept

    def _drop_client(self) -> None:
        with self._lock:
            api, self._api = self._api, None
            self._inspector = None
        self._forget_all()
        if self._events is not None:
            self._events.stop()
            self._events = None
        if api is not None:
            api.close()

    def close(self) -> None:
        """Stop the events thread, the probes and the stats pool and close connections."""
        self.liveness.close()
        self._closed = True  # read under the lock by a probe that connects meanwhile
        self._drop_client()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- one collection --------------------------------------------------------------------------

    def poll(self) -> EngineReading:
        """Measure CPU and memory; list the containers (and inspect what changed) only when needed; while
        the engine is down, ask it nothing (the probe finds out when it is back)."""
        self._cycle_errors = []
        if self.liveness.down is not None:
            reason = self.liveness.check()
            if reason is not None:
                return EngineReading(self._state(reason))
        try:
            api = self._client()
            self._ensure_events()
            changed = self._events.drain_changed() if self._events else set()
            early = None
            quiet = self._quiet(changed)
            if quiet:
                early = self.metrics.sample_known(self._running())
                changed |= early.vanished  # a container stopped unannounced: list at once
            if early is None or early.vanished:
                early = self._list(api, changed, early)
            elif self.backlog.waiting:  # nothing changed: the list stands, the held-back keys with it
                self._read(api, self.backlog.take(), early.samples)
            containers, env_timeouts, vanished = self._rows(api, early.samples)
            # A cgroup gone while the list still says running: stopped since, list at the next collection.
            gone = vanished | early.vanished
            self._list_due = bool(gone) and any(cid in gone for cid, _ in self._running())
            # Nothing asked the engine: does it still answer? Asked last, not to slow this collection's reads.
            silent = self.liveness.check() if quiet and not early.vanished else None
            if silent is not None:
                self._drop_client()
                return EngineReading(self._state(silent))
        except Exception as error:  # noqa: BLE001 - any failure, even mid-cycle, means "unreachable, say why"
            self._drop_client()
            return EngineReading(self._state(self.liveness.failed(error)))
        events = self._events.drain_events() if self._events else ()
        state = DockerState(True, self.url, None, self._about[0], self.endpoint.context, self._about[1])
        return EngineReading(state, containers, env_timeouts, events, tuple(self._cycle_errors))

    def _state(self, unreachable: str) -> DockerState:
        return DockerState(False, self.url, unreachable, None, self.endpoint.context)

    def _quiet(self, changed: set[str]) -> bool:
        """Whether the last list still stands: nothing changed that the healthy stream told of, not due."""
        events = self._events
        return (
            self.quiet
            and self.local
            and self._listed is not None
            and not changed
            and not self._list_due
            and events is not None
            and events.healthy
            and self._listed_with is events  # listed after this stream began: it told every change since
            and self._clock() - self._listed_at < self.reconcile_s
        )

    def _running(self) -> list[tuple[str, int | None]]:
        """(id, main pid) of the containers the last list showed running."""
        return self._shape().running

    def _shape(self) -> Shape:
        """What the last list and the cached inspects make of the containers, kept until either changes (each
        collection at 1 000 containers walked the list three times to find it again)."""
        key = (self.lists, self._inspects)  # _forget_all() drops the list and changes _inspects
        if self._shaped is None or self._shaped[0] != key:
            self._shaped = (key, Shape.of(self._listed or [], self._inspected, local=self.local))
        return self._shaped[1]

    def _list(self, api: docker.APIClient, changed: set[str], early: Early | None) -> Early:
        """List the containers and refresh the inspects the list or the stream shows out of date."""
        self._listed_with = self._events
        self._listed_at = self._clock()
        self._list_due = False
        # While dockerd answers the list (most of a listing collection's time), read the cgroup counters
        # of the containers already known to run (500 containers: a cycle's median 59 -> 46 ms here).
        pending = self._executor().submit(api.containers, all=True)
        if early is None:
            early = self.metrics.sample_known(self._running())
        listed = same_items(self._listed, pending.result())
        self.lists += 1
        self._listed = listed
        self._refresh(api, listed, changed, early.samples)
        return early

    def _ensure_events(self) -> None:
        events = self._events
        if events is not None and events.alive:
            return
        if events is not None:
            if self._clock() - events.started < 30.0:
                return  # a stream that keeps failing is retried at most every 30 s
            events.stop()
            if events.connected:
                # Events were missed while the stream was down: everything cached is suspect.
                self._forget_all()
        self._events = EngineEvents(self._new_client, clock=self._clock, replay=self.local)
        self._events.start()

    @property
    def local(self) -> bool:
        """True when the engine runs on this machine (its cgroup files can be read)."""
        return self.metrics.local

    def _forget_all(self) -> None:
        self._inspected.clear()
        self._inspects += 1
        self._built.clear()
        self.backlog.reset()
        self._listed = None
        self.metrics.clear()

    def _new_client(self, timeout: float | None = None) -> docker.APIClient:
        version = self._api.api_version if self._api else None
        return connect_endpoint(self.endpoint, timeout=timeout, version=version)[0]

    def _refresh(
        self,
        api: docker.APIClient,
        listed: list[dict[str, Any]],
        changed: set[str],
        early: dict[str, Sample],
    ) -> None:
        """Forget containers gone from the list; inspect the new, the changed and a share of the old."""
        present = {item["Id"] for item in listed}
        for gone in set(self._inspected) - present:
            del self._inspected[gone]
            self._inspects += 1
            self.metrics.drop(gone)
        clock = self._clock()
        budget = max(1, len(listed) // 20)  # periodic refresh, spread over lists
        keys: dict[str, Key] = {}
        for item in listed:
            cid = item["Id"]
            key = (item.get("State", ""), list_health(item.get("Status", "")))
            cached = self._inspected.get(cid)
            stale = cached is not None and clock - cached.fetched > self._inspect_refresh_s and budget > 0
            if cached is None or cid in changed or cached.state_key != key or stale:
                if stale:
                    budget -= 1
                keys[cid] = key
        if self.backlog.batch is not None:
            keys = self.backlog.split(keys, {item["Id"]: item for item in listed}, self._inspected)
        self._read(api, keys, early)

    def _read(self, api: docker.APIClient, keys: dict[str, Key], early: dict[str, Sample]) -> None:
        """Inspect `keys` (id -> the list's state and health) and remember what they say."""
        clock = self._clock()
        for cid, data in self._inspect_all(api, list(keys)).items():
            self._remember(cid, keys[cid], data, clock)
            early.pop(cid, None)  # read before the container changed: not this collection's figure

    def _rows(
        self, api: docker.APIClient, early: dict[str, Sample]
    ) -> tuple[tuple[Container, ...], dict[str, str | None], frozenset[str]]:
        """The containers of the last list with this collection's figures, and those found stopped."""
        shape = self._shape()
        measured = self.metrics.measure(api, shape.to_measure, early)
        if measured.failures:
            names = {item["Id"]: list_name(item) for item, _ in shape.rows}
            self._cycle_errors.extend(
                describe_failures({names.get(cid, cid[:12]): reason for cid, reason in measured.failures.items()})
            )
        containers = []
        env_timeouts: dict[str, str | None] = {}
        readings, estimated, row = measured.readings, measured.estimated, self._built.row
        for item, info in shape.rows:  # in name order
            cid = item["Id"]
            containers.append(row(item, info, readings.get(cid, UNMEASURED), cid in estimated))
            env_timeouts[cid] = info.env_timeout if info else None
        self._built.keep_only(env_timeouts.keys())
        return tuple(containers), env_timeouts, measured.vanished

    def _inspect_all(self, api: docker.APIClient, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """Inspect documents by id (None: the container went away).

        A local engine is asked over kept-alive connections, a few at once (engine/inspect.py: the first
        collection at 1 000 containers, 25 s through the SDK on a loaded machine, under 1 s); a remote one
        through the SDK one after the other: in a pool of 8 threads that was slower (151 ms against 126 ms
        at 100 here), the GIL and docker-py's new connection per URL eating what the concurrency saves.
        """
        if self.local and ids:
            return self._socket_inspector(api).inspect(ids)

        def fetch(cid: str) -> tuple[str, dict[str, Any] | None]:
            try:
                return cid, api.inspect_container(cid)
            except docker.errors.NotFound:
                return cid, None

        return dict(map(fetch, ids))

    def _socket_inspector(self, api: docker.APIClient) -> SocketInspector:
        with self._lock:
            if self._inspector is None:
                self._inspector = SocketInspector(
                    self.url.removeprefix("unix://"),
                    api.api_version,
                    timeout=self._request_timeout,
                    executor=self._executor,
                )
            return self._inspector

    def _remember(self, cid: str, key: tuple[str, str | None], data: dict[str, Any] | None, clock: float) -> None:
        self._inspected.pop(cid, None)
        self._inspects += 1
        self.metrics.forget(cid)  # a changed container: its pid and cgroup may be new
        if data is None:
            # Gone between the list and now: the row keeps what the list said, without metrics.
            self._cycle_errors.append(f"container {cid[:12]} disappeared during collection")
            return
        self._inspected[cid] = Inspected.read(data, key, self._timeout_env, clock)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix="pixel-docker")
        return self._pool

    # -- on demand -------------------------------------------------------------------------------

    def detail(self, container_id: str) -> ContainerDetail:
        """Inspect one container for the detail view, env values that look secret masked."""
        data = ask(self.liveness, self._client, self.url, container_id, lambda api: api.inspect_container(container_id))
        return detail_from_inspect(data)

    def logs(self, container_id: str, tail: int = 200) -> str:
        """The last `tail` lines of a container's output, stdout and stderr interleaved."""
        raw = ask(self.liveness, self._client, self.url, container_id, lambda api: api.logs(container_id, tail=tail))
        return raw.decode("utf-8", "replace")

    def follow_logs(self, container_id: str, tail: int) -> DockerLogStream:
        """The log followed, on a client of its own (its request timeout holds until the engine answers)."""
        return follow(self.liveness, partial(self._new_client, self._request_timeout), self.url, container_id, tail)
