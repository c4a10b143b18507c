"""What each `pixel-tui` command does, once the command line is parsed: the console, watch, snapshot,
act, heal, fleet and locate (history's are in pixel_tui.history.commands). `pixel_tui.cli` parses and
dispatches; this module runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pixel_tui.headless import EXIT_UNKNOWN, exit_code, render_table, status_line, worst_exit
from pixel_tui.model import Event, Snapshot, iso
from pixel_tui.paths import Paths
from pixel_tui.pipeline import Control, Pipeline, Step
from pixel_tui.safe import printable
from pixel_tui.schema import dumps, to_json
from pixel_tui.settings import AutohealSettings, Settings
from pixel_tui.source import SnapshotSource
from pixel_tui.threads import in_daemon_thread, sleep_interruptibly

if TYPE_CHECKING:
    from pixel_tui.collect import Collector
    from pixel_tui.remediate.autoheal import Autoheal
    from pixel_tui.remediate.executor import Executor
    from pixel_tui.remediate.model import Outcome, Plan


DEFERRED_INSPECTS = 250
"""How many held-back inspects each of the console's collections reads (1 000 containers: whole in 3 more)."""


def _collector(settings: Settings, defer_batch: int | None = None) -> Collector:
    from pixel_tui.collect import Collector  # imported lazily: `locate` needs no docker SDK

    return Collector(settings, defer_batch=defer_batch)


def locate(paths: Paths, settings: Settings) -> int:
    """Print the paths in use, one `name: path` per line; a path another user could have set says so, and
    whether that refuses (as root) or warns (see pixel_tui.trust)."""
    from pixel_tui import trust
    from pixel_tui.engine import contexts

    config = Path(settings.source or paths.config_file)
    absent = "" if config.exists() else "  (not present: defaults in use)"
    problems = {
        verdict.name: verdict.problem
        for verdict in trust.verdicts(trust.named_paths(paths, config))
        if verdict.problem is not None
    }
    word = "refused as root" if trust.enforcing() else "untrusted"
    for name, path in (
        ("config", f"{config}{absent}"),
        ("themes", paths.themes_dir),
        ("data", paths.data_dir),
        ("history", paths.history_db),
        ("state", paths.state_dir),
        ("audit log", paths.audit_log),
        ("log", paths.log_dir),
    ):
        problem = problems.get(name)
        verdict = f"  ({word}: {problem})" if problem is not None else ""
        print(f"{name}: {printable(str(path))}{verdict}")
    endpoint = contexts.resolve(settings.docker_host, settings.context)
    print(f"engine: {printable(endpoint.describe())}")
    if endpoint.error is not None:
        print(f"engine error: {printable(endpoint.error)}")
    sys.stdout.flush()
    return 0


def snapshot(settings: Settings, *, as_json: bool, sample_s: float) -> int:
    """Two samples `sample_s` apart (so CPU figures are real), print the second, exit with its level."""
    taken = measured_snapshot(settings, sample_s)
    print(dumps(to_json(taken)) if as_json else render_table(taken))
    sys.stdout.flush()  # a write error (a full disk) surfaces here, inside main's handler
    return exit_code(taken)


def watch_plain(settings: Settings, paths: Paths, *, count: int | None) -> int:
    """One status line per collection on stdout until interrupted or `count` lines; the cycles go to history."""
    from pixel_tui.history.recorder import HistoryRecorder
    from pixel_tui.notify.observer import observe

    collector = _collector(settings)
    recorder = HistoryRecorder(paths.history_db, settings.history)
    notices = observe(settings, headless=True)  # of levels only: watch changes nothing
    collector.collect()  # primes the CPU counters: the first line has real figures
    for notice in settings.notices:  # said once, on stderr
        print(f"pixel-tui: {printable(notice)}", file=sys.stderr, flush=True)
    told: str | None = None
    printed: list[int] = []

    def emit(step: Step, forced: bool) -> None:
        nonlocal told
        print(status_line(step.snapshot), flush=True)
        printed.append(exit_code(step.snapshot))
        if step.history != told:  # said once when it starts or stops, on stderr: stdout stays one line each
            told = step.history
            print(f"pixel-tui: {printable(told or 'history works again')}", file=sys.stderr, flush=True)

    async def loop() -> None:
        await asyncio.sleep(min(settings.interval, 1.0))
        await Pipeline(notices.watch(collector), history=recorder).run(emit, interval=settings.interval, count=count)

    try:
        _run_until_signalled(loop)
    finally:
        notices.close(settings.notify.timeout_s)
        collector.close()
        recorder.close()
    # A check run for N lines says how they went; a service stopped by a signal ends well.
    return worst_exit(printed) if count is not None else 0


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
    from pixel_tui.prefetch import Prefetched

    # The first collection starts before Textual is imported: at 1 000 containers it waits half a second
    # for dockerd's inspects, and that wait now overlaps the console's start.
    # And it inspects only what cannot wait (workers, stopped containers) when there are many: the others'
    # rows show their details as unknown for a few collections (collect/backlog.py).
    collector = Prefetched(_collector(settings, defer_batch=DEFERRED_INSPECTS))
    try:
        from pixel_tui.history.recorder import HistoryRecorder
        from pixel_tui.notify.observer import observe
        from pixel_tui.remediate.real import real_executor
        from pixel_tui.rules.command import book_for, stored_cycles
        from pixel_tui.rules.learning import LearningAutoheal
        from pixel_tui.ui.app import run_console
        from pixel_tui.wiring import wire_console

        executor = real_executor(settings, paths)
        recorder = HistoryRecorder(paths.history_db, settings.history)
        notices = observe(settings, headless=False)  # a failed delivery is an event of the events pane
        notices.listen(executor)
        try:
            config = Path(settings.source) if settings.source else paths.config_file
            rules = book_for(paths, settings, config)  # the rules screen's book: rules.toml beside the config
            # Autoheal that mines proposals after a person's actions and acts on a rule promoted on the rules
            # screen from the next collection (rules.learning); none when read-only.
            autoheal = None if settings.read_only else LearningAutoheal(
                executor, settings, rules, lambda: stored_cycles(paths, settings), config=config,
                on_demote=rules.shadow)  # fmt: skip
            context = wire_console(settings, notices.watch(collector), paths=paths, executor=executor,
                                   history=recorder, rules=rules, autoheal=autoheal)  # fmt: skip
            return run_console(context)
        finally:
            notices.close(settings.notify.timeout_s)
            recorder.close()
            executor.backends.engine.close()  # type: ignore[union-attr]
    finally:
        collector.close()


