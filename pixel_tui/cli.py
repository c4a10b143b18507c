"""The `pixel-tui` command line: options, subcommands, usage errors, and the dispatch to pixel_tui.commands."""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pixel_tui import __version__, trust
from pixel_tui import commands as run
from pixel_tui.headless import EXIT_UNKNOWN
from pixel_tui.history import commands as history_commands
from pixel_tui.paths import Paths, default_paths
from pixel_tui.rules.command import COMMANDS as RULES_COMMANDS
from pixel_tui.rules.command import LISTS as RULES_LISTS
from pixel_tui.rules.command import NEEDS_ID as RULES_NEEDS_ID
from pixel_tui.safe import printable
from pixel_tui.settings import ConfigError, Settings, as_read_only, load_settings, with_overrides
from pixel_tui.threads import cap_malloc_arenas


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 3 (unknown), not argparse's 2, which means critical to a monitoring system."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNKNOWN, f"{self.prog}: error: {message}\n")


def _seconds_between(low: float, high: float, unit: str = "seconds") -> Callable[[str], float]:
    """An argparse type: a number (of seconds, or of `unit`) from `low` to `high`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {printable(text)!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} {unit}, got {printable(text)!r}")
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


def _whole_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {printable(text)!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {printable(text)!r}")
        return value

    return parse


FIRST_CYCLE_RANGE = (1, 1_000_000_000)
"""The number an audit log's first imported cycle may get."""
CORES_RANGE = (1, 4096)
"""The core counts an audit log's load may be divided by (Linux builds for up to 4096 CPUs by default)."""


