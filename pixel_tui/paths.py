"""Where pixel-tui keeps its files: platformdirs only, with one seam (`PIXEL_TUI_HOME`) tests set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "pixel-tui"


@dataclass(frozen=True)
class Paths:
    """The directories and files in use."""

    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        """The default config file."""
        return self.config_dir / "config.toml"

    @property
    def themes_dir(self) -> Path:
        """Where users drop their own theme files."""
        return self.config_dir / "themes"

    @property
    def history_db(self) -> Path:
        """The cycle history database."""
        return self.data_dir / "history.sqlite3"

    @property
    def audit_log(self) -> Path:
        """The append-only audit log of remediation attempts."""
        return self.state_dir / "audit.jsonl"

    @property
    def saved_logs_dir(self) -> Path:
        """Where the log view saves a container's log (`s`)."""
        return self.data_dir / "logs"

    @property
    def log_dir(self) -> Path:
        """Where diagnostic logs go."""
        return self.state_dir / "log"


def default_paths() -> Paths:
    """The platformdirs locations, or all under `$PIXEL_TUI_HOME` when set (tests, portable installs)."""
    home = os.environ.get("PIXEL_TUI_HOME")
    if home:
        root = Path(home)
        return Paths(root / "config", root / "data", root / "state")
    return Paths(
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_state_dir(APP_NAME)),
    )
