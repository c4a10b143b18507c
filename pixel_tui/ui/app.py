"""The console app: shows the dashboard on a wired console (pixel_tui/wiring.py), registers the themes, applies the
keymap.

The app builds nothing: the pipeline, autoheal and the event log come in a `ConsoleContext`, built by the command
that starts the console. `build_app` is the factory the tests, screenshots and benches share (it wires, then
builds the app); `run_console` is what `pixel-tui` calls. Messages built from config, theme files or the host are
never read as markup (`markup=False`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.markup import escape
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme

from pixel_tui.paths import Paths
from pixel_tui.pipeline import Pipeline, RecordedHistory
from pixel_tui.remediate.autoheal import Autoheal
from pixel_tui.remediate.executor import Executor
from pixel_tui.rules.model import RulesBook
from pixel_tui.safe import printable, printable_lines
from pixel_tui.settings import Settings
from pixel_tui.source import SnapshotSource
from pixel_tui.ui.dashboard import DashboardScreen
from pixel_tui.ui.help import HelpScreen, help_content
from pixel_tui.ui.keys import APP_BINDINGS, CONSOLE_HELP, KNOWN_IDS, ids_on_key, keymap_clashes, usable_keymap
from pixel_tui.ui.quitting import Quitting
from pixel_tui.ui.shell import lend_terminal
from pixel_tui.ui.themes import DEFAULT_THEME, load_themes, theme_problem, theme_variables
from pixel_tui.wiring import ConsoleContext, wire_console


class PixelApp(Quitting, App[int]):
    """pixel-tui's console."""

    CSS_PATH = "pixel.tcss"
    TITLE = "pixel-tui"
    BINDINGS: ClassVar[list[BindingType]] = list(APP_BINDINGS)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context
        """The console's parts, wired by the command that starts it."""
        executor = context.executor
        if executor is not None and executor.backends.shell is not None:
            executor.backends.shell.hand_over = partial(lend_terminal, self)  # a shell suspends the console
        self.theme_names: tuple[str, ...] = ()
        """The pixel themes (built-in and the user's), in the order ctrl+t cycles them."""
        self.keymap: dict[str, str] = {}
        """The keymap in use (binding id -> keys)."""
        self._clashes_reported: set[frozenset[str]] = set()
        """Clashes with Textual's own bindings already told (Textual reports them on every key)."""
        self._applicable: dict[str, Theme] = {}
        """Themes known to apply, by name (the object, as a file may replace a theme of the same name)."""
        self.stop_signals = False
        """SIGTERM and SIGINT quit as `q` does (set by `run_console`; tests leave the process's signals alone)."""
        self.listen_for_interruptions()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification (screens and widgets call this one) with its text made printable.

        Messages carry container names, engine errors and config strings: control characters are
        escaped here, and markup is off unless a caller asks for it with text it wrote itself.
        """
        super().notify(
            printable_lines(message), title=printable(title), severity=severity, timeout=timeout, markup=markup
        )

    @property
    def read_only(self) -> bool:
        """Watch only (the one fact, in the settings): changing actions hidden here, refused by the executor."""
        return self.context.read_only

    @property
    def settings(self) -> Settings:
        """The settings (read-only folded in)."""
        return self.context.settings

    @property
    def source(self) -> SnapshotSource:
        """Where snapshots, details and logs come from."""
        return self.context.source

    @property
    def pipeline(self) -> Pipeline:
        """The one loop: collect, history, autoheal, events."""
        return self.context.pipeline

    @property
    def executor(self) -> Executor | None:
        """What every changing key goes through; None when this console has no backend to act with."""
        return self.context.executor

    @property
    def autoheal(self) -> Autoheal | None:
        """The autoheal policy; None when read-only or when there is no backend to act with."""
        return self.context.autoheal

    @property
    def history(self) -> RecordedHistory | None:
        """The cycle history; None when not kept."""
        return self.context.history

    @property
    def rules(self) -> RulesBook | None:
        """The autoheal rules the rules screen shows and changes (None: this console has none)."""
        return self.context.rules

    @property
    def paths(self) -> Paths | None:
        """The user's paths; None in tests."""
        return self.context.paths

    def get_default_screen(self) -> Screen:
        """The dashboard is the base screen."""
        return DashboardScreen(self.context)

    def on_mount(self) -> None:
        """Register the themes that apply, pick the configured one, apply the keymap; SIGTERM quits as `q` does."""
        if self.stop_signals:
            self.handle_stop_signals()
        themes = load_themes(self.paths.themes_dir if self.paths else None, check=self.theme_problem)
        for theme in themes.themes:
            self.register_theme(theme)
            self._applicable[theme.name] = theme
        self.theme_names = themes.names
        for error in themes.errors:
            self.notify(error, title="theme file skipped", severity="warning", timeout=10, markup=False)
        wanted = self.settings.ui.theme
        if wanted not in self.available_themes:
            self.notify(
                f"no usable theme named {wanted!r}; using {DEFAULT_THEME}",
                title="theme",
                severity="warning",
                markup=False,
            )
            wanted = DEFAULT_THEME
        self.theme = wanted
        for notice in self.settings.notices:
            self.notify(notice, title="settings", severity="warning", timeout=10, markup=False)
        for skipped in self.autoheal.rule_errors if self.autoheal is not None else ():  # the others run
            self.notify(str(skipped), title="autoheal rule skipped", severity="warning", timeout=10, markup=False)
        keymap, unknown = usable_keymap(self.settings.keys, self.read_only)
        if unknown:
            self.notify(
                f"unknown binding id{'s' if len(unknown) > 1 else ''} in [keys], ignored: {', '.join(unknown)}",
                title="keys",
                severity="warning",
                timeout=10,
                markup=False,
            )
        for clash in keymap_clashes(keymap, self.read_only):
            outcome = "only one of them runs" if clash.together else "what it does depends on the focused table"
            self.notify(
                f"key {clash.key!r} is bound to {' and '.join(clash.ids)} in [keys]: {outcome}",
                title="keys",
                severity="warning",
                timeout=10,
                markup=False,
            )
        self.keymap = keymap
        self.set_keymap(keymap)

    # --- themes ------------------------------------------------------------------------------------------

    def theme_problem(self, theme: Theme) -> str | None:
        """Why `theme` cannot be applied to this console, or None (tried on a copy of the stylesheet)."""
        return theme_problem(theme, self.stylesheet, self.get_theme_variable_defaults())

    def validate_theme(self, name: str) -> str:
        """Every way of switching theme (ctrl+t, the palette, the config) passes here: a theme that does not
        apply is reported and unregistered, and the current theme stays (the default one at start)."""
        theme = self.get_theme(name)
        if theme is None or self._applicable.get(name) is theme:
            return name
        problem = self.theme_problem(theme)
        if problem is None:
            self._applicable[name] = theme
            return name
        self.notify(f"{name}: {problem}", title="theme skipped", severity="warning", timeout=10, markup=False)
        self.unregister_theme(name)
        self.theme_names = tuple(other for other in self.theme_names if other != name)
        current = self.theme
        return current if current in self.available_themes and current != name else DEFAULT_THEME

    def get_css_variables(self) -> dict[str, str]:
        """Theme variables, with the gauge colors derived for themes that do not set them (Textual's own)."""
        self.theme_variables = theme_variables(self.current_theme, self.get_theme_variable_defaults())
        return self.theme_variables

    # --- keys --------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """esc closes the keys panel only while it is open; otherwise it goes on to its other uses."""
        if action == "hide_help_panel":
            return bool(self.screen.query("HelpPanel"))
        return True

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: object) -> None:
        """The keymap took a key from one of Textual's own bindings (an arrow, enter...): say so once."""
        for binding in clashed_bindings:
            taken_by = ids_on_key(self.keymap, binding.key)
            ids = frozenset({binding.id or binding.action, *taken_by})
            if ids in self._clashes_reported or binding.id in KNOWN_IDS:
                continue  # our own ids were reported at mount
            self._clashes_reported.add(ids)
            self.notify(
                f"key {binding.key!r} is bound to {' and '.join(taken_by) or '?'} in [keys]: "
                f"it no longer does {binding.description or binding.action}",
                title="keys",
                severity="warning",
                markup=False,
            )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's commands, plus every action available now (changing ones absent when read-only)."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.id not in KNOWN_IDS or binding.id in seen or not active.enabled:
                continue
            seen.add(binding.id)
            title = (binding.tooltip or binding.description).rstrip(".")
            help_text = escape(f"key {self.get_key_display(binding)} · {binding.id}")  # the palette reads markup
            yield SystemCommand(title, help_text, partial(self.run_action, binding.action, active.node))

    def action_help(self) -> None:
        """Show every key."""
        if isinstance(self.screen, HelpScreen):
            return
        groups = getattr(self.screen, "HELP_GROUPS", CONSOLE_HELP)  # a screen with keys of its own lists those
        content = partial(help_content, self.keymap, self.read_only, self.get_key_display, groups=groups)
        self.push_screen(HelpScreen(content))

    def action_show_rules(self) -> None:
        """The rules screen: every autoheal rule, its figures, and the keys to move it on the ladder."""
        from pixel_tui.ui.rules_screen import RulesScreen

        if not isinstance(self.screen, RulesScreen):
            refresh_s = max(self.settings.interval, 1.0)
            autoheal = self.autoheal
            on = (lambda: autoheal.enabled) if autoheal is not None else (lambda: False)
            self.push_screen(RulesScreen(self.rules, refresh_s=refresh_s, read_only=self.read_only, autoheal_on=on))

    def action_cycle_theme(self) -> None:
        """Next pixel theme; one that turns out not to apply is skipped (validate_theme drops it)."""
        start = self.theme
        while True:
            names = list(self.theme_names) or [DEFAULT_THEME]
            index = names.index(self.theme) if self.theme in names else -1
            wanted = names[(index + 1) % len(names)]
            self.theme = wanted
            if self.theme == wanted or len(self.theme_names) <= 1:
                break
        if self.theme != start:
            self.notify(f"theme {self.theme}", timeout=2, markup=False)


def build_app(
    settings: Settings,
    source: SnapshotSource,
    *,
    paths: Paths | None = None,
    read_only: bool = False,
    executor: Executor | None = None,
    history: RecordedHistory | None = None,
    rules: RulesBook | None = None,
) -> PixelApp:
    """The console on `source`, wired as the CLI wires it (`pixel_tui.wiring.wire_console`); tests, screenshots and
    benches build it this way. An executor built read-write is refused for a read-only console."""
    return PixelApp(
        wire_console(settings, source, paths=paths, read_only=read_only, executor=executor, history=history,
                     rules=rules)
    )  # fmt: skip


def run_console(context: ConsoleContext) -> int:
    """Run the console until the operator quits; the exit code (0, 1 when the app failed, 4 when quitting
    interrupted an action: each one is printed on stderr, with the parts done and not done)."""
    app = PixelApp(context)
    app.stop_signals = True
    app.run()
    for outcome in app.interrupted:
        print(f"pixel-tui: {printable(outcome.sentence())}", file=sys.stderr, flush=True)
    return app.return_code or 0