def measured_snapshot(settings: Settings, sample_s: float) -> Snapshot:
    """One snapshot whose CPU figures are measured, from a collector of its own (`snapshot`, `--prom-file`)."""
    collector = _collector(settings)
    try:
        return _two_samples(collector, sample_s)
    finally:
        collector.close()


def _two_samples(collector: Collector, sample_s: float = 1.0) -> Snapshot:
    """A snapshot whose CPU figures are measured (the second of two, `sample_s` apart)."""
    collector.collect()
    sleep_interruptibly(sample_s)
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
    from pixel_tui.notify.observer import delivery_bound, observe
    from pixel_tui.remediate import commands
    from pixel_tui.remediate.autoheal import Autoheal
    from pixel_tui.remediate.real import real_executor
    from pixel_tui.rules.command import book_for

    if args.every is not None:  # its period is the interval: the engine's requests time out within it
        settings = replace(settings, interval=args.every)
    collector = _collector(settings)
    executor = real_executor(settings, paths)
    policy = replace(settings.autoheal, enabled=True)
    notices = observe(settings, headless=True)
    notices.listen(executor)
    # A rule demoted (not recovered, failed) stays in shadow across runs: the book writes it into rules.toml.
    book = book_for(paths, settings, Path(settings.source) if settings.source else paths.config_file)
    try:
        if args.every is None:  # once (cron): what it did is told, not the level of one snapshot
            taken = _two_samples(collector)
            autoheal = Autoheal(executor, policy, on_demote=book.shadow)
            tell_rule_errors(autoheal)
            return commands.heal_once(executor, autoheal, taken, dry_run=args.dry_run, as_json=args.json,
                                      stdout=sys.stdout)  # fmt: skip
        return heal_every(notices.watch(collector), executor, policy, seconds=args.every, as_json=args.json,
                          dry_run=args.dry_run, on_demote=book.shadow)  # fmt: skip
    finally:
        notices.close(delivery_bound(settings.notify))  # what it did is sent before it exits, within a bound
        collector.close()
        executor.backends.engine.close()  # type: ignore[union-attr]


