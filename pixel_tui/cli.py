"""The `pixel-tui` command line: the console, plain watch, one-shot snapshot, history and locate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pixel_tui import __version__
from pixel_tui.headless import EXIT_UNKNOWN, exit_code, render_table, status_line
from pixel_tui.model import Snapshot, iso
from pixel_tui.paths import Paths, default_paths
from pixel_tui.pipeline import Pipeline, Step
from pixel_tui.safe import printable
from pixel_tui.schema import dumps, to_json
from pixel_tui.settings import AutohealSettings, ConfigError, Settings, load_settings, with_overrides

if TYPE_CHECKING:
    from pixel_tui.collect import Collector
    from pixel_tui.remediate.executor import Executor


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 3 (unknown), not argparse's 2, which means critical to a monitoring system."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNKNOWN, f"{self.prog}: error: {message}\n")


def _seconds_between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number of seconds from `low` to `high`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {printable(text)!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} seconds, got {printable(text)!r}")
        return value

    return parse


INTERVAL_RANGE = (0.1, 3600.0)
"""Seconds between collections: faster is noise and load, slower is not a console."""
SAMPLE_RANGE = (0.1, 60.0)
"""Seconds between the two samples of `snapshot`."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {printable(text)!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {printable(text)!r}")
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
        type=_seconds_between(*INTERVAL_RANGE),
        default=argparse.SUPPRESS,
        help="seconds between collections (0.1 to 3600)",
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
        type=_seconds_between(*SAMPLE_RANGE),
        default=1.0,
        metavar="SECONDS",
        help="seconds between the two samples CPU figures are measured over (0.1 to 60, default 1)",
    )
    commands.add_parser("locate", parents=[common], help="print the config, data, state and log paths in use")
    act = commands.add_parser("act", parents=[common], help="run one remediation action on a container or worker")
    act.add_argument("action", metavar="ACTION", help="a changing action id, e.g. worker.kill, workers.reap")
    act.add_argument("target", metavar="TARGET", nargs="?", help="container or worker: name, id or id prefix")
    act.add_argument("--yes", action="store_true", help="do not ask (needed when stdin is not a terminal)")
    act.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    heal = commands.add_parser("heal", parents=[common], help="apply the autoheal policy once, or every S seconds")
    heal.add_argument("--dry-run", action="store_true", help="print what it would do, change nothing")
    heal.add_argument("--json", action="store_true", help="JSON: a list (once) or one object per line (--every)")
    heal.add_argument("--every", type=_seconds_between(1.0, 86400.0), metavar="S", help="run every S seconds")
    audit = commands.add_parser("audit", parents=[common], help="print the audit log of remediation attempts")
    audit.add_argument("--last", type=_positive_int, metavar="N", help="only the last N records")
    audit.add_argument("--json", action="store_true", help="a JSON list of the records")
    history = commands.add_parser(
        "history", parents=[common], help="print the cycle history; `history import FILE` adds cycles from a file"
    )
    form = history.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="a JSON list of cycle objects")
    form.add_argument("--csv", action="store_true", help="CSV with a header line")
    history.add_argument("--last", type=_positive_int, metavar="N", help="only the latest N cycles")
    history_commands = history.add_subparsers(dest="history_command", metavar="import", parser_class=_Parser)
    imports = history_commands.add_parser(
        "import",
        parents=[common],
        help="add the cycles of a JSON-lines file: plain cycle records or the orchestrator's audit log",
    )
    imports.add_argument("file", metavar="FILE", help="the file to import")
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


def _usage_problem(args: argparse.Namespace) -> str | None:
    """Options that make no sense together, as a usage error message, or None."""
    command = args.command or "console"
    plain = command == "watch" and args.plain
    if command == "watch" and args.count is not None and not args.plain:
        return "--count needs --plain (the console runs until you quit it)"
    if command == "history" and args.history_command == "import" and (args.json or args.csv or args.last):
        return "--json, --csv and --last list the history; `history import` takes only FILE"
    if getattr(args, "autoheal", False) and (
        command in ("watch", "snapshot", "locate", "act", "audit", "history") or plain
    ):
        return f"--autoheal cannot be used with {command}: it only watches"
    if getattr(args, "autoheal", False) and getattr(args, "read_only", False):
        return "--autoheal and --read-only contradict each other"
    return None


