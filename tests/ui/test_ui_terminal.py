"""The real `pixel-tui`, in a pseudo-terminal, against the test engine: what a person would see."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

import pyte

COLS, ROWS = 100, 30


class Terminal:
    """`python -m pixel_tui ...` in a pty, its output fed to a terminal emulator (pyte)."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            os.execve(sys.executable, [sys.executable, "-m", "pixel_tui", *args], env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.pid, self.fd = pid, fd
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)

    def pump(self, seconds: float) -> None:
        """Read what the program writes for up to `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the program exited and closed the pty
                return
            self.stream.feed(chunk)

    def text(self) -> str:
        """The screen as plain text."""
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 20.0) -> None:
        """Pump until `needle` is on screen."""
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert time.monotonic() < deadline, f"{needle!r} never appeared on screen:\n{self.text()}"
            self.pump(0.1)

    def exit_status(self, timeout: float = 10.0) -> int | None:
        """The exit status once the program ended, None when it is still running after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            self.pump(0.1)
        return None

    def kill(self) -> None:
        """Make sure the program is gone."""
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def test_console_shows_a_real_container_and_quits_with_q(engine):
    engine.run("sleep 600", name="pty-visible-web")
    engine.run("sleep 600", name="pixel-worker-5eed5eed", labels={"pixel.timeout": "3600"})
    terminal = Terminal("--docker-host", engine.url, "--interval", "0.5")
    try:
        terminal.wait_for("pty-visible-web")
        screen = terminal.text()
        assert "pixel-worker-5eed5eed" in screen  # in the containers and in the workers pane
        assert "unreachable" not in screen.lower()
        restarts = engine.client.containers.get("pixel-worker-5eed5eed").attrs["RestartCount"]
        started = engine.client.containers.get("pixel-worker-5eed5eed").attrs["State"]["StartedAt"]
        os.write(terminal.fd, b"r")  # restart the selected container: the first row, by name
        terminal.wait_for("Restart pixel-worker-5eed5eed")
        os.write(terminal.fd, b"y")
        terminal.wait_for("restart pixel-worker-5eed5eed", timeout=30)
        terminal.wait_for("done", timeout=30)  # the notification (and the events pane)
        after = engine.client.containers.get("pixel-worker-5eed5eed").attrs
        assert after["State"]["StartedAt"] != started and after["RestartCount"] >= restarts
        os.write(terminal.fd, b"q")
        assert terminal.exit_status() == 0
    finally:
        terminal.kill()


def test_watch_mode_shows_the_read_only_badge_and_a_missing_engine(tmp_path):
    terminal = Terminal("watch", "--docker-host", f"unix://{tmp_path}/absent.sock", "--interval", "0.5")
    try:
        terminal.wait_for("READ-ONLY")
        terminal.wait_for("no Docker socket at")
        os.write(terminal.fd, b"r")  # restart: a changing key, not offered in watch mode
        terminal.pump(0.5)
        assert "not available" not in terminal.text()
        os.write(terminal.fd, b"q")
        assert terminal.exit_status() == 0
    finally:
        terminal.kill()


BEATS = "i=0; while :; do i=$((i+1)); echo beat-$i; sleep 0.5; done"
"""A shell loop writing a numbered line twice a second."""
EVIL_TASK = "\x1b]0;pwned\x07\x1b[41mEVIL\x1b[2J"
"""A task label that would retitle the terminal, paint it red and clear it if it reached the terminal raw."""