def heal_every(
    source: SnapshotSource,
    executor: Executor,
    policy: AutohealSettings,
    *,
    seconds: float,
    as_json: bool,
    dry_run: bool,
    on_demote: Callable[[str], object] | None = None,
) -> int:
    """The autoheal loop of `heal --every`: the pipeline with the policy, one line per action, until SIGTERM or
    SIGINT; then the actions in flight finish within the shutdown bound or are recorded as interrupted
    (pixel_tui/remediate/shutdown.py). Exit 0, or the worst of 1 refused, 2 failed, 4 interrupted."""
    from pixel_tui.remediate.autoheal import Autoheal
    from pixel_tui.remediate.model import outcome_event

    autoheal = Autoheal(executor, policy, on_demote=on_demote)
    tell_rule_errors(autoheal)
    worst = 0
    printing = threading.Lock()
    ranks = {"ok": 0, "refused": 1, "failed": 2, "interrupted": 4}

    def line(event: Event) -> None:
        with printing:
            if as_json:
                print(dumps({"time": iso(event.at), "kind": event.kind, "target": event.target,
                             "message": event.message}, indent=None), flush=True)  # fmt: skip
            else:
                print(f"{event.at.strftime('%Y-%m-%dT%H:%M:%SZ')} {printable(event.message)}", flush=True)

    def told(plan: Plan, outcome: Outcome, actor: str) -> None:
        # Each outcome is printed the moment it is recorded, from whichever thread records it: none waits for a
        # collection that a stop could abandon (a step's events drained, then the step cancelled, lost a line).
        nonlocal worst
        worst = max(worst, ranks.get(outcome.outcome, 1))
        line(outcome_event(outcome, actor=actor))

    def report(step: Step, forced: bool) -> None:
        if dry_run:
            for plan in autoheal.plans(step.snapshot):
                print(printable(f"would {plan.describe()[0]}"), flush=True)
            return
        tell(step.snapshot.events)

    def tell(events: Iterable[Event]) -> None:
        nonlocal worst
        for event in events:
            # Outcomes (a give-up is a refusal) were told as they were recorded. The engine going and coming back
            # is told too: silence in an outage would read as "nothing to heal"; it is not an action's outcome.
            # What the rules say of themselves (a short-circuit, a verdict, a demotion) is told, no outcome.
            rules = event.kind.startswith(("autoheal-", "rule-")) and event.kind not in (
                "autoheal-gave-up",
                "rule-error",
            )
            if not event.kind.startswith(("abort-", "engine-")) and not rules:
                continue
            if not event.kind.startswith("engine-") and not rules:
                worst = max(worst, 1)
            line(event)

    executor.listen(told)
    control = Control()
    pipeline = Pipeline(source, healer=None if dry_run else autoheal)
    stop = asyncio.run(_loop_until_stopped(pipeline, control, report, seconds, executor, autoheal))
    if stop is not None:
        executor.interrupt(stop)  # each action still running is told as it is recorded interrupted
    tell(autoheal.finished())
    autoheal.close()
    sys.stdout.flush()
    return worst


def tell_rule_errors(autoheal: Autoheal) -> None:
    """The rules that cannot run, each with its file, line and reason, on stderr at start; the others run."""
    for error in autoheal.rule_errors:
        sys.stderr.write(f"pixel-tui: {printable(str(error))}\n")
    sys.stderr.flush()


async def _loop_until_stopped(
    pipeline: Pipeline,
    control: Control,
    report: Callable[[Step, bool], None],
    seconds: float,
    executor: Executor,
    autoheal: Autoheal,
) -> str | None:
    """Run the pipeline until SIGTERM or SIGINT; then wait, within the shutdown bound, for the step under way to be
    delivered and for the actions in flight to finish. The signal's name (None if the loop ended by itself)."""
    from pixel_tui.remediate.attempt import shutdown_wait_s

    loop = asyncio.get_running_loop()
    stopped: list[tuple[str, float]] = []
    signalled, again = asyncio.Event(), asyncio.Event()

    def on_signal(name: str) -> None:
        if stopped:
            again.set()  # a second signal: stop waiting
            return
        stopped.append((name, time.monotonic()))
        executor.stop(name)  # no new action begins
        autoheal.close()
        control.stop()  # the loop ends once the step under way is delivered: nothing it drained is lost
        signalled.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, on_signal, number.name)
    running = asyncio.ensure_future(pipeline.run(report, interval=seconds, control=control))
    first_signal, second_signal = asyncio.ensure_future(signalled.wait()), asyncio.ensure_future(again.wait())
    try:
        await asyncio.wait([running, first_signal], return_when=asyncio.FIRST_COMPLETED)
        if not stopped:
            running.result()  # the loop ended by itself: raise its error, if any
            return None
        name, since = stopped[0]
        deadline = since + shutdown_wait_s(executor.settings.remediate)
        await asyncio.wait([running, second_signal], timeout=max(deadline - time.monotonic(), 0),
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        running.cancel()  # a collection that hangs past the bound (a frozen engine) is abandoned
        flying = executor.attempts.in_flight
        if flying and not again.is_set():
            print(f"pixel-tui: {name}: finishing {flying} action{'s' if flying != 1 else ''}, at most "
                  f"{deadline - since:g} s (send it again to stop at once)", file=sys.stderr, flush=True)  # fmt: skip
            attempts = executor.attempts
            drained = asyncio.ensure_future(in_daemon_thread(lambda: attempts.drain(deadline - time.monotonic())))
            await asyncio.wait([drained, second_signal], return_when=asyncio.FIRST_COMPLETED)
    finally:
        first_signal.cancel()
        second_signal.cancel()
    return name


def fleet(settings: Settings, args: argparse.Namespace) -> int:
    """`pixel-tui fleet`: the fleet view (a terminal), or one reading as JSON with `--json`."""
    from pixel_tui.fleet.command import FleetSetupError, client_for, fleet_json

    overrides = {"prometheus": args.prometheus, "job": args.job}
    wanted = replace(settings.fleet, **{key: value for key, value in overrides.items() if value})
    if args.json:
        return fleet_json(wanted)
    try:
        client = client_for(wanted)
    except FleetSetupError as error:
        print(f"pixel-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("pixel-tui: the fleet view needs a terminal; `pixel-tui fleet --json` prints one reading",
              file=sys.stderr)  # fmt: skip
        return EXIT_UNKNOWN
    from pixel_tui.ui.fleet import run_fleet

    return run_fleet(client, wanted, settings.ui.theme)