def _no_terminal() -> str | None:
    """Why the console cannot run here (stdin or stdout is not a terminal), or None."""
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout)):
        if stream is None or not stream.isatty():
            return name
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pixel-tui` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _usage_problem(args)
    if problem is not None:
        parser.error(problem)
    paths = default_paths()
    try:
        settings = load(args, paths)
    except ConfigError as error:
        print(f"pixel-tui: config error: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    command = args.command or "console"
    if command == "watch":
        settings = replace(settings, read_only=True)  # one fact: watch is read-only, decided here
    try:
        if command == "locate":
            return locate(paths, settings)
        if command == "history" and args.history_command == "import":
            return history_import(paths, settings, args.file)
        if command == "history":
            return history(paths, settings, as_json=args.json, as_csv=args.csv, last=args.last)
        if command == "snapshot":
            return snapshot(settings, as_json=args.json, sample_s=args.sample)
        if command == "watch" and args.plain:
            return watch_plain(settings, count=args.count)
        if command == "audit":
            from pixel_tui.remediate.audit import AuditLog, print_audit

            return print_audit(AuditLog(paths.audit_log), last=args.last, as_json=args.json)
        if command == "act":
            return act(settings, paths, args)
        if command == "heal":
            return heal(settings, paths, args)
        missing = _no_terminal()
        if missing is not None:
            print(
                f"pixel-tui: the console needs a terminal, and {missing} is not one.\n"
                "For scripts and pipes use `pixel-tui watch --plain` (one status line per collection) "
                "or `pixel-tui snapshot [--json]` (one reading).",
                file=sys.stderr,
            )
            return EXIT_UNKNOWN
        return console(settings, paths)
    except KeyboardInterrupt:
        return 130  # Ctrl+C: the shell's convention, and no traceback
    except BrokenPipeError:
        # `pixel-tui snapshot --json | head`: the reader left; say nothing more on the closed pipe.
        _silence_stdout()
        return 0
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG):
            raise
        # `> /dev/full`, a full disk: say so once on stderr, not with a traceback.
        _silence_stdout()
        print(f"pixel-tui: cannot write the output: {error.strerror or error}", file=sys.stderr)
        return EXIT_UNKNOWN


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush has nowhere to fail."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _collector(settings: Settings) -> Collector:  # imported lazily: `locate` needs no docker SDK
    from pixel_tui.collect import Collector

    return Collector(settings)


def locate(paths: Paths, settings: Settings) -> int:
    """Print the paths in use, one `name: path` per line."""
    config = settings.source or str(paths.config_file)
    absent = "" if Path(config).exists() else "  (not present: defaults in use)"
    for name, path in (
        ("config", f"{config}{absent}"),
        ("themes", paths.themes_dir),
        ("data", paths.data_dir),
        ("history", paths.history_db),
        ("state", paths.state_dir),
        ("audit log", paths.audit_log),
        ("log", paths.log_dir),
    ):
        print(f"{name}: {printable(str(path))}")
    sys.stdout.flush()
    return 0


def history(paths: Paths, settings: Settings, *, as_json: bool, as_csv: bool, last: int | None) -> int:
    """Print the cycle history, own and imported, in time order: a table, JSON or CSV."""
    from pixel_tui.history import output
    from pixel_tui.history.store import HistoryStore, HistoryUnavailable

    cycles = []
    try:
        present = paths.history_db.exists()
    except OSError:  # a directory it may not search: let the store say why
        present = True
    if present:  # listing never creates a store
        store = HistoryStore.for_settings(paths.history_db, settings.history, heal=False)
        try:
            cycles = store.recent(last)
        except HistoryUnavailable as error:
            print(f"pixel-tui: {printable(str(error))}", file=sys.stderr)
            return EXIT_UNKNOWN
        finally:
            store.close()
    if as_json:
        print(output.render_json(cycles))
    elif as_csv:
        print(output.render_csv(cycles))
    else:
        print(output.render_table(cycles, metric=settings.ui.history_metric))
    sys.stdout.flush()
    return 0


def history_import(paths: Paths, settings: Settings, file: str) -> int:
    """Import the cycles of `file` into the history; 3 when the file cannot be read or the store written."""
    from pixel_tui.files import UnreadableFile
    from pixel_tui.history.importer import import_file
    from pixel_tui.history.output import render_import
    from pixel_tui.history.store import HistoryStore, HistoryUnavailable

    store = HistoryStore.for_settings(paths.history_db, settings.history)
    try:
        report = import_file(file, store, settings.thresholds)
    except FileNotFoundError:
        print(f"pixel-tui: cannot import {printable(file)}: no such file", file=sys.stderr)
        return EXIT_UNKNOWN
    except UnreadableFile as error:
        print(f"pixel-tui: cannot import {printable(file)}: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    except HistoryUnavailable as error:
        print(f"pixel-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    finally:
        store.close()
    for notice in store.notices:
        print(f"pixel-tui: {printable(notice)}", file=sys.stderr)
    print(render_import(report))
    sys.stdout.flush()
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
    print(dumps(to_json(taken)) if as_json else render_table(taken))
    sys.stdout.flush()  # a write error (a full disk) surfaces here, inside main's handler
    return exit_code(taken)


def watch_plain(settings: Settings, *, count: int | None) -> int:
    """One status line per cycle on stdout until interrupted or `count` lines were printed."""
    collector = _collector(settings)
    collector.collect()  # primes the CPU counters: the first line has real figures

    def emit(step: Step, forced: bool) -> None:
        print(status_line(step.snapshot), flush=True)

    async def loop() -> None:
        await asyncio.sleep(min(settings.interval, 1.0))
        await Pipeline(collector).run(emit, interval=settings.interval, count=count)

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


def console(settings: Settings, paths: Paths) -> int:
    """Run the Textual console on the real collector and executor."""
    from pixel_tui.remediate.real import real_executor
    from pixel_tui.ui.app import run_console

    collector = _collector(settings)
    executor = real_executor(settings, paths)
    try:
        return run_console(settings=settings, source=collector, paths=paths, executor=executor)
    finally:
        collector.close()
        executor.backends.engine.close()  # type: ignore[union-attr]


def _two_samples(collector: Collector, sample_s: float = 1.0) -> Snapshot:
    """A snapshot whose CPU figures are measured (the second of two, `sample_s` apart)."""
    collector.collect()
    time.sleep(sample_s)
    return collector.collect()


def act(settings: Settings, paths: Paths, args: argparse.Namespace) -> int:
    """`pixel-tui act`: one catalogue action on a fresh snapshot, confirmed, validated, audited."""
    from pixel_tui.remediate import commands
    from pixel_tui.remediate.real import real_executor

    collector = _collector(settings)
    executor = real_executor(settings, paths)
    try:
        taken = collector.collect()
        return commands.act(executor, taken, args.action, args.target, assume_yes=args.yes, dry_run=args.dry_run)
    finally:
        collector.close()
        executor.backends.engine.close()  # type: ignore[union-attr]


def heal(settings: Settings, paths: Paths, args: argparse.Namespace) -> int:
    """`pixel-tui heal`: the autoheal policy once (cron), or every S seconds (a systemd unit)."""
    from pixel_tui.remediate import commands
    from pixel_tui.remediate.autoheal import Autoheal
    from pixel_tui.remediate.real import real_executor

    collector = _collector(settings)
    executor = real_executor(settings, paths)
    policy = replace(settings.autoheal, enabled=True)
    try:
        if args.every is None:
            taken = _two_samples(collector)
            autoheal = Autoheal(executor, policy)
            return commands.heal_once(executor, autoheal, taken, dry_run=args.dry_run, as_json=args.json,
                                      stdout=sys.stdout)  # fmt: skip
        return heal_every(collector, executor, policy, seconds=args.every, as_json=args.json, dry_run=args.dry_run)
    finally:
        collector.close()
        executor.backends.engine.close()  # type: ignore[union-attr]


def heal_every(
    collector: Collector, executor: Executor, policy: AutohealSettings, *, seconds: float, as_json: bool, dry_run: bool
) -> int:
    """The autoheal loop of `heal --every`: the pipeline with the policy, one line per action, until SIGTERM."""
    from pixel_tui.remediate.autoheal import Autoheal

    autoheal = Autoheal(executor, policy)
    worst = 0

    def report(step: Step, forced: bool) -> None:
        nonlocal worst
        if dry_run:
            for plan in autoheal.plans(step.snapshot):
                print(printable(f"would {plan.describe()[0]}"), flush=True)
            return
        for event in step.snapshot.events:
            if not event.kind.startswith(("action-", "autoheal-")):
                continue
            worst = max(worst, 2 if event.kind == "action-failed" else 1 if event.kind != "action-ok" else 0)
            if as_json:
                print(dumps({"time": iso(event.at), "kind": event.kind, "target": event.target,
                             "message": event.message}, indent=None), flush=True)  # fmt: skip
            else:
                print(f"{event.at.strftime('%Y-%m-%dT%H:%M:%SZ')} {printable(event.message)}", flush=True)

    pipeline = Pipeline(collector, healer=None if dry_run else autoheal)
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(pipeline.run(report, interval=seconds))
    return worst
