"""What each `pixel-tui` command does, once the command line is parsed: the console, watch, snapshot,
history, act, heal and locate. `pixel_tui.cli` parses and dispatches; this module runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pixel_tui.headless import EXIT_UNKNOWN, exit_code, render_table, status_line
from pixel_tui.model import Event, Snapshot, iso
from pixel_tui.paths import Paths
from pixel_tui.pipeline import Pipeline, Step
from pixel_tui.safe import printable
from pixel_tui.schema import dumps, to_json
from pixel_tui.settings import AutohealSettings, Settings

if TYPE_CHECKING:
    from pixel_tui.collect import Collector
    from pixel_tui.remediate.executor import Executor


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


def history_import(
    paths: Paths, settings: Settings, file: str, *, first_cycle: int | None = None, cores: int | None = None
) -> int:
    """Import the cycles of `file` into the history; 3 when the file cannot be read or the store written.

    `first_cycle` and `cores` are `--first-cycle` and `--cores` (None: not given), for an audit log.
    """
    from pixel_tui.files import UnreadableFile
    from pixel_tui.history.importer import import_file
    from pixel_tui.history.output import render_import
    from pixel_tui.history.store import HistoryStore, HistoryUnavailable

    store = HistoryStore.for_settings(paths.history_db, settings.history)
    try:
        report = import_file(file, store, settings.thresholds, first_cycle=first_cycle, cores=cores)
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


def watch_plain(settings: Settings, paths: Paths, *, count: int | None) -> int:
    """One status line per collection on stdout until interrupted or `count` lines; the cycles go to history."""
    from pixel_tui.history.recorder import HistoryRecorder

    collector = _collector(settings)
    recorder = HistoryRecorder(paths.history_db, settings.history)
    collector.collect()  # primes the CPU counters: the first line has real figures
    told: str | None = None

    def emit(step: Step, forced: bool) -> None:
        nonlocal told
        print(status_line(step.snapshot), flush=True)
        if step.history != told:  # said once when it starts or stops, on stderr: stdout stays one line each
            told = step.history
            print(f"pixel-tui: {printable(told or 'history works again')}", file=sys.stderr, flush=True)

    async def loop() -> None:
        await asyncio.sleep(min(settings.interval, 1.0))
        await Pipeline(collector, history=recorder).run(emit, interval=settings.interval, count=count)

    try:
        _run_until_signalled(loop)
    finally:
        collector.close()
        recorder.close()
    return 0


def _run_until_signalled(main: Callable[[], Awaitable[None]]) -> None:
    """Run `main` until it ends, Ctrl+C or SIGTERM (systemd, timeout), the signals ending it as quietly as its end.

    Either signal cancels `main` where it waits (asyncio.run does so for SIGINT). A SIGTERM handler that raised
    KeyboardInterrupt instead could land between a coroutine's creation and its await, and Python then said on
    stderr that the coroutine was never awaited.
    """

    async def cancelled_by_sigterm() -> None:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await main()

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(cancelled_by_sigterm())


def console(settings: Settings, paths: Paths) -> int:
    """Run the Textual console on the real collector and executor."""
    from pixel_tui.history.recorder import HistoryRecorder
    from pixel_tui.remediate.real import real_executor
    from pixel_tui.ui.app import run_console

    collector = _collector(settings)
    executor = real_executor(settings, paths)
    recorder = HistoryRecorder(paths.history_db, settings.history)
    try:
        return run_console(settings=settings, source=collector, paths=paths, executor=executor, history=recorder)
    finally:
        collector.close()
        recorder.close()
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

    if args.every is not None:  # its period is the interval: the engine's requests time out within it
        settings = replace(settings, interval=args.every)
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
        if dry_run:
            for plan in autoheal.plans(step.snapshot):
                print(printable(f"would {plan.describe()[0]}"), flush=True)
            return
        tell(step.snapshot.events)

    def tell(events: Iterable[Event]) -> None:
        nonlocal worst
        for event in events:
            # The engine going and coming back is told too: silence in an outage would read as "nothing to heal".
            if not event.kind.startswith(("action-", "autoheal-", "abort-", "engine-")):
                continue
            if not event.kind.startswith("engine-"):  # an outage is told, and is not an action's outcome
                worst = max(worst, 2 if event.kind == "action-failed" else 1 if event.kind != "action-ok" else 0)
            if as_json:
                print(dumps({"time": iso(event.at), "kind": event.kind, "target": event.target,
                             "message": event.message}, indent=None), flush=True)  # fmt: skip
            else:
                print(f"{event.at.strftime('%Y-%m-%dT%H:%M:%SZ')} {printable(event.message)}", flush=True)

    pipeline = Pipeline(collector, healer=None if dry_run else autoheal)
    try:
        _run_until_signalled(lambda: pipeline.run(report, interval=seconds))
    finally:
        # Actions run beside the loop: the ones in flight finish (each bounded by the stop grace) and are told.
        autoheal.wait(timeout=executor.settings.remediate.stop_grace_s + 30)
        tell(autoheal.finished())
        autoheal.close(wait=False)
    return worst
