"""Only pixel_tui.ui imports Textual: every headless module imports and runs without it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pixel_tui

HEADLESS = sorted(
    module.name
    for module in pkgutil.walk_packages(pixel_tui.__path__, "pixel_tui.")
    if not module.name.startswith("pixel_tui.ui") and module.name != "pixel_tui.__main__"
)


def test_there_are_headless_modules_to_check():
    expected = {"pixel_tui.cli", "pixel_tui.model", "pixel_tui.collect.collector", "pixel_tui.headless"}
    expected |= {"pixel_tui.ledger.format", "pixel_tui.ledger.reader", "pixel_tui.ledger.writer"}
    assert expected <= set(HEADLESS)


def test_headless_modules_do_not_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert 'textual' not in sys.modules, name\n"
        "print('clean')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
