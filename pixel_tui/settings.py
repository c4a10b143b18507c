"""Typed settings, read from a TOML file; every key has a default and a bad value names its key."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pixel_tui.autoheal_settings import AutohealSettings, autoheal_lists, rule_lines
from pixel_tui.config_ranges import RANGES, THRESHOLD_RANGE, bound
from pixel_tui.files import UnreadableFile, read_regular
from pixel_tui.fleet.config import FleetSettings
from pixel_tui.levels import SPARKLINE_METRICS, Thresholds
from pixel_tui.notify.config import NotifySettings, webhook_problem
from pixel_tui.rules.config import RulesSettings

CONFIG_MAX_BYTES = 1024 * 1024
"""A config file larger than this is not one."""


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class WorkerSettings:
    """How workers, their tasks and the orchestrator's files are recognised (section `[workers]`)."""

    ledger: str | None = None
    """Path of the orchestrator's task ledger (JSON); none by default, then phantoms are not computed."""
    lock_file: str | None = None
    """Path of the orchestrator's single-flight lock file (JSON `{"taskId", "createdAt"}`), optional."""
    name_pattern: str = r"^pixel-worker-(rebuild-)?[0-9a-f]{8}$"
    """Regular expression a whole container name must match to make it a worker."""
    role_label: str = "pixel.role"
    """Label whose value `worker` marks a worker."""
    task_label: str = "pixel.task"
    """Label holding the id of the worker's ledger task."""
    timeout_label: str = "pixel.timeout"
    """Label holding the worker's timeout in seconds."""
    compose_service: str = "worker"
    """Compose service whose one-off runs are workers."""
    timeout_env: str = "WORKER_TIMEOUT_SECONDS"
    """Environment variable holding the worker's own timeout; the kill grace is added to it."""
    kill_grace_s: float = 60.0
    """Seconds the orchestrator's `timeout` waits before it kills a worker that ignored TERM."""
    default_timeout_s: float = 2760.0
    """Timeout of a worker that states none (the orchestrator's 2700 s plus 60 s of grace)."""
    ghost_grace_s: float = 60.0
    """Seconds a `running` task may lack a live container, counted from when its container was last seen
    (never seen: from its `startedAt`), before it is flagged a ghost: a brief stop or restart is not one."""
    spawn_window_s: float = 120.0
    """Seconds a spawn may take (lock taken, task `pending`, `docker compose run` still starting): a lock
    that young whose task is pending or not yet written is live, and a `pending` task older than this
    with no container is a ghost ("never started")."""
    orphan_grace_s: float = 60.0
    """Seconds a running worker may outlive its task's end (from `completedAt`, else from when pixel-tui
    first saw it ended) before it is flagged an orphan; a worker with no task gets the same from its start."""
    lock_grace_s: float = 300.0
    """Seconds a lock must have been stale before autoheal clears it (a person may clear it at any time)."""
    compose_project: str | None = None
    """Compose project whose one-off workers are ours (label `com.docker.compose.project`); workers of
    other projects on the same engine are never flagged nor acted on. Empty: every project, and the
    console says so when workers of more than one appear."""
    ledger_max_bytes: int = 32 * 1024 * 1024
    """The largest ledger read, in bytes (10 000 tasks take about 5 MB); a larger file is reported, not read."""


@dataclass(frozen=True)
class HistorySettings:
    """The cycle history (section `[history]`)."""

    cycle_s: float = 60.0
    """Seconds of collection aggregated into one history cycle."""
    retention_days: float = 90.0
    """Cycles recorded more than this many days ago are dropped (an imported cycle counts from its import)."""
    retention_rows: int = 100_000
    """At most this many cycles are kept."""


