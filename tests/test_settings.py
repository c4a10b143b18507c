"""Config: documented defaults, overrides, and errors that name the bad key."""

from __future__ import annotations

import pytest

from pixel_tui.settings import ConfigError, Settings, load_settings, with_overrides


def load(tmp_path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path)


def test_defaults_match_the_design():
    settings = Settings()
    assert settings.thresholds.swap == (10.0, 50.0, 80.0)
    assert settings.thresholds.load == (1.0, 1.5, 2.0)
    assert settings.workers.default_timeout_s == 2760.0 and settings.workers.ghost_grace_s == 60.0
    assert settings.disks == ("/",)


def test_missing_default_file_gives_defaults_but_an_explicit_one_is_required(tmp_path):
    assert load_settings(tmp_path / "absent.toml") == Settings()
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "absent.toml", required=True)


def test_a_full_file_is_read(tmp_path):
    settings = load(
        tmp_path,
        """
interval = 0.5
read_only = true
[disks]
mounts = ["/", "/var/lib/docker"]
[thresholds]
swap = [5, 40, 70]
[workers]
ledger = "/srv/ledger.json"
default_timeout_s = 600
[ui]
theme = "pixel-light"
[keys]
"container.restart" = "ctrl+r"
[engine]
proc_root = "/host/proc"
cgroup_root = "/host/sys/fs/cgroup"
""",
    )
    assert (settings.engine.proc_root, settings.engine.cgroup_root) == ("/host/proc", "/host/sys/fs/cgroup")
    assert settings.interval == 0.5 and settings.read_only
    assert settings.disks == ("/", "/var/lib/docker")
    assert settings.thresholds.swap == (5.0, 40.0, 70.0) and settings.thresholds.cpu == (50.0, 70.0, 90.0)
    assert settings.workers.ledger == "/srv/ledger.json" and settings.workers.default_timeout_s == 600.0
    assert settings.ui.theme == "pixel-light" and settings.keys == {"container.restart": "ctrl+r"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("interval = 'fast'", "interval: expected a number"),
        ("interval = -1", "interval: must be from 0.1 to 3600, got -1"),
        ("colour = 'red'", "unknown key 'colour'"),
        ("[thresholds]\nswap = [80, 50, 10]", "thresholds.swap: expected three ascending numbers"),
        ("[thresholds]\nswap = [1, 2]", "thresholds.swap"),
        ("[workers]\nname_pattern = '('", "workers.name_pattern: not a regular expression"),
        ("[workers]\nghost_grace = 5", "unknown key workers.ghost_grace"),
        ("[ui]\nhistory_metric = 'disk'", "ui.history_metric"),
        ("[ui]\ncpu_smoothing = 2.5", "ui.cpu_smoothing: expected a whole number"),
        ("read_only = 'yes'", "read_only: expected true or false"),
        ("[disks]\nmounts = ['relative']", "disks.mounts"),
        ("[keys]\n'app.quit' = ''", "keys.app.quit"),
        ("interval = ", "not valid TOML"),
        ("[engine]\nproc_root = 'host/proc'", "engine.proc_root: expected an absolute path"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace("[", r"\[")):
        load(tmp_path, text)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"interval = \xff")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path)


def test_command_line_overrides():
    settings = with_overrides(
        Settings(), interval=0.25, ledger="/l.json", theme="pixel-contrast", read_only=True, docker_host=None
    )
    assert settings.interval == 0.25 and settings.workers.ledger == "/l.json"
    assert settings.ui.theme == "pixel-contrast" and settings.read_only and settings.docker_host is None
