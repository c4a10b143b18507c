"""Running as root, pixel-tui refuses what another user could have set: real directories, real symlinks, a real
second user (created with useradd when absent) and the CLI run as that user with setpriv."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pixel_tui import trust
from pixel_tui.history.model import OWN_SOURCE, Cycle
from pixel_tui.history.store import HistoryStore, HistoryUnavailable
from pixel_tui.model import Level
from pixel_tui.remediate.audit import AuditLog, AuditUnavailable

REPO = Path(__file__).resolve().parent.parent
OTHER = "pixeltui-other"
"""The unprivileged user these tests plant files as and run pixel-tui as."""
MISSING = "unix:///nonexistent/pixel-rootsafe.sock"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="these tests compare root with another user: run as root")


@pytest.fixture(scope="session")
def other() -> Iterator[pwd.struct_passwd]:
    """A real unprivileged user with a group of its own; created (and removed after) when absent."""
    created = False
    try:
        pwd.getpwnam(OTHER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER],
            check=True,
            capture_output=True,
        )
        created = True
    try:
        yield pwd.getpwnam(OTHER)
    finally:
        if created:
            subprocess.run(["userdel", OTHER], check=False, capture_output=True)


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory every user can reach (pytest's own tmp dir is root's alone), owned by root, mode 0755."""
    path = Path(tempfile.mkdtemp(prefix="pixeltui-rootsafe-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _pythonpath() -> str:
    return os.pathsep.join([str(REPO), *site.getsitepackages()])


@pytest.fixture(scope="session")
def user_python(other: pwd.struct_passwd) -> str:
    """An interpreter the other user can run that imports pixel_tui from this tree (this one may live under /root)."""
    for python in (sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"):
        probe = _as(other, [python, "-c", "import pixel_tui.cli, platformdirs"], cwd="/")
        if probe.returncode == 0:
            return python
    pytest.fail(f"no Python {sys.version_info.major}.{sys.version_info.minor} that {OTHER} can run and import from")


def _as(user: pwd.struct_passwd, argv: list[str], *, cwd: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *argv]
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": _pythonpath(), "HOME": str(cwd), **env}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd, env=environment)


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`pixel-tui ARGS` as root with PIXEL_TUI_HOME=home."""
    env = {**os.environ, "PIXEL_TUI_HOME": str(home), "PYTHONPATH": _pythonpath()}
    command = [sys.executable, "-m", "pixel_tui", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def _home(base: Path, mode: int = 0o700) -> Path:
    home = base / "home"
    home.mkdir()
    home.chmod(mode)
    return home


def _cycle() -> Cycle:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return Cycle(None, OWN_SOURCE, start, start, 0.0, Level.OK)


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


# --- the check itself ------------------------------------------------------------------------------------


def test_a_world_writable_home_is_refused_as_root_with_the_path_and_the_reason(base):
    home = _home(base, 0o777)
    result = run("audit", home=home)
    assert result.returncode == 3
    assert f"pixel-tui: refused: {home}: is writable by every user (mode 0777)" in result.stderr
    assert "Running as root" in result.stderr
    assert _tree(home) == [], "nothing is created under a refused home"


def test_xdg_directories_other_users_can_write_are_refused_as_root(base):
    shared = base / "xdg"
    shared.mkdir()
    shared.chmod(0o777)
    env = {key: value for key, value in os.environ.items() if key != "PIXEL_TUI_HOME"}
    env |= {"PYTHONPATH": _pythonpath(), "HOME": str(base)}
    env |= {f"XDG_{kind}_HOME": str(shared / kind.lower()) for kind in ("CONFIG", "DATA", "STATE")}
    result = subprocess.run(
        [sys.executable, "-m", "pixel_tui", "audit"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 3
    assert f"pixel-tui: refused: {shared}: is writable by every user (mode 0777)" in result.stderr
    assert _tree(shared) == []


def test_a_group_writable_home_is_refused_unless_the_group_is_roots_alone(base, other):
    home = _home(base, 0o770)
    os.chown(home, 0, other.pw_gid)
    result = run("audit", home=home)
    assert result.returncode == 3
    assert f"{home}: is writable by group {OTHER} (gid {other.pw_gid}) (mode 0770)" in result.stderr
    os.chown(home, 0, 0)  # group root, whose only member is root: as good as the owner (a user private group)
    assert grp.getgrgid(0).gr_mem in ([], ["root"])
    result = run("audit", home=home)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_every_step_up_to_the_root_is_checked(base, other):
    middle = base / "shared"
    middle.mkdir(mode=0o755)
    os.chown(middle, other.pw_uid, other.pw_gid)  # the other user could swap what lies below
    home = middle / "home"
    home.mkdir(mode=0o700)
    result = run("locate", home=home)
    assert result.returncode == 0, "locate says, it does not refuse"
    reason = f"{middle}: is owned by {OTHER} (uid {other.pw_uid}), not by root"
    assert f"audit log: {home}/state/audit.jsonl  (refused as root: {reason})" in result.stdout
    result = run("history", home=home)
    assert result.returncode == 3 and f"refused: {reason}" in result.stderr


def test_a_sticky_directory_is_fine_and_an_entry_planted_in_it_is_not(base, other):
    sticky = base / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    home = sticky / "home"
    home.mkdir(mode=0o700)
    assert run("audit", home=home).returncode == 0
    real = base / "real"
    real.mkdir(mode=0o700)
    planted = sticky / "planted"
    planted.symlink_to(real)
    os.lchown(planted, other.pw_uid, other.pw_gid)  # as if the other user had made it: they could, in /tmp
    result = run("audit", home=planted)
    assert result.returncode == 3
    assert f"{planted}: is owned by {OTHER} (uid {other.pw_uid}), not by root" in result.stderr
    os.lchown(planted, 0, 0)  # root's own symlink to a trusted place is expected, and followed
    assert run("audit", home=planted).returncode == 0


def test_a_config_in_a_world_writable_directory_is_refused_before_it_is_read(base):
    home = _home(base)
    drop = base / "drop"
    drop.mkdir()
    drop.chmod(0o777)
    config = drop / "config.toml"
    config.write_text("[autoheal]\nenabled = true\n[thresholds]\nswap = [0, 0, 0]\n")
    result = run("--config", str(config), "heal", "--dry-run", "--docker-host", MISSING, home=home)
    assert result.returncode == 3
    assert f"pixel-tui: refused: {drop}: is writable by every user (mode 0777)" in result.stderr
    assert "Docker" not in result.stderr and result.stdout == "", "it stops before reading the config or the engine"
    drop.chmod(0o755)
    config.chmod(0o666)
    result = run("--config", str(config), "heal", "--dry-run", "--docker-host", MISSING, home=home)
    assert result.returncode == 3 and f"refused: {config}: is writable by every user (mode 0666)" in result.stderr


def test_a_config_symlink_root_made_in_its_own_directory_is_followed_and_its_target_checked(base, other):
    home = _home(base)
    (home / "config").mkdir()
    elsewhere = base / "etc"
    elsewhere.mkdir(mode=0o755)
    (elsewhere / "pixel.toml").write_text("interval = 5\n")
    (home / "config" / "config.toml").symlink_to(elsewhere / "pixel.toml")
    trust.check(home / "config" / "config.toml")
    os.chown(elsewhere / "pixel.toml", other.pw_uid, other.pw_gid)
    with pytest.raises(trust.Untrusted) as refused:
        trust.check(home / "config" / "config.toml")
    assert refused.value.path == str(elsewhere / "pixel.toml") and f"owned by {OTHER}" in refused.value.reason


def test_a_config_is_believed_only_if_its_path_still_leads_to_the_file_read(base):
    home = _home(base)
    config = home / "config.toml"
    config.write_text("interval = 5\n")
    read = config.stat()
    trust.check_read(config, read)
    replacement = home / "other.toml"
    replacement.write_text("interval = 9\n")
    replacement.rename(config)  # a file swapped in after the read: what was read is not what the path names
    with pytest.raises(trust.Untrusted, match="was replaced while it was read"):
        trust.check_read(config, read)
    config.unlink()
    with pytest.raises(trust.Untrusted, match="changed while it was read"):
        trust.check_read(config, read)


# --- planted symlinks for the audit log and the history ---------------------------------------------------


def test_a_planted_audit_log_symlink_is_refused_and_nothing_is_written_at_its_target(base):
    home = _home(base)
    (home / "state").mkdir(mode=0o700)
    victim = base / "victim"
    victim.write_text("precious\n")
    (home / "state" / "audit.jsonl").symlink_to(victim)
    result = run("act", "host.prune", "--yes", "--docker-host", MISSING, home=home)
    assert result.returncode == 3
    assert f"refused: {home}/state/audit.jsonl: is a symbolic link, and pixel-tui never makes one" in result.stderr
    log = AuditLog(home / "state" / "audit.jsonl")
    with pytest.raises(AuditUnavailable, match="is a symbolic link"):
        log.append({"action": "test"})
    with pytest.raises(AuditUnavailable, match="is a symbolic link"):
        log.check()
    assert victim.read_text() == "precious\n"
    (home / "state" / "audit.jsonl").unlink()
    (home / "state" / "audit.jsonl").symlink_to(base / "new-file")  # dangling: O_CREAT would create the target
    with pytest.raises(AuditUnavailable, match="is a symbolic link"):
        log.append({"action": "test"})
    assert not (base / "new-file").exists()


@pytest.mark.parametrize("name", ["history.sqlite3", "history.sqlite3-wal", "history.sqlite3-journal"])
def test_a_planted_history_symlink_is_refused_and_nothing_is_created_at_its_target(base, name, tmp_path):
    home = _home(base)
    (home / "data").mkdir(mode=0o700)
    target = base / "new.db"
    (home / "data" / name).symlink_to(target)
    imported = tmp_path / "cycles.jsonl"
    imported.write_text(json.dumps({"cycle": 1, "time": "2026-01-01T00:00:00Z", "swap_percent": 5}) + "\n")
    result = run("history", "import", str(imported), home=home)
    assert result.returncode == 3
    assert f"{home}/data/{name}: is a symbolic link, and pixel-tui never makes one" in result.stderr
    store = HistoryStore(home / "data" / "history.sqlite3")
    with pytest.raises(HistoryUnavailable, match=f"refused: .*/{name}: is a symbolic link"):
        store.add_own(_cycle())
    assert not target.exists(), "SQLite never opened through the symlink"


# --- the same layouts as an unprivileged user ---------------------------------------------------------------


def test_an_unprivileged_user_is_warned_and_goes_on(base, other, user_python):
    home = _home(base, 0o777)
    result = _as(other, [user_python, "-m", "pixel_tui", "audit"], cwd=base, PIXEL_TUI_HOME=str(home))
    assert result.returncode == 0, result.stderr
    assert f"pixel-tui: warning: {home}: is writable by every user (mode 0777)" in result.stderr
    assert result.stdout == f"no remediation recorded yet in {home}/state/audit.jsonl\n"
    located = _as(other, [user_python, "-m", "pixel_tui", "locate"], cwd=base, PIXEL_TUI_HOME=str(home))
    assert f"(untrusted: {home}: is writable by every user (mode 0777))" in located.stdout
    assert run("audit", home=home).returncode == 3, "the same layout refuses root"


def test_an_unprivileged_user_never_follows_a_symlink_for_the_audit_log_or_history(base, other, user_python):
    home = _home(base)
    os.chown(home, other.pw_uid, other.pw_gid)
    for part in ("state", "data"):
        (home / part).mkdir(mode=0o700)
        os.chown(home / part, other.pw_uid, other.pw_gid)
    victim = base / "victim"
    victim.write_text("the user's own file\n")
    os.chown(victim, other.pw_uid, other.pw_gid)
    (home / "state" / "audit.jsonl").symlink_to(victim)
    (home / "data" / "history.sqlite3").symlink_to(base / "new.db")
    script = (
        "import sys\n"
        "from pixel_tui.remediate.audit import AuditLog, AuditUnavailable\n"
        "from pixel_tui.history.store import HistoryStore, HistoryUnavailable\n"
        f"try:\n    AuditLog({str(home / 'state' / 'audit.jsonl')!r}).append({{'action': 'x'}})\n"
        "except AuditUnavailable as error:\n    print(error)\n"
        f"try:\n    HistoryStore({str(home / 'data' / 'history.sqlite3')!r}).count()\n"
        "except HistoryUnavailable as error:\n    print(error)\n"
    )
    result = _as(other, [user_python, "-c", script], cwd=base)
    assert result.returncode == 0, result.stderr
    audit_line, history_line = result.stdout.splitlines()
    assert audit_line.endswith("it is a symbolic link, and pixel-tui never makes one")
    assert history_line.endswith("history.sqlite3: is a symbolic link, and pixel-tui never makes one for its own files")
    assert victim.read_text() == "the user's own file\n" and not (base / "new.db").exists()
    shown = _as(other, [user_python, "-m", "pixel_tui", "audit"], cwd=base, PIXEL_TUI_HOME=str(home))
    assert shown.returncode == 0 and "the user's own file" not in shown.stdout
    assert "is a symbolic link" in shown.stderr


def test_directories_pixel_tui_creates_are_private(base):
    home = _home(base)
    AuditLog(home / "state" / "audit.jsonl").append({"action": "test"})
    HistoryStore(home / "data" / "history.sqlite3").count()
    for part in ("state", "data"):
        assert (home / part).stat().st_mode & 0o077 == 0, part
    assert (home / "state" / "audit.jsonl").stat().st_mode & 0o777 == 0o600
    result = run("audit", home=home)
    assert result.returncode == 0 and result.stderr == "", "what pixel-tui made, it trusts"