@dataclass(frozen=True)
class RemediateSettings:
    """Remediation (section `[remediate]`)."""

    stop_grace_s: float = 10.0
    """Seconds a stopped container gets between SIGTERM and SIGKILL."""
    swap_margin_percent: float = 20.0
    """Cycle swap only when available memory exceeds swap used by this % of total memory."""
    swap_traffic_limit: float = 10.0
    """Cycle swap only when pages swapped in + out per second stay under this."""
    swap_sample_s: float = 2.0
    """Seconds of /proc/vmstat the swap traffic is measured over."""
    parallel: int = 4
    """Steps on different targets run at most this many at once (a ghost never waits behind a slow stop)."""
    abort_watch_s: float = 600.0
    """Seconds an abort pixel-tui wrote is watched for being undone by the orchestrator's whole-ledger
    write; an undone abort is re-applied (autoheal on, within its budget) or reported as an event."""
    shutdown_margin_s: float = 5.0
    """When pixel-tui is stopped (SIGTERM, SIGINT, `q`) while actions run, it waits for them at most
    `stop_grace_s` plus this many seconds (the removal, ledger write and checks after a stop), then records
    each one still running as interrupted, with the parts done and not done."""


@dataclass(frozen=True)
class UISettings:
    """The console (section `[ui]`)."""

    theme: str = "pixel-dark"
    """Theme name: a built-in (pixel-dark, pixel-light, pixel-contrast) or a file in the themes dir."""
    cpu_smoothing: int = 5
    """Number of cycles the containers' CPU % is averaged over, so a sorted list does not jump."""
    history_metric: str = "swap"
    """Metric the sparkline starts on: swap, memory, cpu or load."""
    events: int = 200
    """How many events the events pane keeps."""


@dataclass(frozen=True)
class EngineSettings:
    """Where the engine's containers are measured (section `[engine]`)."""

    proc_root: str = "/proc"
    """The host's /proc, where a container's main process names its cgroup (in a container: `/host/proc`)."""
    cgroup_root: str = "/sys/fs/cgroup"
    """Where the host's cgroup hierarchies are mounted (v2, or v1 and hybrid controllers side by side)."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable; `Settings()` is the documented default."""

    interval: float = 2.0
    """Seconds between two collections."""
    docker_host: str | None = None
    """Docker engine URL; none: as the docker CLI (DOCKER_HOST, DOCKER_CONTEXT, its current context, the socket)."""
    context: str | None = None
    """A docker context of the docker CLI's store, by name (`--context`); it wins over `docker_host` of the file."""
    read_only: bool = False
    """Watch only: no action that changes anything can run."""
    reconcile_s: float = 30.0
    """Seconds between two container lists of a local engine whose event stream is healthy (a safety net
    for lost events; a change the stream tells is listed at the next collection). A remote engine, or one
    without a healthy stream, is listed every collection."""
    disks: tuple[str, ...] = ("/",)
    """Mount points whose usage is watched."""
    thresholds: Thresholds = field(default_factory=Thresholds)
    """(careful, warning, critical) of each gauge (section `[thresholds]`)."""
    workers: WorkerSettings = field(default_factory=WorkerSettings)
    """Worker recognition (section `[workers]`)."""
    history: HistorySettings = field(default_factory=HistorySettings)
    """Cycle history (section `[history]`)."""
    ui: UISettings = field(default_factory=UISettings)
    """Console look and feel (section `[ui]`)."""
    remediate: RemediateSettings = field(default_factory=RemediateSettings)
    """Remediation (section `[remediate]`)."""
    autoheal: AutohealSettings = field(default_factory=AutohealSettings)
    """The autoheal policy (section `[autoheal]`); `autoheal.enabled` is what `--autoheal` sets."""
    rules: RulesSettings = field(default_factory=RulesSettings)
    """Proposals mined from the operator's actions (section `[rules]`)."""
    fleet: FleetSettings = field(default_factory=FleetSettings)
    """The fleet view (section `[fleet]`)."""
    engine: EngineSettings = field(default_factory=EngineSettings)
    """Where containers are measured (section `[engine]`)."""
    notify: NotifySettings = field(default_factory=NotifySettings)
    """Notifications to webhooks (section `[notify]`)."""
    keys: dict[str, str] = field(default_factory=dict)
    """Key overrides: binding id -> keys, e.g. `"container.restart" = "ctrl+r"` (section `[keys]`)."""
    source: str | None = None
    """The file these settings were read from (not a key)."""
    notices: tuple[str, ...] = ()
    """What was read but does not apply, to be said once wherever these settings are shown (not a key)."""


