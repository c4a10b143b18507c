"""The `pixel-tui` command line: the console, plain watch, one-shot snapshot and locate."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pixel_tui import __version__
from pixel_tui.headless import EXIT_UNKNOWN, exit_code, render_table, status_line
from pixel_tui.model import Snapshot
from pixel_tui.paths import Paths, default_paths
from pixel_tui.schema import to_json
from pixel_tui.settings import ConfigError, Settings, load_settings, with_overrides


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 3 (unknown), not argparse's 2, which means critical to a monitoring system."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNKNOWN, f"{self.prog}: error: {message}\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text!r}")
    return value


def _common() -> argparse.ArgumentParser:
    """Options valid before and after the subcommand; SUPPRESS keeps one from erasing the other."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--read-only", action="store_true", default=argparse.SUPPRESS, help="watch only: nothing can be changed"
    )
    common.add_argument(
        "--docker-host",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="engine URL (default: DOCKER_HOST, then the local socket)",
    )
    common.add_argument(
        "--ledger", metavar="PATH", default=argparse.SUPPRESS, help="the orchestrator's task ledger (JSON)"
    )
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="config file (default: see `pixel-tui locate`)"
    )
    common.add_argument(
        "--interval",
        metavar="SECONDS",
        type=_positive_float,
        default=argparse.SUPPRESS,
        help="seconds between collections",
    )
    common.add_argument("--theme", metavar="NAME", default=argparse.SUPPRESS, help="console theme")
    common.add_argument(
        "--autoheal", action="store_true", default=argparse.SUPPRESS, help="apply the autoheal policy each cycle"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full parser: common options, then one subcommand (none runs the console)."""
    common = _common()
    parser = _Parser(
        prog="pixel-tui",
        parents=[common],
        description="A terminal console for a Docker host and its short-lived worker containers.",
        epilog="Exit codes of snapshot: 0 ok/careful, 1 warning, 2 critical, 3 unknown (also usage and config errors).",
    )
    parser.add_argument("--version", action="version", version=f"pixel-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser("console", parents=[common], help="the interactive console (the default)")
    watch = commands.add_parser("watch", parents=[common], help="the console, read-only; or --plain status lines")
    watch.add_argument("--plain", action="store_true", help="no TUI: print one status line per cycle")
    watch.add_argument("--count", type=_positive_int, metavar="N", help="stop after N lines (with --plain)")
    snapshot = commands.add_parser("snapshot", parents=[common], help="collect once, print, exit with the level")
    snapshot.add_argument("--json", action="store_true", help="print the schema-1 JSON document")
    snapshot.add_argument(
        "--sample",
        type=_positive_float,
        default=1.0,
        metavar="SECONDS",
        help="seconds between the two samples CPU figures are measured over (default 1)",
    )
    commands.add_parser("locate", parents=[common], help="print the config, data, state and log paths in use")
    return parser


def load(args: argparse.Namespace, paths: Paths) -> Settings:
    """Settings from the config file with the command line laid over them."""
    explicit = getattr(args, "config", None)
    settings = load_settings(Path(explicit) if explicit else paths.config_file, required=explicit is not None)
    return with_overrides(
        settings,
        read_only=getattr(args, "read_only", None),
        docker_host=getattr(args, "docker_host", None),
        ledger=getattr(args, "ledger", None),
        interval=getattr(args, "interval", None),
        theme=getattr(args, "theme", None),
        autoheal=getattr(args, "autoheal", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pixel-tui` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    paths = default_paths()
    try:
        settings = load(args, paths)
    except ConfigError as error:
        print(f"pixel-tui: config error: {error}", file=sys.stderr)
        return EXIT_UNKNOWN
    command = args.command or "console"
    try:
        if command == "locate":
            return locate(paths, settings)
        if command == "snapshot":
            return snapshot(settings, as_json=args.json, sample_s=args.sample)
        if command == "watch" and args.plain:
            return watch_plain(settings, count=args.count)
        read_only = settings.read_only or command == "watch"
        return console(settings, paths, read_only=read_only)
    except KeyboardInterrupt:
        return 130  # Ctrl+C: the shell's convention, and no traceback
    except BrokenPipeError:
        # `pixel-tui snapshot --json | head`: the reader left; say nothing more on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _collector(settings: Settings):  # noqa: ANN202 - imported lazily: `locate` needs no docker SDK
    from pixel_tui.collect import Collector

    return Collector(settings)


def locate(paths: Paths, settings: Settings) -> int:
    """Print the paths in use, one `name: path` per line."""
    config = settings.source or str(paths.config_file)
    print(f"config: {config}{'' if Path(config).exists() else '  (not present: defaults in use)'}")
    print(f"themes: {paths.themes_dir}")
    print(f"data: {paths.data_dir}")
    print(f"history: {paths.history_db}")
    print(f"state: {paths.state_dir}")
    print(f"audit log: {paths.audit_log}")
    print(f"log: {paths.log_dir}")
    return 0


def snapshot(settings: Settings, *, as_json: bool, sample_s: float) -> int:
    """Two samples `sample_s` apart (so CPU figures are real), print the second, exit with its level."""
    collector = _collector(settings)
    try:
        collector.collect()
        time.sleep(sample_s)
        taken = collector.collect()
    finally:
        collector.close()
    print(json.dumps(to_json(taken), indent=2) if as_json else render_table(taken))
    return exit_code(taken)


def watch_plain(settings: Settings, *, count: int | None) -> int:
    """One status line per cycle on stdout until interrupted or `count` lines were printed."""
    collector = _collector(settings)
    collector.collect()  # primes the CPU counters: the first line has real figures

    def emit(taken: Snapshot) -> None:
        print(status_line(taken), flush=True)

    async def loop() -> None:
        await asyncio.sleep(min(settings.interval, 1.0))
        await collector.run(emit, settings.interval, count=count)

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        asyncio.run(loop())
    except KeyboardInterrupt:
        pass
    finally:
        collector.close()
    return 0


def _interrupt(*_: object) -> None:
    """SIGTERM (systemd, timeout) ends a plain watch as quietly as Ctrl+C."""
    raise KeyboardInterrupt


def console(settings: Settings, paths: Paths, *, read_only: bool) -> int:
    """Run the Textual console on the real collector."""
    try:
        from pixel_tui.ui.app import run_console
    except ImportError:  # the console has not landed in this build
        return watch_plain(settings, count=None)
    collector = _collector(settings)
    try:
        return run_console(settings=settings, source=collector, paths=paths, read_only=read_only)
    finally:
        collector.close()
