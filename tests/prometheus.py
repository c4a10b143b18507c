"""A real Prometheus and real `pixel-tui export` processes for the tests (Debian's `prometheus` package)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from types import TracebackType

from tests.test_cli import CALM

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def host_config(tmp_path: Path, tasks: list[dict] | None = None, lock: str | None = None) -> Path:
    """A config with calm thresholds, a ledger of `tasks` and a lock file holding `lock` (JSON) when given."""
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"version": 1, "tasks": tasks or []}))
    lock_file = tmp_path / "worker.lock"
    if lock is not None:
        lock_file.write_text(lock)
    config = tmp_path / "config.toml"
    config.write_text(f'{CALM}\n[workers]\nledger = "{ledger}"\nlock_file = "{lock_file}"\nspawn_window_s = 1\n')
    return config


class Exporter:
    """`pixel-tui export` as a child process on a free loopback port."""

    def __init__(self, config: Path, docker_host: str, home: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PIXEL_TUI_HOME": str(home)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pixel_tui", "export", "--listen", f"127.0.0.1:{self.port}",
             "--config", str(config), "--docker-host", docker_host],
            stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        line = self.process.stderr.readline()  # type: ignore[union-attr]
        assert line.startswith("pixel-tui: metrics on http://127.0.0.1:"), line + self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def scrape(self) -> str:
        with urllib.request.urlopen(self.url, timeout=30) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            return response.read().decode()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, errors = self.process.communicate(timeout=20)
        return errors


class Prometheus:
    """Debian's prometheus as a child process: its own config (a 1 s scrape of `exporters`), storage and port."""

    def __init__(
        self, directory: Path, exporters: list[Exporter], job: str = "pixel-tui", users: dict[str, str] | None = None
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        targets = ", ".join(f"'127.0.0.1:{exporter.port}'" for exporter in exporters)
        config = directory / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: {job}\n"
            f"    static_configs: [{{targets: [{targets}]}}]\n"
        )
        assert PROMETHEUS is not None, "prometheus is not installed (Debian: apt-get install prometheus)"
        web = []
        self.auth: tuple[str, str] | None = None
        if users:  # Prometheus' own basic auth: bcrypt hashes in a web config file
            web_config = directory / "web.yml"
            web_config.write_text("basic_auth_users:\n" + "".join(f"  {u}: '{bcrypt(p)}'\n" for u, p in users.items()))
            web = [f"--web.config.file={web_config}"]
            self.auth = next(iter(users.items()))
        self.process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={directory / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", *web],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def __enter__(self) -> Prometheus:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def query(self, promql: str) -> dict[str, float]:
        """An instant query's values by instance."""
        request = urllib.request.Request(f"{self.url}/api/v1/query?query={urllib.parse.quote(promql)}")
        if self.auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(":".join(self.auth).encode()).decode())
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return {r["metric"]["instance"]: float(r["value"][1]) for r in body["data"]["result"]}

    def until(self, promql: str, expected: dict[str, float], within_s: float) -> dict[str, float]:
        """Poll `promql` until it gives `expected` (Prometheus starts and scrapes on its own schedule)."""
        deadline, seen = time.monotonic() + within_s, {}
        while time.monotonic() < deadline:
            try:
                seen = self.query(promql)
            except OSError:  # not listening yet
                seen = {}
            if seen == expected:
                return seen
            time.sleep(0.5)
        raise AssertionError(f"{promql}: {seen} != {expected} after {within_s:g} s")


def bcrypt(password: str) -> str:
    """A bcrypt hash, as Prometheus' web config wants (glibc's libxcrypt, through Python's crypt module)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