_SECTIONS = {
    "thresholds": Thresholds,
    "workers": WorkerSettings,
    "history": HistorySettings,
    "ui": UISettings,
    "remediate": RemediateSettings,
    "autoheal": AutohealSettings,
    "rules": RulesSettings,
    "fleet": FleetSettings,
    "engine": EngineSettings,
    "notify": NotifySettings,
}
_METRICS = tuple(metric.key for metric in SPARKLINE_METRICS)


def load_settings(
    path: Path | None, *, required: bool = False, verify: Callable[[os.stat_result], None] | None = None
) -> Settings:
    """Read `path`; a missing file gives the defaults unless `required` (an explicit --config).

    `verify` is given the stat of the file read before a byte of it is believed, and may raise (its
    own error passes through): the CLI, as root, checks that the path still leads to that file through
    steps no other user can write (pixel_tui.trust)."""
    if path is None or not path.exists():
        if required and path is not None:
            raise ConfigError(f"{path}: no such config file")
        return Settings()
    try:
        raw, info = read_regular(path, CONFIG_MAX_BYTES)
    except UnreadableFile as error:
        raise ConfigError(f"{path}: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    if verify is not None:
        verify(info)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text ({error.reason})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    settings = replace(parse_settings(data, str(path)), source=str(path))
    lines = rule_lines(raw.decode("utf-8"))
    if len(lines) == len(settings.autoheal.rules):
        settings = replace(settings, autoheal=replace(settings.autoheal, rule_lines=lines))
    return settings


def parse_settings(data: dict[str, Any], origin: str = "config") -> Settings:
    """Settings from a parsed TOML document; raises ConfigError naming the first bad key."""
    values: dict[str, Any] = {}
    top = {f.name: f for f in fields(Settings) if f.name not in ("source", "notices")}
    for key, value in data.items():
        if key in _SECTIONS:
            values[key] = _section(key, value, _SECTIONS[key], origin)
        elif key == "disks":
            values["disks"] = _disks(value, origin)
        elif key == "keys":
            values["keys"] = _keys(value, origin)
        elif key in top:
            values[key] = _scalar(key, value, top[key].type, origin)
        else:
            raise ConfigError(f"{origin}: unknown key {key!r}")
    return Settings(**values)


def _section(name: str, table: Any, cls: type, origin: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: [{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    if cls is AutohealSettings:
        try:
            table, values = autoheal_lists(table)
        except ValueError as error:
            raise ConfigError(f"{origin}: {error}") from None
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{origin}: unknown key {name}.{key}")
        values[key] = _scalar(f"{name}.{key}", value, known[key].type, origin)
    result = cls(**values)
    if cls is WorkerSettings:
        try:
            re.compile(result.name_pattern)
        except re.error as error:
            raise ConfigError(f"{origin}: workers.name_pattern: not a regular expression: {error}") from None
    for key in ("proc_root", "cgroup_root") if cls is EngineSettings else ():
        if not getattr(result, key).startswith("/"):
            raise ConfigError(f"{origin}: engine.{key}: expected an absolute path, got {getattr(result, key)!r}")
    if cls is UISettings and result.history_metric not in _METRICS:
        raise ConfigError(
            f"{origin}: ui.history_metric: expected one of {', '.join(_METRICS)}, got {result.history_metric!r}"
        )
    return result


def _scalar(dotted: str, value: Any, kind: Any, origin: str) -> Any:
    kind = str(kind)
    if "tuple[float, float, float]" in kind:
        low, high = THRESHOLD_RANGE
        ok = isinstance(value, list) and len(value) == 3 and all(_number(v) and low <= v <= high for v in value)
        if not ok or not value[0] <= value[1] <= value[2]:
            raise ConfigError(
                f"{origin}: {dotted}: expected three ascending numbers [careful, warning, critical] "
                f"from {low:g} to {high:g}, got {value!r}"
            )
        return tuple(float(v) for v in value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{origin}: {dotted}: expected true or false, got {value!r}")
        return value
    if kind in ("float", "int"):
        if not _number(value):
            raise ConfigError(f"{origin}: {dotted}: expected a number, got {value!r}")
        low, high = RANGES[dotted]
        if not low <= value <= high:
            raise ConfigError(f"{origin}: {dotted}: must be from {bound(low)} to {bound(high)}, got {value!r}")
        if kind == "int":
            if int(value) != value:
                raise ConfigError(f"{origin}: {dotted}: expected a whole number, got {value!r}")
            return int(value)
        return float(value)
    if kind == "tuple[str, ...]":  # notify.webhooks, the one list of strings
        if (problem := webhook_problem(value)) is not None:
            raise ConfigError(f"{origin}: {dotted}: {problem}")
        return tuple(value)
    if kind in ("str", "str | None"):
        if not isinstance(value, str):
            raise ConfigError(f"{origin}: {dotted}: expected a string, got {value!r}")
        return value or None if kind == "str | None" else value
    raise ConfigError(f"{origin}: {dotted}: unsupported value {value!r}")  # pragma: no cover


def _number(value: Any) -> bool:
    """A finite int or float; TOML's inf and nan, and a bool (an int to Python), are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)  # an int of any size is finite (and too big for float)


def _disks(value: Any, origin: str) -> tuple[str, ...]:
    mounts = value.get("mounts") if isinstance(value, dict) else None
    extra = set(value) - {"mounts"} if isinstance(value, dict) else set()
    if extra:
        raise ConfigError(f"{origin}: unknown key disks.{sorted(extra)[0]}")
    if not isinstance(mounts, list) or not mounts or not all(isinstance(m, str) and m.startswith("/") for m in mounts):
        raise ConfigError(f"{origin}: disks.mounts: expected a list of absolute paths, got {mounts!r}")
    return tuple(mounts)


def _keys(value: Any, origin: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f'{origin}: [keys] must be a table of binding id = "keys"')
    for key, keys in value.items():
        if not isinstance(keys, str) or not keys.strip() or not keys.isprintable():
            raise ConfigError(f'{origin}: keys.{key}: expected keys such as "ctrl+r" or "r,f5", got {keys!r}')
    return dict(value)


def with_overrides(settings: Settings, **overrides: Any) -> Settings:
    """Settings with command-line values (those not None) laid over the file's."""
    top: dict[str, Any] = {}
    workers: dict[str, Any] = {}
    ui: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "ledger":
            workers["ledger"] = value
        elif key == "theme":
            ui["theme"] = value
        elif key == "interval":
            low, high = RANGES["interval"]
            if not low <= value <= high:
                raise ConfigError(f"--interval: must be from {low:g} to {high:g}, got {value}")
            top[key] = value
        elif key == "read_only":
            if value:
                top[key] = True
        elif key == "autoheal":
            if value:
                top[key] = dataclasses.replace(settings.autoheal, enabled=True)
        elif key in ("docker_host", "context"):  # one choice: the command line's replaces the file's, either way
            top["docker_host"], top["context"] = (value, None) if key == "docker_host" else (None, value)
        else:
            top[key] = value
    result = dataclasses.replace(
        settings,
        workers=dataclasses.replace(settings.workers, **workers),
        ui=dataclasses.replace(settings.ui, **ui),
        **top,
    )
    return as_read_only(result) if result.read_only else result


def as_read_only(settings: Settings) -> Settings:
    """The settings, read-only. Read-only wins over every key: autoheal is off, and `notices` says so once
    when the config had turned it on."""
    notices = settings.notices
    if settings.autoheal.enabled:
        origin = settings.source or "the config"
        notices += (f"read-only: autoheal is off ([autoheal] enabled = true in {origin} does not apply)",)
    return dataclasses.replace(
        settings, read_only=True, autoheal=dataclasses.replace(settings.autoheal, enabled=False), notices=notices
    )
