"""Headless output: the snapshot as a readable table, one status line per cycle, Nagios exit codes."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from pixel_tui import format as fmt
from pixel_tui.levels import HOST_METRICS, Metric
from pixel_tui.model import Host, Level, Snapshot
from pixel_tui.safe import displayable

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3


def exit_code(snapshot: Snapshot) -> int:
    """Nagios convention: 0 ok/careful, 1 warning, 2 critical, 3 unknown.

    Unknown when the engine could not be asked, or a configured mount could not be measured, and
    nothing measured is warning or critical: a check that cannot see cannot say all is fine.
    """
    overall = snapshot.levels.overall
    if overall is Level.CRITICAL:
        return EXIT_CRITICAL
    if overall is Level.WARNING:
        return EXIT_WARNING
    if not snapshot.docker.reachable or snapshot.levels.unmeasured_disks:
        return EXIT_UNKNOWN
    return EXIT_OK


_SEVERITY = (EXIT_OK, EXIT_UNKNOWN, EXIT_WARNING, EXIT_CRITICAL)
"""Exit codes from the least to the most severe, as `exit_code` ranks them: unknown only when nothing
measured is warning or critical."""


def worst_exit(codes: Iterable[int]) -> int:
    """The most severe of `codes` (0 for none): `watch --plain --count N` exits with the worst line it printed."""
    return max(codes, key=_SEVERITY.index, default=EXIT_OK)


def _quote(text: str | None) -> str:
    return '"' + (text or "").replace("\\", "\\\\").replace('"', '\\"') + '"'


def status_line(snapshot: Snapshot) -> str:
    """One `key=value` line: time first, then the figures scripts grep for (host text made printable)."""
    snapshot = displayable(snapshot)
    host = snapshot.host
    words = [
        snapshot.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        f"overall={snapshot.levels.overall.value}",
        *(f"{metric.short.lower()}={_figure(metric, host, plain=True)}" for metric in HOST_METRICS),
        f"containers={snapshot.running_containers}/{len(snapshot.containers)}",
        f"workers={snapshot.running_workers}",
        f"timed_out={len(snapshot.timed_out)}",
        f"phantoms={len(snapshot.phantoms)}",
    ]
    if snapshot.docker.reachable:
        words.append("docker=ok")
    else:
        words.append(f"docker=unreachable {_quote(snapshot.docker.error)}")
    if snapshot.ledger is not None and not snapshot.ledger.readable:
        words.append(f"ledger=unreadable {_quote(snapshot.ledger.error)}")
    if snapshot.lock is not None and snapshot.lock.stale:
        words.append(f"lock=stale {_quote(snapshot.lock.task_id)}")
    return " ".join(words)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """Aligned columns, measured in terminal cells (a wide character takes two)."""
    widths = [max(fmt.cells(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = []
    for row in (headers, *rows):
        cells = []
        for i, (cell, width) in enumerate(zip(row, widths, strict=False)):
            pad = " " * (width - fmt.cells(str(cell)))
            cells.append(pad + str(cell) if i in right else str(cell) + pad)
        lines.append("  ".join(cells).rstrip())
    return lines


def _mark(level: Level | None) -> str:
    if level is None:
        return "unknown"
    return {Level.OK: "ok", Level.CAREFUL: "careful", Level.WARNING: "WARNING", Level.CRITICAL: "CRITICAL"}[level]


def _figure(metric: Metric, host: Host, *, plain: bool = False) -> str:
    """A metric's figure as `snapshot` writes it (`12.3%`, load `0.50`), or bare for `key=value` (`plain`)."""

    def render(value: float | None) -> str:
        bare = plain or metric.unit != "%"
        return fmt.number(value, metric.digits) if bare else fmt.percent(value, metric.digits)

    if metric.key == "swap":
        return fmt.swap_figure(host.swap.total, host.swap.percent, render)
    return render(metric.read(host))


_DETAIL: dict[str, Callable[[Host], str]] = {
    "cpu": lambda host: f"{host.cores} cores",
    "memory": lambda host: f"{fmt.size(host.memory.used)} of {fmt.size(host.memory.total)}",
    "swap": lambda host: (
        f"{fmt.size(host.swap.used)} of {fmt.size(host.swap.total)}" if host.swap.total else "no swap configured"
    ),
    "load": lambda host: "load " + " ".join(f"{value:.2f}" for value in host.load),
}
"""The DETAIL column of `snapshot`'s gauges, by metric key (each disk has its own line)."""


