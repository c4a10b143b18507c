"""Every key of the console as a Binding with an id, and the one rule that hides changing actions when read-only.

The ids are what users rebind in the `[keys]` table of the config (`"container.restart" = "ctrl+r"`). The
changing actions come from `pixel_tui.remediate.catalogue`, the single list the remediation layer checks too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from textual.binding import Binding
from textual.keys import key_to_character
from textual.message import Message

from pixel_tui.remediate.catalogue import BY_ID, allowed

REMEDIATE = "remediate"
"""The action every remediation binding runs, with the action id as its parameter."""


def remediation(action_id: str, *, show: bool = True) -> Binding:
    """The binding of one catalogue action: its default key, label, preview as tooltip, and id."""
    spec = BY_ID[action_id]
    return Binding(spec.key, f"{REMEDIATE}('{spec.id}')", spec.label, show=show, tooltip=spec.preview, id=spec.id)


APP_BINDINGS: list[Binding] = [
    Binding("ctrl+t", "cycle_theme", "theme", show=False, tooltip="Switch to the next theme", id="app.theme"),
    # Only while the palette's Keys panel is open (PixelApp.check_action); otherwise esc goes on to other uses.
    Binding(
        "escape",
        "hide_help_panel",
        "close keys",
        show=False,
        tooltip="Close the keys panel (opened by the palette's Keys command)",
        id="app.close_keys",
    ),
]
"""Keys that work on every screen (besides Textual's ctrl+p palette and ctrl+q quit)."""

_LOGS = Binding("l", "logs", "logs", tooltip="Follow the log of the selected container or worker", id="item.logs")
_INSPECT = Binding(
    "i", "inspect", "inspect", show=False, tooltip="Detail of the selected container or worker", id="item.inspect"
)
_SHELL = remediation("container.shell")

SELECTION_BINDINGS: list[Binding] = [_LOGS, _INSPECT, _SHELL]
"""The dashboard's keys on the selected container or worker, whichever table has the focus (a group of their own
in the help: one block of every dashboard key would not fit beside the others at 120x35)."""

DASHBOARD_BINDINGS: list[Binding] = [
    # Help and quit first: the footer lists the focused table's keys, then these, and 80 columns end early.
    Binding("question_mark", "app.help", "help", tooltip="Every key and what it does", id="app.help"),
    Binding("q", "app.quit", "quit", tooltip="Leave pixel-tui", id="app.quit"),
    Binding(
        "space",
        "toggle_pause",
        "pause",
        key_display="space",
        tooltip="Pause or resume the refresh",
        id="dashboard.pause",
    ),
    Binding(
        "f5", "refresh_now", "refresh", show=False, tooltip="Collect now, also while paused", id="dashboard.refresh"
    ),
    Binding(
        "slash", "filter", "filter", tooltip="Filter the containers by name, image or state", id="containers.filter"
    ),
    Binding(
        "escape", "clear_filter", "clear filter", show=False, tooltip="Clear the filter", id="containers.clear_filter"
    ),
    Binding(
        "greater_than_sign",
        "cycle_sort",
        "sort",
        tooltip="Sort the containers by the next column: name, CPU, memory, state",
        id="containers.sort",
    ),
    Binding(
        "less_than_sign",
        "reverse_sort",
        "reverse",
        show=False,
        tooltip="Reverse the sort order",
        id="containers.reverse",
    ),
    Binding(
        "g",
        "cycle_metric",
        "graph",
        tooltip="Sparkline of the next metric: swap, memory, CPU, load",
        id="history.metric",
    ),
    Binding(
        "h",
        "show_history",
        "history",
        tooltip="The cycle history: chart, recovery line and table of the recent cycles",
        id="history.screen",
    ),
    Binding("v", "show_events", "events", show=False, tooltip="Every event in full, filterable", id="events.view"),
    Binding(
        "R",
        "app.show_rules",
        "rules",
        show=False,
        tooltip="The autoheal rules, their figures and proposals",
        id="rules.open",
    ),
    _LOGS,
    _INSPECT,
    remediation("workers.reap"),
    remediation("workers.resolve_phantoms"),
    remediation("host.optimize"),
    _SHELL,  # after the crisis's own keys: at 120 columns the footer ends before it (? and the palette show it)
    remediation("host.prune", show=False),
    remediation("host.relieve_memory", show=False),
    remediation("host.cycle_swap", show=False),
    remediation("autoheal.toggle", show=False),
]
"""Keys of the dashboard, whatever is focused."""

EXPLAIN_READ_ONLY = "explain_read_only"
"""The action of a key that, read-only, says why its changing action is not there."""

READ_ONLY_EXPLAINED: list[Binding] = [
    # The same key as the shell's own binding: that one runs when it is allowed, this one only when it is not.
    Binding(BY_ID["container.shell"].key, f"{EXPLAIN_READ_ONLY}('container.shell')", "shell", show=False),
]
"""Changing keys a person may well press in watch mode (a shell, to look around), which then say why nothing
opens; the others are simply inert. No ids: they are in no footer, palette, help or keymap."""

CONTAINER_BINDINGS: list[Binding] = [remediation("container.restart"), remediation("container.stop_start")]
"""Keys of the containers table, when it has the focus."""

WORKER_BINDINGS: list[Binding] = [remediation("worker.kill")]
"""Keys of the workers table, when it has the focus."""

LOG_BINDINGS: list[Binding] = [
    Binding("escape", "back", "close", tooltip="Clear the search, else the filter, else close", id="logs.back"),
    Binding("q", "dismiss", "close", show=False, tooltip="Close the log view", id="logs.close"),
    Binding("f", "toggle_follow", "follow", tooltip="Follow new lines, or pause", id="logs.follow"),
    Binding("slash", "search", "search", tooltip="Search: matches lit, enter jumps to one", id="logs.search"),
    Binding("n", "next_match", "next", show=False, tooltip="Next match of the search", id="logs.next"),
    Binding("N", "previous_match", "previous", show=False, tooltip="Previous match", id="logs.previous"),
    Binding(
        "vertical_line,ctrl+f", "filter", "filter", tooltip="Show only the lines containing a text", id="logs.filter"
    ),
    Binding("t", "toggle_stamps", "time", tooltip="Show or hide the timestamps", id="logs.timestamps"),
    Binding("w", "toggle_wrap", "wrap", tooltip="Wrap long lines or scroll sideways", id="logs.wrap"),
    Binding("s", "save", "save", tooltip="Save the lines shown to a new file", id="logs.save"),
]
"""Keys of the log view."""

RULE_CHANGES: dict[str, str] = {
    "promote": "p",
    "shadow": "s",
    "reject": "x",
    "disable": "d",
}
"""The four changes of a rule (the `RulesBook` methods), with their default keys."""

CHANGE_RULE = "change_rule"
"""The action every rule change runs, with the change as its parameter."""


def _rule_change(change: str, tooltip: str) -> Binding:
    return Binding(RULE_CHANGES[change], f"{CHANGE_RULE}('{change}')", change, tooltip=tooltip, id=f"rules.{change}")


RULE_BINDINGS: list[Binding] = [
    Binding(
        "enter",
        "show_rule",
        "show",
        tooltip="The rule whole: when, do, budget, scope, evidence",
        id="rules.show",
    ),
    _rule_change("promote", "A rung up: proposed -> shadow -> enabled"),
    _rule_change("shadow", "Shadow: says what it would do, never acts"),
    _rule_change("reject", "Reject a proposal, not proposed again for a while"),
    _rule_change("disable", "Off: neither evaluated nor acting"),
]
"""Keys of the rules screen (and of a rule's whole view, but enter); every change asks for confirmation."""

RULES_READ_ONLY_EXPLAINED: list[Binding] = [
    Binding(key, f"{EXPLAIN_READ_ONLY}('{change}')", change, show=False) for change, key in RULE_CHANGES.items()
]
"""Read-only: the rule changes' keys say why nothing changes (as READ_ONLY_EXPLAINED does on the dashboard)."""

RULES_GROUP = "Rules screen"
"""The help's title of the rules screen's keys."""

BINDING_GROUPS: tuple[tuple[str, list[Binding]], ...] = (
    ("Dashboard", [binding for binding in DASHBOARD_BINDINGS if binding not in SELECTION_BINDINGS]),
    ("Selected container or worker", SELECTION_BINDINGS),
    # One group for both tables (each key names its row): with the log view's keys, a group each would not fit.
    ("Containers / workers table", [*CONTAINER_BINDINGS, *WORKER_BINDINGS]),
    ("Log view", LOG_BINDINGS),
    (RULES_GROUP, RULE_BINDINGS),
    ("Anywhere", APP_BINDINGS),
)
"""The console's own bindings as the help screen groups them."""

CONSOLE_HELP: tuple[str, ...] = tuple(title for title, _ in BINDING_GROUPS if title != RULES_GROUP)
"""The groups the help lists on the dashboard and the views it opens: every one but the rules screen's, which has
a help of its own (RULES_HELP); with it, the dashboard's would no longer fit 120x35 whole."""
RULES_HELP: tuple[str, ...] = (RULES_GROUP, "Anywhere")
"""The groups the help lists on the rules screen."""

KNOWN_IDS: frozenset[str] = frozenset(
    binding.id for _, bindings in BINDING_GROUPS for binding in bindings if binding.id is not None
)
"""Every binding id a keymap may name."""


def action_allowed(read_only: bool, action: str, parameters: tuple[object, ...]) -> bool:
    """False for a changing action in read-only mode: hidden from footer, palette and keymap, its key inert (or,
    for the keys of READ_ONLY_EXPLAINED, saying why); their explanations are there in read-only mode only."""
    if action == EXPLAIN_READ_ONLY:
        return read_only
    if action == CHANGE_RULE:
        return not read_only
    if action != REMEDIATE:
        return True
    return allowed(str(parameters[0]) if parameters else "", read_only=read_only)


def usable_keymap(keys: dict[str, str], read_only: bool) -> tuple[dict[str, str], list[str]]:
    """The keymap to apply and the unknown ids it named (changing actions are left out when read-only)."""
    unknown = sorted(set(keys) - KNOWN_IDS)
    keymap = {
        binding_id: value
        for binding_id, value in keys.items()
        if binding_id in KNOWN_IDS and (binding_id not in BY_ID or allowed(binding_id, read_only=read_only))
    }
    return keymap, unknown


class KeyClash(NamedTuple):
    """A key the user's keymap gives to more than one binding id."""

    key: str
    """The key, as the keymap spells it."""
    ids: tuple[str, ...]
    """The binding ids on it, sorted."""
    together: bool
    """True when some of them can be active at the same time (only one of those runs); False when they are the
    two tables' own keys (which one runs depends on the focused table)."""


_TOGETHER: tuple[list[Binding], ...] = (
    DASHBOARD_BINDINGS + APP_BINDINGS + CONTAINER_BINDINGS,
    DASHBOARD_BINDINGS + APP_BINDINGS + WORKER_BINDINGS,
    RULE_BINDINGS + APP_BINDINGS,
)
"""Bindings active at the same time: the dashboard's and the app's, with one table's (the focused one)."""


def _keys(keys: str) -> list[str]:
    return [key.strip() for key in keys.split(",") if key.strip()]


def _same_key(key: str) -> str:
    """One spelling per key: '?' and 'question_mark' are the same key."""
    return key_to_character(key) or key


def keymap_clashes(keymap: Mapping[str, str], read_only: bool) -> list[KeyClash]:
    """Keys that `keymap` (as `usable_keymap` returns it) puts on two binding ids or more.

    Two kinds: ids that can be active at the same time, where one hides the other, and the containers table's
    ids against the workers table's, where one key would restart a container or kill a worker depending on the
    focus. Only keys the keymap itself assigns count: the defaults never clash, and where they share a key on
    purpose (esc clears the filter, or closes the keys panel) the binding that applies says so itself.
    Changing actions are left out when read-only: their keys are inert then.
    """
    assigned = {_same_key(key): key for keys in keymap.values() for key in _keys(keys)}

    def bound(bindings: list[Binding]) -> dict[str, set[str]]:
        by_key: dict[str, set[str]] = {}
        for binding in bindings:
            if binding.id is None or (binding.id in BY_ID and not allowed(binding.id, read_only=read_only)):
                continue
            for key in _keys(keymap.get(binding.id, binding.key)):
                by_key.setdefault(_same_key(key), set()).add(binding.id)
        return by_key

    ids_on: dict[str, set[str]] = {}
    together: set[str] = set()
    for bindings in _TOGETHER:
        for key, ids in bound(bindings).items():
            if len(ids) > 1 and key in assigned:
                ids_on.setdefault(key, set()).update(ids)
                together.add(key)
    containers, workers = bound(CONTAINER_BINDINGS), bound(WORKER_BINDINGS)
    for key in containers.keys() & workers.keys() & assigned.keys():
        ids_on.setdefault(key, set()).update(containers[key] | workers[key])
    return [KeyClash(assigned[key], tuple(sorted(ids)), key in together) for key, ids in sorted(ids_on.items())]


def ids_on_key(keymap: Mapping[str, str], key: str) -> list[str]:
    """The binding ids `keymap` puts on `key`, sorted."""
    return sorted(binding_id for binding_id, keys in keymap.items() if _same_key(key) in map(_same_key, _keys(keys)))


class ReadOnlyGuard:
    """Mixin for every node that declares remediation bindings: it applies `action_allowed`, nothing else."""

    app: Any

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide changing actions when the console is read-only."""
        return action_allowed(self.app.read_only, action, parameters)


class RemediationRequested(Message):
    """The operator asked for a remediation action; `target` is the selected row's key, if the action needs one."""

    def __init__(self, action_id: str, target: str | None) -> None:
        self.action_id = action_id
        self.target = target
        super().__init__()
