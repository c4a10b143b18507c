"""The documented example config is valid and states exactly the defaults."""

from __future__ import annotations

import tomllib
from importlib.resources import files

from pixel_tui.settings import Settings, parse_settings


def test_example_config_is_the_defaults():
    text = files("pixel_tui").joinpath("config.example.toml").read_text()
    assert parse_settings(tomllib.loads(text)) == Settings()


def test_every_setting_is_in_the_example():
    text = files("pixel_tui").joinpath("config.example.toml").read_text()
    document = tomllib.loads(text)
    settings = Settings()
    for section in ("thresholds", "workers", "history", "ui", "engine"):
        assert set(document[section]) == set(vars(getattr(settings, section))), section
    top = {"interval", "docker_host", "read_only", "reconcile_s", "autoheal"}
    assert top <= set(document)