def render_table(snapshot: Snapshot) -> str:
    """The snapshot as plain text for a person: gauges, containers, workers, ledger, lock and problems.

    Every string from the host is made printable first: the table goes to a terminal.
    """
    snapshot = displayable(snapshot)
    host, levels = snapshot.host, snapshot.levels
    lines = [
        f"pixel-tui snapshot of {host.hostname} at {snapshot.taken_at.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        f"  overall: {_mark(levels.overall)}",
        "",
    ]
    gauges: list[tuple[str, str, str, Level | None]] = []
    for metric in HOST_METRICS:
        if metric.key == "disk":
            for index, disk in enumerate(host.disks):
                detail = disk.error or f"{fmt.size(disk.used)} of {fmt.size(disk.total)}"
                name = f"{metric.label} {disk.mount}"
                gauges.append((name, fmt.percent(disk.percent), detail, levels.of_disk(index)))
            continue
        name = metric.label.lower()
        gauges.append((name, _figure(metric, host), _DETAIL[metric.key](host), levels.of_metric(metric.key)))
    incidents = f"{len(snapshot.timed_out)} timed out, {len(snapshot.phantoms)} phantoms"
    if snapshot.lock is not None and snapshot.lock.stale:
        incidents += ", stale lock"
    gauges.append(("workers", "", incidents, levels.workers))
    lines += _table(("GAUGE", "VALUE", "LEVEL", "DETAIL"), [(g, v, _mark(lv), d) for g, v, d, lv in gauges], {1})
    lines.append("")
    docker = snapshot.docker
    context = f" (context {docker.context})" if docker.context else ""
    if docker.reachable:
        product = "" if docker.product == "docker" else f"{docker.product} "
        lines.append(
            f"docker {docker.host}{context}: engine {product}{docker.version or '?'}, "
            f"{snapshot.running_containers} running of {len(snapshot.containers)} containers"
        )
    else:
        lines.append(f"docker {docker.host}{context}: UNREACHABLE: {docker.error}")
    if snapshot.containers:
        rows = [
            (
                c.name,
                c.image,
                c.state,
                c.health or "-",
                fmt.duration(c.uptime_at(snapshot.taken_at)),
                "-" if c.restarts is None else str(c.restarts),
                ("~" if c.cpu_estimated else "") + fmt.percent(c.cpu_percent),
                f"{fmt.size(c.mem_used)}/{fmt.size(c.mem_limit)}",
                fmt.percent(c.mem_percent),
            )
            for c in snapshot.containers
        ]
        lines += [""] + _table(
            ("NAME", "IMAGE", "STATE", "HEALTH", "UPTIME", "RESTARTS", "CPU", "MEM", "MEM%"), rows, {5, 6, 8}
        )
    lines.append("")
    lines.append(
        f"workers: {snapshot.running_workers} running, timed out: {len(snapshot.timed_out)}, "
        f"phantoms: {len(snapshot.phantoms)}"
    )
    if snapshot.workers:
        worker_rows = []
        for w in snapshot.workers:
            flags = " ".join(fmt.worker_flags(w))
            left = w.remaining_s
            worker_rows.append(
                (
                    w.task_id or "-",
                    w.container or "(none)",
                    w.state,
                    fmt.duration(w.age_s),
                    fmt.duration(w.timeout_s),
                    "-" if left is None else (f"over {fmt.duration(-left)}" if left < 0 else fmt.duration(left)),
                    flags or "-",
                )
            )
        lines += _table(("TASK", "CONTAINER", "STATE", "AGE", "TIMEOUT", "LEFT", "FLAGS"), worker_rows, {3, 4})
    if snapshot.ledger is not None:
        ledger = snapshot.ledger
        state = f"{ledger.tasks} tasks" if ledger.readable else f"UNREADABLE: {ledger.error}"
        lines.append(f"ledger {ledger.path}: {state}")
    if snapshot.lock is not None:
        lock = snapshot.lock
        if lock.error:
            state = f"UNREADABLE: {lock.error}"
        elif lock.task_id is None:
            state = "not held"
        else:
            why = f": {lock.why}" if lock.why else ""
            stale = (
                f" (STALE for {fmt.duration(lock.stale_s)}{why})"
                if lock.stale
                else f" ({lock.why})"
                if lock.why
                else ""
            )
            state = f"held by {lock.task_id} for {fmt.duration(lock.age_s)}{stale}"
        lines.append(f"lock {lock.path}: {state}")
    if snapshot.errors:
        lines += ["", "problems:"] + [f"  {error}" for error in snapshot.errors]
    return "\n".join(lines)
