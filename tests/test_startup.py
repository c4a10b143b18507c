"""What the console loads before its first frame: only what the first frame and a local engine need.

paramiko (15 MB with `cryptography`) is for ssh:// engines only, and the docker SDK imports it eagerly:
pixel_tui/__init__.py puts a stand-in in its place that loads it on first use. The history screen and
its plotext chart load when `h` is pressed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CONSOLE_PATH = (
    "pixel_tui.cli",
    "pixel_tui.commands",
    "pixel_tui.collect",
    "pixel_tui.history.recorder",
    "pixel_tui.remediate.real",
    "pixel_tui.ui.app",
)
"""What `pixel-tui` imports on its way to the first frame (pixel_tui.commands.console)."""


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_console_path_loads_no_ssh_library():
    out = _run(
        f"""
        import importlib, sys
        for name in {CONSOLE_PATH!r}:
            importlib.import_module(name)
        import docker
        docker.APIClient  # the SDK is there, its ssh adapter too, paramiko is not
        import docker.transport
        loaded = sorted(m for m in sys.modules if m.startswith(("paramiko.", "cryptography")))
        print(hasattr(docker.transport, "SSHHTTPAdapter"), loaded)
        """
    )
    assert out == "True []"


def test_the_console_path_leaves_the_history_chart_for_the_h_key():
    out = _run(
        f"""
        import importlib, sys
        for name in {CONSOLE_PATH!r}:
            importlib.import_module(name)
        print(sorted(m for m in sys.modules if m.startswith(("plotext", "pixel_tui.ui.plot", "pixel_tui.ui.history_"))))
        """
    )
    assert out == "[]"


def test_paramiko_loads_on_first_use_and_is_the_real_module():
    out = _run(
        """
        import sys
        import pixel_tui, docker
        import paramiko
        stand_in = sys.modules["paramiko"]
        assert "paramiko.client" not in sys.modules
        client = paramiko.SSHClient  # the first use
        import paramiko.config
        from paramiko import RejectPolicy
        from docker.transport import sshconn
        print(client.__module__, sys.modules["paramiko"] is not stand_in, sshconn.paramiko.RejectPolicy is RejectPolicy,
              paramiko.config.SSHConfig.__name__)
        """
    )
    assert out == "paramiko.client True True SSHConfig"


def test_a_module_that_fails_to_load_fails_at_each_use_and_stays_replaceable(tmp_path):
    (tmp_path / "broken_mod.py").write_text("raise RuntimeError('no luck')\n")
    out = _run(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from pixel_tui import _load_on_first_use
        _load_on_first_use("broken_mod")
        import broken_mod
        for _ in range(2):
            try:
                broken_mod.anything
            except RuntimeError as error:
                print(error, end="; ")
        print(type(sys.modules["broken_mod"]).__name__)
        """
    )
    assert out == "no luck; no luck; _OnFirstUse"


def test_malloc_arenas_are_capped_unless_the_operator_chose(monkeypatch):
    """glibc's mallopt takes the cap (a long heal's RSS stayed flat with it); MALLOC_ARENA_MAX set wins."""
    import platform

    from pixel_tui.threads import cap_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert cap_malloc_arenas() is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert cap_malloc_arenas() is (platform.libc_ver()[0] == "glibc")


def test_a_signal_taken_by_another_thread_still_ends_an_interruptible_sleep():
    """The kernel may give SIGINT to any thread; the main thread's sleep must end at once all the same."""
    import os
    import signal
    import threading
    import time

    import pytest

    from pixel_tui.threads import sleep_interruptibly

    class Woken(Exception):
        pass

    def handler(signum, frame):
        raise Woken

    go = threading.Event()

    def send() -> None:
        go.wait()
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGUSR1)  # the process: only this thread does not block it

    previous = signal.signal(signal.SIGUSR1, handler)
    helper = threading.Thread(target=send)
    helper.start()  # before the main thread blocks the signal: the helper takes it, as a collector thread may
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    started = time.monotonic()
    try:
        go.set()
        with pytest.raises(Woken):
            sleep_interruptibly(10)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
        signal.signal(signal.SIGUSR1, previous)
        helper.join()
    assert time.monotonic() - started < 5


def test_an_interruptible_sleep_works_with_more_than_1024_descriptors_open():
    """At a thousand containers the collector holds over 1 024 cgroup files open; `snapshot --sample` then
    slept on a descriptor numbered above 1 024, which select() refuses (ValueError, the snapshot lost)."""
    import os
    import resource
    import time

    import pytest

    from pixel_tui.threads import sleep_interruptibly

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard limit on open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held: list[int] = []
    try:
        while not held or held[-1] < 1100:
            held.append(os.open(os.devnull, os.O_RDONLY))
        started = time.monotonic()
        sleep_interruptibly(0.05)
        assert 0.04 < time.monotonic() - started < 5
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
