"""`pixel-tui export` (an HTTP endpoint Prometheus scrapes) and `snapshot --prom-file` (node_exporter's textfile).

The endpoint binds loopback unless told otherwise (`--allow-remote`): what it tells (levels, phantoms,
remediation counts) is for the operator's Prometheus, not for whoever can reach the port.
"""

from __future__ import annotations

import ipaddress
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile

from pixel_tui.export.audit_counts import AuditCounts
from pixel_tui.export.metrics import ScrapeCollector
from pixel_tui.headless import exit_code
from pixel_tui.model import Snapshot
from pixel_tui.paths import Paths
from pixel_tui.safe import printable
from pixel_tui.settings import Settings
from pixel_tui.threads import wait_for_signal

DEFAULT_LISTEN = "127.0.0.1:9464"
"""Loopback only, by default."""
EXIT_UNKNOWN = 3


class ListenError(ValueError):
    """A `--listen` value that is not HOST:PORT, or a non-loopback one without `--allow-remote`."""


def parse_listen(text: str, *, allow_remote: bool) -> tuple[str, int]:
    """(host, port) of `HOST:PORT` or `[V6]:PORT`; refuses a non-loopback host unless `allow_remote`."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ListenError(f"--listen: expected HOST:PORT (e.g. {DEFAULT_LISTEN}), got {text!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host:
        raise ListenError(f"--listen: a host is needed (127.0.0.1 for this machine only), got {text!r}")
    if not allow_remote and not _loopback(host):
        raise ListenError(
            f"--listen {text}: not a loopback address; the metrics tell this host's incidents to whoever can reach "
            "the port, so binding it elsewhere needs --allow-remote (and, in front of it, TLS and auth)"
        )
    return host, int(port_text)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def registry_for(take: Callable[[], Snapshot], settings: Settings, paths: Paths) -> CollectorRegistry:
    """A private registry (no process or platform metrics of the client library) with pixel-tui's collector."""
    registry = CollectorRegistry(auto_describe=False)
    autoheal = settings.autoheal.enabled and not settings.read_only
    registry.register(ScrapeCollector(take, AuditCounts(paths.audit_log), autoheal_enabled=autoheal))
    return registry


def run_export(settings: Settings, paths: Paths, *, listen: str, allow_remote: bool,
               tls_cert: str | None = None, tls_key: str | None = None) -> int:  # fmt: skip
    """Serve /metrics until SIGTERM or Ctrl+C; each scrape collects afresh. Exit 3 when it cannot listen."""
    from pixel_tui.collect import Collector

    try:
        host, port = parse_listen(listen, allow_remote=allow_remote)
    except ListenError as error:
        print(f"pixel-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    collector = Collector(settings)
    collector.collect()  # primes the CPU counters: the first scrape's figures are measured, not zero
    try:
        try:
            server, _ = start_http_server(port, host, registry_for(collector.collect, settings, paths),
                                          certfile=tls_cert, keyfile=tls_key)  # fmt: skip
        except OSError as error:
            print(f"pixel-tui: cannot listen on {printable(listen)}: {error.strerror or error}", file=sys.stderr)
            return EXIT_UNKNOWN
        scheme = "https" if tls_cert else "http"
        shown = f"[{host}]" if ":" in host else host
        print(f"pixel-tui: metrics on {scheme}://{shown}:{server.server_port}/metrics", file=sys.stderr, flush=True)
        stop = threading.Event()

        def stopping(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, stopping)
        signal.signal(signal.SIGINT, stopping)
        while not stop.is_set():  # woken by the signal, whichever thread the kernel gave it to
            wait_for_signal(3600)
        server.shutdown()
        server.server_close()
        return 0
    finally:
        collector.close()


def write_prom_file(settings: Settings, paths: Paths, path: str, *, sample_s: float) -> tuple[Snapshot, str | None]:
    """Two samples `sample_s` apart, written to `path` in the text format (a temporary file, then a rename,
    so node_exporter never reads half a file); the snapshot and why the file could not be written, or None."""
    from pixel_tui.commands import measured_snapshot

    taken = measured_snapshot(settings, sample_s)
    try:
        write_to_textfile(str(Path(path)), registry_for(lambda: taken, settings, paths))
    except OSError as error:
        return taken, f"cannot write {path}: {error.strerror or error}"
    return taken, None


def prom_file(settings: Settings, paths: Paths, path: str, *, sample_s: float, as_json: bool) -> int:
    """`snapshot --prom-file PATH`: the file written, the JSON printed when asked; the level as exit code."""
    from pixel_tui.schema import dumps, to_json

    taken, problem = write_prom_file(settings, paths, path, sample_s=sample_s)
    if as_json:
        print(dumps(to_json(taken)), flush=True)
    if problem is not None:
        print(f"pixel-tui: {printable(problem)}", file=sys.stderr)
        return EXIT_UNKNOWN
    return exit_code(taken)
