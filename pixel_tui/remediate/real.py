"""The executor on the real backends: this host's engine, the configured ledger and lock, /proc, the audit log."""

from __future__ import annotations

from pixel_tui.engine.client import request_timeout
from pixel_tui.paths import Paths
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.engine_ops import DockerOps
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.remediate.host import RealHost
from pixel_tui.remediate.orchestrator import RealFiles
from pixel_tui.remediate.shell import ShellSessions
from pixel_tui.settings import Settings


def real_executor(settings: Settings, paths: Paths) -> Executor:
    """An executor acting on the engine of `settings.docker_host`, read-only when the settings say so."""
    workers = settings.workers
    # Its reads time out as the collector's do: on a frozen engine an action is refused within seconds.
    reads = request_timeout(settings.interval, settings.docker_host, settings.context)
    engine = DockerOps(settings.docker_host, request_timeout=reads, context=settings.context)
    backends = Backends(
        engine=engine,
        files=RealFiles(workers.ledger, workers.lock_file, max_bytes=workers.ledger_max_bytes),
        host=RealHost(),
        audit=AuditLog(paths.audit_log),
        shell=ShellSessions(engine.endpoint, engine.runs),
    )
    return Executor(settings, backends, read_only=settings.read_only)