def test_escape_sequences_from_labels_and_logs_never_reach_the_terminal(engine):
    # Sorted first, so the containers table's cursor starts on it; its log mixes colour with hostile sequences.
    engine.run(
        ["sh", "-c", r"printf '\033]0;logtitle\007\033[31mRED\033[0m plain\033[2J\n'; " + BEATS],
        name="aaa-log",
    )
    engine.run("sleep 600", name="pixel-worker-deadbeef", labels={"pixel.task": EVIL_TASK})
    terminal = Terminal("--docker-host", engine.url, "--interval", "0.5")
    raw = bytearray()
    feed = terminal.stream.feed

    def keep(chunk: bytes) -> None:
        raw.extend(chunk)
        feed(chunk)

    terminal.stream.feed = keep  # type: ignore[method-assign]
    try:
        terminal.wait_for("pixel-worker-deadbeef")
        terminal.wait_for(r"\x1b]0;p")  # the task id, escaped (and clipped to its column), in the workers table
        os.write(terminal.fd, b"l")
        terminal.wait_for("plain")
        terminal.wait_for("following")
        screen = terminal.text()
        assert r"\x1b]0;logtitle\x07" in screen and r"\x1b[2J" in screen  # shown, not obeyed
        row = next(y for y, line in enumerate(terminal.screen.display) if "plain" in line)
        line = terminal.screen.display[row]
        red, plain = (terminal.screen.buffer[row][line.index(word)].fg for word in ("RED", "plain"))
        assert red != plain and red != "default", "the log's own colour is rendered (the theme's red)"
        assert b"pwned\x07" not in raw and b"\x1b]0;pwned" not in raw and b"logtitle\x07" not in raw
        assert b"\x1b[41mEVIL" not in raw
        assert terminal.screen.title != "pwned" and terminal.screen.title != "logtitle"
        # The log view follows: lines written after it opened arrive.
        first = max(map(int, re.findall(r"beat-(\d+)", terminal.text())), default=0)
        deadline = time.monotonic() + 20
        while max(map(int, re.findall(r"beat-(\d+)", terminal.text())), default=0) < first + 2:
            assert time.monotonic() < deadline, f"no new line after beat-{first}:\n{terminal.text()}"
            terminal.pump(0.1)
        os.write(terminal.fd, b"\x1b")
        terminal.pump(0.5)
        os.write(terminal.fd, b"q")
        assert terminal.exit_status() == 0
    finally:
        terminal.kill()


def test_e_opens_a_shell_in_the_selected_container_and_exit_brings_the_console_back(engine):
    """The real thing: the console suspends, `docker exec -it` runs ash in the busybox container on the test
    engine, what is typed runs there, and `exit` gives the terminal back to the console, audited."""
    import json

    from pixel_tui.paths import default_paths

    shell_in = engine.run("sleep 600", name="aaa-shell")  # sorted first: the containers table's cursor is on it
    engine.run("sleep 600", name="zzz-other")
    terminal = Terminal("--docker-host", engine.url, "--interval", "0.5")
    try:
        terminal.wait_for("zzz-other")
        os.write(terminal.fd, b"e")
        terminal.wait_for("/ # ")  # ash's prompt, in the container
        os.write(terminal.fd, b"echo hello-$((6*7)) in $(hostname)\r")
        terminal.wait_for(f"hello-42 in {shell_in.id[:12]}")
        os.write(terminal.fd, b"exit\r")
        # The console is back once the shell's outcome is recorded; then it must answer a key with something it
        # draws anew. (This emulator has no alternate screen: the console's earlier text, and cells it had no
        # reason to redraw, can still be on it, so they prove nothing; tmux shows the console whole.)
        audit = default_paths().audit_log
        deadline = time.monotonic() + 20
        while '"phase":"outcome"' not in (audit.read_text() if audit.exists() else ""):
            assert time.monotonic() < deadline, "the shell's outcome was never recorded"
            terminal.pump(0.1)
        os.write(terminal.fd, b"?")
        terminal.wait_for("Navigation")  # the help screen: drawn by the console, after the shell
        os.write(terminal.fd, b"\x1b")
        terminal.pump(0.5)
        os.write(terminal.fd, b"q")
        assert terminal.exit_status() == 0
    finally:
        terminal.kill()
    lines = [json.loads(line) for line in default_paths().audit_log.read_text().splitlines()]
    assert [(line["action"], line["phase"]) for line in lines] == [("container.shell", "intent"),
                                                                    ("container.shell", "outcome")]  # fmt: skip
    assert lines[1]["outcome"] == "ok" and lines[1]["target"]["id"] == shell_in.id
    assert "/bin/ash ended with exit status 0" in json.dumps(lines[1])
