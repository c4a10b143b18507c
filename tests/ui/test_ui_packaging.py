"""The built-in themes ship inside the package: pyproject lists every package and maps themes/ as pixel_tui.themes."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_under_pixel_tui_is_listed() -> None:
    listed = set(_setuptools()["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "pixel_tui").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"


def test_the_themes_folder_is_mapped_with_its_files() -> None:
    config = _setuptools()
    assert "pixel_tui.themes" in config["packages"]
    assert config["package-dir"]["pixel_tui.themes"] == "themes"
    assert config["package-data"]["pixel_tui.themes"] == ["*.toml"]
    assert "*.tcss" in config["package-data"]["pixel_tui.ui"]
    assert (ROOT / "themes" / "__init__.py").is_file()


def test_a_wheel_carries_the_themes_and_the_stylesheet(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0 and any(
        hint in result.stderr for hint in ("No matching distribution", "Could not find a version", "NewConnectionError")
    ):
        pytest.skip(f"no package index to build with: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("pixel_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    themes = {Path(t).name for t in (ROOT / "themes").glob("*.toml")}
    assert {f"pixel_tui/themes/{name}" for name in themes} <= names
    assert "pixel_tui/ui/pixel.tcss" in names
    assert "pixel_tui/rules/builtin.toml" in names  # the built-in autoheal rules (issue 16)
