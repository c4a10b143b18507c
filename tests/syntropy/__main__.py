"""`python -m tests.syntropy`: the orchestrator model as a process of its own (from the repository root).

    python -m tests.syntropy --docker-host unix:///tmp/pxd-.../docker.sock --root DIR spawn --body 'sleep 5' --wait
    python -m tests.syntropy --docker-host ... --root DIR loop --interval 2 --spawn-body 'sleep 3'
    python -m tests.syntropy --docker-host ... --root DIR cleanup | check TASK_ID

Each command prints one JSON object per result on stdout. `loop` runs cycles (spawn if asked,
`checkWorkerStatus` of every running task, cleanup) until SIGTERM/SIGINT or `--cycles`; the worker
agents live in this process, so `spawn` without `--wait` returns while its worker may still be asking
for ledger writes: keep the process (`--wait`, or `loop`) for as long as its workers run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading
from pathlib import Path

from tests.syntropy.orchestrator import Syntropy, SyntropyConfig
from tests.syntropy.worker import WorkerBehaviour


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.syntropy", description=__doc__.splitlines()[0])
    parser.add_argument("--docker-host", required=True, help="the engine, e.g. PrivateEngine.url")
    parser.add_argument("--root", type=Path, required=True, help="PIXEL_ROOT: data/, logs/, audit/ go there")
    parser.add_argument("--project", default="pixel", help="the Compose project of the workers")
    parser.add_argument("--cooldown", type=float, default=60.0, help="seconds of spawn cooldown after a failure")
    parser.add_argument("--compose-delay", type=float, default=0.0, help="seconds `compose run` takes")
    parser.add_argument("--cleanup-pause", type=float, default=0.0, help="seconds between cleanup's read and write")
    sub = parser.add_subparsers(dest="command", required=True)
    spawn = sub.add_parser("spawn", help="one spawnWorker call")
    loop = sub.add_parser("loop", help="cycles until SIGTERM or --cycles")
    for p in (spawn, loop):
        p.add_argument("--timeout", type=int, default=2700, help="WORKER_TIMEOUT_SECONDS")
        p.add_argument("--kill-after", type=int, default=60, help="timeout's --kill-after")
        p.add_argument("--no-timeout", action="store_true", help="run the body without `timeout` (hung worker)")
        p.add_argument("--ignore-term", action="store_true", help="the body ignores SIGTERM")
        p.add_argument("--linger", type=float, default=0.0, help="seconds the container runs after its final write")
    spawn.add_argument("--task", default="model task")
    spawn.add_argument("--body", default=WorkerBehaviour.body, help="the worker's busybox shell command")
    spawn.add_argument("--wait", action="store_true", help="stay until the worker's agent is done")
    loop.add_argument("--interval", type=float, default=5.0, help="seconds between cycles")
    loop.add_argument("--cycles", type=int, default=0, help="stop after this many cycles (0: until signalled)")
    loop.add_argument("--spawn-body", help="spawn a worker running this body in every cycle")
    sub.add_parser("cleanup", help="one cleanupStaleTasksInternal")
    check = sub.add_parser("check", help="one checkWorkerStatus")
    check.add_argument("task_id")
    return parser


def _behaviour(args: argparse.Namespace, body: str) -> WorkerBehaviour:
    return WorkerBehaviour(
        body=body,
        timeout_seconds=args.timeout,
        kill_after=args.kill_after,
        enforce_timeout=not args.no_timeout,
        ignore_term=args.ignore_term,
        linger=args.linger,
    )


def _emit(result: object) -> None:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    print(json.dumps(result), flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 when a spawn was refused or failed."""
    args = _parser().parse_args(argv)
    config = SyntropyConfig(
        root=args.root,
        project=args.project,
        cooldown_s=args.cooldown,
        compose_delay_s=args.compose_delay,
        pauses={"cleanup.before_write": args.cleanup_pause},
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with Syntropy(args.docker_host, config) as syntropy:
        if args.command == "spawn":
            result = syntropy.spawn(args.task, behaviour=_behaviour(args, args.body))
            _emit(result)
            agent = syntropy.agents.get(result.task_id or "")
            while args.wait and agent is not None and agent.is_alive() and not stop.is_set():
                agent.join(timeout=0.2)
            return 0 if result.ok else 1
        if args.command == "cleanup":
            _emit(syntropy.cleanup_stale_tasks())
        elif args.command == "check":
            _emit(syntropy.check_worker_status(args.task_id))
        else:
            done = 0
            while not stop.is_set() and (args.cycles == 0 or done < args.cycles):
                spawn = None
                if args.spawn_body:
                    spawn = {"task": "model task", "behaviour": _behaviour(args, args.spawn_body)}
                _emit({"cycle": done + 1, "results": syntropy.run_cycle(spawn=spawn)})
                done += 1
                stop.wait(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
