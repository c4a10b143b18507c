"""A webhook receiver the notification tests start on loopback: it records each POST and answers as scripted."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP server in a daemon thread; `answers` are the statuses of the next requests (then 200)."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.received: list[Received] = []
        self.hold = threading.Event()
        """Cleared: each request waits until it is set (a slow webhook); set by default."""
        self.hold.set()
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._arrived:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver._arrived.notify_all()
                receiver.hold.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/pixel-alerts") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests once `count` arrived (AssertionError after `timeout`)."""
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


class Silent:
    """A listening socket that never accepts: a connection is made (the kernel's backlog) and never answered."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)

    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}/never"

    def close(self) -> None:
        self.socket.close()
