"""The action catalogue (id, default key, scope, preview, changing or not) and the read-only rule.

This is the one place that says which actions are *changing* ones, and `allowed` is the one function
asked whether an action may run: the console's footer, keymap, palette and help ask it, and so does
the executor, so a hidden key is never the only lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixel_tui.remediate.model import AUTOHEAL

CONTAINER, WORKER, HOST, ALL = "container", "worker", "host", "all"


@dataclass(frozen=True)
class ActionSpec:
    """One action the operator can ask for."""

    id: str
    """Binding id, also the id the audit log and the keymap (`[keys]` in the config) use."""
    key: str
    """Default key (Textual key name)."""
    label: str
    """Short label for the footer."""
    preview: str
    """One line saying what it will do."""
    scope: str
    """What it acts on: container, worker, host or all."""
    mutating: bool
    """True when it changes anything (then read-only mode forbids it)."""
    person_only: bool = False
    """True when only a person at the console may take it (a shell): autoheal never runs it, and no rule may name
    it."""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("container.restart", "r", "restart", "Restart the selected container", CONTAINER, True),
    ActionSpec(
        "container.stop_start",
        "s",
        "stop/start",
        "Stop the selected container, or start it if stopped",
        CONTAINER,
        True,
    ),
    ActionSpec(
        "container.shell",
        "e",
        "shell",
        "A shell in the selected running container",
        CONTAINER,
        True,  # it changes nothing by itself, but whoever holds the shell can change anything
        person_only=True,
    ),
    ActionSpec("worker.kill", "k", "kill", "Stop and remove the selected worker; mark its task aborted", WORKER, True),
    ActionSpec("workers.reap", "t", "reap", "Kill every worker past its timeout", ALL, True),
    ActionSpec(
        "workers.resolve_phantoms",
        "p",
        "phantoms",
        "Abort ghost tasks, remove orphan workers, clear a stale lock",
        ALL,
        True,
    ),
    ActionSpec(
        "host.prune", "P", "prune", "Remove exited workers, dangling images and build cache (never volumes)", HOST, True
    ),
    ActionSpec("host.relieve_memory", "m", "relieve mem", "Drop the page cache (root; warning or worse)", HOST, True),
    ActionSpec("host.cycle_swap", "w", "cycle swap", "swapoff/swapon when memory allows it (root)", HOST, True),
    ActionSpec(
        "host.optimize", "o", "optimize", "Reap, resolve phantoms, prune, relieve memory, cycle swap", HOST, True
    ),
    ActionSpec("autoheal.toggle", "a", "autoheal", "Turn the autoheal policy on or off", HOST, True),
    ActionSpec("item.logs", "l", "logs", "Show the last log lines of the selected container", CONTAINER, False),
    ActionSpec("item.inspect", "i", "inspect", "Show the selected container's configuration", CONTAINER, False),
)

BY_ID: dict[str, ActionSpec] = {action.id: action for action in ACTIONS}
"""The catalogue by id."""

MUTATING_ACTIONS: frozenset[str] = frozenset(action.id for action in ACTIONS if action.mutating)
"""Ids of every action that changes something: forbidden in read-only mode, by every path."""


def is_mutating(action_id: str) -> bool:
    """True for a changing action; unknown ids count as changing, so a typo can never slip through."""
    spec = BY_ID.get(action_id)
    return True if spec is None else spec.mutating


def allowed(action_id: str, *, read_only: bool) -> bool:
    """May `action_id` run? Never a changing (or unknown) action when read-only; anything otherwise."""
    return not (read_only and is_mutating(action_id))


READ_ONLY_REASON = "read-only: pixel-tui was started to watch (watch or --read-only), it changes nothing"
"""What a refusal in read-only mode says."""


def forbidden(action_id: str, *, read_only: bool, actor: str) -> str | None:
    """Why `actor` may not run `action_id` now (read-only, or a person's action asked by autoheal); None: it may."""
    if not allowed(action_id, read_only=read_only):
        return READ_ONLY_REASON
    spec = BY_ID.get(action_id)
    if actor == AUTOHEAL and (spec is None or spec.person_only):
        return f"{action_id} is taken by a person at the console only: autoheal never runs it"
    return None