def _common() -> _Parser:
    """Options valid before and after the subcommand; SUPPRESS keeps one from erasing the other."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--read-only", action="store_true", default=argparse.SUPPRESS, help="watch only: nothing can be changed"
    )
    common.add_argument(
        "--docker-host",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="engine URL (default: as the docker CLI: DOCKER_HOST, DOCKER_CONTEXT, its current context, the socket)",
    )
    common.add_argument(
        "--context",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="a docker context (`docker context ls`) to reach the engine through",
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
    snapshot.add_argument(
        "--prom-file",
        metavar="PATH",
        help="write the Prometheus metrics to PATH (node_exporter's textfile collector); prints only with --json",
    )
    export = commands.add_parser(
        "export", parents=[common], help="serve Prometheus metrics of what pixel-tui judges, collected per scrape"
    )
    export.add_argument(
        "--listen", metavar="HOST:PORT", default="127.0.0.1:9464", help="address to serve /metrics on (loopback)"
    )
    export.add_argument("--allow-remote", action="store_true", help="allow a --listen address that is not loopback")
    export.add_argument("--tls-cert", metavar="PATH", help="serve HTTPS with this certificate (PEM)")
    export.add_argument("--tls-key", metavar="PATH", help="the certificate's private key (PEM)")
    fleet = commands.add_parser(
        "fleet", parents=[common], help="many hosts: one row each, read from Prometheus (their `pixel-tui export`)"
    )
    fleet.add_argument("--prometheus", metavar="URL", help="Prometheus' base URL (default: [fleet] prometheus)")
    fleet.add_argument("--job", metavar="NAME", help="the scrape job of the exporters (default: pixel-tui)")
    fleet.add_argument("--json", action="store_true", help="print one reading as JSON and exit (no TUI)")
    commands.add_parser("locate", parents=[common], help="print the config, data, state and log paths in use")
    demo = commands.add_parser("demo", parents=[common], help="the console on a simulated host in the swap crisis")
    demo.add_argument(
        "--speed", type=_seconds_between(0.1, 100.0, "times"), default=1.0, metavar="X", help="X times faster"
    )
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
    imports.add_argument(
        "--first-cycle",
        type=_whole_between(*FIRST_CYCLE_RANGE),
        metavar="N",
        help="audit log: number the cycles of a first import from N (default 1); later imports continue",
    )
    imports.add_argument(
        "--cores",
        type=_whole_between(*CORES_RANGE),
        metavar="N",
        help="audit log: the log's host has N cores; load per core = load1 / N (default: this host's)",
    )
    rules = commands.add_parser("rules", parents=[common], help="list, show, test, propose and promote autoheal rules")
    rules.add_argument("rules_command", nargs="?", default="list", choices=RULES_COMMANDS, metavar="COMMAND",
                       help=f"one of {', '.join(RULES_COMMANDS)} (default list)")  # fmt: skip
    rules.add_argument(
        "rule_id", nargs="?", metavar="ID", help="the rule (show, test, promote, shadow, reject, disable)"
    )
    rules.add_argument("--json", action="store_true", help="JSON (list, show, test, propose)")
    return parser


def config_path(args: argparse.Namespace, paths: Paths) -> Path:
    """The config file in use: `--config`, else the default one."""
    explicit = getattr(args, "config", None)
    return Path(explicit) if explicit else paths.config_file


def load(args: argparse.Namespace, paths: Paths, *, strict: bool = False) -> Settings:
    """Settings from the config file with the command line laid over them.

    `strict`: the file read must be the one its path leads to through trusted steps (root's commands)."""
    explicit = getattr(args, "config", None)
    path = config_path(args, paths)
    verify = (lambda info: trust.check_read(path, info)) if strict else None
    settings = load_settings(path, required=explicit is not None, verify=verify)
    return with_overrides(
        settings,
        read_only=getattr(args, "read_only", None),
        docker_host=getattr(args, "docker_host", None),
        context=getattr(args, "context", None),
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
        return "--json, --csv and --last list the history; `history import` takes FILE, --first-cycle and --cores"
    if command == "rules":
        needs = args.rules_command in RULES_NEEDS_ID
        if needs != bool(args.rule_id):
            return f"rules {args.rules_command} {'needs' if needs else 'takes no'} ID"
        if args.json and args.rules_command not in RULES_LISTS:
            return f"--json is for rules {', '.join(RULES_LISTS)}"
    if command == "export" and bool(args.tls_cert) != bool(args.tls_key):
        return "--tls-cert and --tls-key go together"
    if getattr(args, "autoheal", False) and (
        command in ("watch", "snapshot", "locate", "act", "audit", "history", "export", "fleet", "rules") or plain
    ):
        return f"--autoheal cannot be used with {command}: it only watches"
    if getattr(args, "docker_host", None) and getattr(args, "context", None):
        return "--docker-host and --context each name the engine: give one (as the docker CLI's -H and --context)"
    if getattr(args, "autoheal", False) and getattr(args, "read_only", False):
        return "--autoheal and --read-only contradict each other"
    return None


def _trusted(named: list[tuple[str, Path, bool]]) -> bool:
    """Check the paths pixel-tui will use: as root, False after saying what is refused; else warn and go on."""
    refuse = trust.enforcing()
    problems = {str(verdict.problem): verdict.problem for verdict in trust.verdicts(named) if verdict.problem}
    for problem in problems.values():  # one line per step refused, however many paths pass through it
        if refuse:
            print(f"pixel-tui: refused: {problem}", file=sys.stderr)
        else:
            print(f"pixel-tui: warning: {problem} (another user could change what pixel-tui does)", file=sys.stderr)
    if refuse and problems:
        print(
            "pixel-tui: running as root, pixel-tui uses no config, data or state that another user could have "
            'written (see `pixel-tui locate` and the README\'s "Running as root")',
            file=sys.stderr,
        )
        return False
    return True


def _no_terminal() -> str | None:
    """Why the console cannot run here (stdin or stdout is not a terminal), or None."""
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout)):
        if stream is None or not stream.isatty():
            return name
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pixel-tui` console script; returns the exit code."""
    cap_malloc_arenas()  # before any thread: the console and heal run for hours with short-lived threads
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _usage_problem(args)
    if problem is not None:
        parser.error(problem)
    paths = default_paths()
    command = args.command or "console"
    if command != "locate" and not _trusted(trust.named_paths(paths, config_path(args, paths))):
        return EXIT_UNKNOWN
    try:
        settings = load(args, paths, strict=command != "locate" and trust.enforcing())
    except ConfigError as error:
        print(f"pixel-tui: config error: {printable(str(error))}", file=sys.stderr)
        return EXIT_UNKNOWN
    except trust.Untrusted as error:
        print(f"pixel-tui: refused: {error}", file=sys.stderr)
        return EXIT_UNKNOWN
    if command == "watch":
        settings = as_read_only(settings)  # one fact: watch is read-only, decided here
    try:
        if command == "locate":
            return run.locate(paths, settings)
        if command == "history" and args.history_command == "import":
            return history_commands.history_import(
                paths, settings, args.file, first_cycle=args.first_cycle, cores=args.cores
            )
        if command == "history":
            return history_commands.history(paths, settings, as_json=args.json, as_csv=args.csv, last=args.last)
        if command == "snapshot" and args.prom_file:
            from pixel_tui.export.serve import prom_file

            return prom_file(settings, paths, args.prom_file, sample_s=args.sample, as_json=args.json)
        if command == "snapshot":
            return run.snapshot(settings, as_json=args.json, sample_s=args.sample)
        if command == "fleet":
            return run.fleet(settings, args)
        if command == "export":
            from pixel_tui.export.serve import run_export

            return run_export(settings, paths, listen=args.listen, allow_remote=args.allow_remote,
                              tls_cert=args.tls_cert, tls_key=args.tls_key)  # fmt: skip
        if command == "watch" and args.plain:
            return run.watch_plain(settings, paths, count=args.count)
        if command == "audit":
            from pixel_tui.remediate.audit import AuditLog, print_audit

            return print_audit(AuditLog(paths.audit_log), last=args.last, as_json=args.json)
        if command == "rules":
            from pixel_tui.rules.command import run_rules

            return run_rules(paths, settings, config_path(args, paths), args.rules_command, args.rule_id,
                             as_json=args.json)  # fmt: skip
        if command == "act":
            return run.act(settings, paths, args)
        if command == "heal":
            return run.heal(settings, paths, args)
        missing = _no_terminal()
        if missing is None and command == "demo":
            from pixel_tui.demo.run import run_demo

            return run_demo(settings, paths, speed=args.speed)
        if missing is not None:
            print(
                f"pixel-tui: the console needs a terminal, and {missing} is not one.\n"
                "For scripts and pipes use `pixel-tui watch --plain` (one status line per collection) "
                "or `pixel-tui snapshot [--json]` (one reading).",
                file=sys.stderr,
            )
            return EXIT_UNKNOWN
        return run.console(settings, paths)
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
