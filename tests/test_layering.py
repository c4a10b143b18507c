"""Only pixel_tui.ui imports Textual: every headless module imports and runs without it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pixel_tui

HEADLESS = sorted(
    module.name
    for module in pkgutil.walk_packages(pixel_tui.__path__, "pixel_tui.")
    if not module.name.startswith("pixel_tui.ui") and module.name != "pixel_tui.__main__"
)


def test_there_are_headless_modules_to_check():
    expected = {"pixel_tui.cli", "pixel_tui.model", "pixel_tui.collect.collector", "pixel_tui.headless"}
    expected |= {"pixel_tui.ledger.format", "pixel_tui.ledger.reader", "pixel_tui.ledger.writer"}
    history = {"aggregate", "importer", "orchestrator_log", "model", "output", "recorder", "records", "store", "tables"}
    expected |= {f"pixel_tui.history.{name}" for name in history}
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


DOCKER_CHANGING = {"kill", "remove", "remove_container", "remove_image", "remove_volume", "restart", "prune",
                   "prune_containers", "prune_images", "prune_builds", "prune_volumes", "prune_networks",
                   "update_container", "exec_create", "exec_start", "exec_run"}  # fmt: skip
"""Docker SDK methods that change something and mean nothing else in this package."""
AMBIGUOUS = {"stop", "start", "pause", "unpause"}
"""Changing on a container or client, harmless on a thread or an event: flagged when the receiver is docker's."""
DOCKER_RECEIVER = ("api", "client", "docker", "container")
HOST_ONLY = ("drop_caches", "swapoff", "swapon", "/proc/sys", "LedgerWriter", "abort_task", "mark_task")
"""Touching the host itself, or writing the ledger."""


def _sources():
    root = Path(pixel_tui.__file__).parent
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root).as_posix(), path.read_text()


def test_only_the_remediation_layer_changes_anything():
    import ast

    offenders = []
    for name, text in _sources():
        if name.startswith("remediate/"):
            continue
        if name.startswith("demo/"):
            # The demo's simulated engine, files and host implement the same interfaces on a world in
            # memory: they may be called restart and remove, but they must never reach a real engine or host.
            offenders += [f"{name}: imports docker" for line in text.splitlines() if line.startswith("import docker")]
            offenders += [f"{name}: {word}" for word in ("subprocess", "/proc", "LedgerWriter") if word in text]
            continue
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method, receiver = node.func.attr, ast.unparse(node.func.value).lower()
            if method in DOCKER_CHANGING or (method in AMBIGUOUS and any(w in receiver for w in DOCKER_RECEIVER)):
                offenders.append(f"{name}:{node.lineno} {ast.unparse(node.func)}()")
        if not name.startswith("ledger/"):
            said = text.replace("swapoff_fits", "")  # a rule's field (docs/rules.md), named, never run
            offenders += [f"{name}: {word}" for word in HOST_ONLY if word in said]
    assert offenders == []
