"""The console wired in one place: the pipeline, autoheal and the event log built from the settings, and handed to
the app as one typed context. No Textual here: the command that starts the console (and the demo, the tests, the
screenshots) builds the context, and `pixel_tui.ui.app` only draws on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pixel_tui.pipeline import EventLog, Pipeline, RecordedHistory
from pixel_tui.settings import Settings, as_read_only
from pixel_tui.source import SnapshotSource

if TYPE_CHECKING:
    from pixel_tui.paths import Paths
    from pixel_tui.remediate.autoheal import Autoheal
    from pixel_tui.remediate.executor import Executor
    from pixel_tui.rules.model import RulesBook


@dataclass(frozen=True)
class ConsoleContext:
    """Everything the console runs on, built once (`wire_console`)."""

    settings: Settings
    """The settings, read-only folded in (the one place it is decided)."""
    source: SnapshotSource
    """Where snapshots, details and logs come from."""
    pipeline: Pipeline
    """The one loop: collect, history, autoheal, events."""
    executor: Executor | None = None
    """What every changing key goes through; None when this console has no backend to act with."""
    autoheal: Autoheal | None = None
    """The autoheal policy (off unless `--autoheal` or `autoheal.enabled`); the pipeline runs it. None when read-only
    (read-only wins over every key) or when there is no backend to act with."""
    history: RecordedHistory | None = None
    """The cycle history the pipeline records into and the sparkline and history screen read (None: not kept, as in
    tests on scripted data)."""
    paths: Paths | None = None
    """The user's paths (themes, saved logs); None in tests."""
    rules: RulesBook | None = None
    """The autoheal rules the rules screen shows and changes (None: this console has none)."""

    @property
    def events(self) -> EventLog:
        """The one event log: the pipeline writes it, the events pane reads it (bounded by `ui.events`)."""
        return self.pipeline.events

    @property
    def read_only(self) -> bool:
        """Watch only: changing actions hidden in the console, refused by the executor."""
        return self.settings.read_only


def wire_console(
    settings: Settings,
    source: SnapshotSource,
    *,
    paths: Paths | None = None,
    read_only: bool = False,
    executor: Executor | None = None,
    history: RecordedHistory | None = None,
    rules: RulesBook | None = None,
    autoheal: Autoheal | None = None,
) -> ConsoleContext:
    """The console's parts on `source`: `read_only` folded into the settings, autoheal on the executor (unless
    read-only), the event log, and the pipeline that runs them. An executor built read-write is refused for a
    read-only console. `autoheal` is one built by the caller (the demo's learns: `rules.learning`), dropped when
    read-only."""
    if read_only or settings.read_only:
        settings = as_read_only(settings)
    if executor is not None and settings.read_only and not executor.read_only:
        raise ValueError("a read-only console needs a read-only executor")
    if executor is None or settings.read_only:
        autoheal = None
    elif autoheal is None:
        from pixel_tui.remediate.autoheal import Autoheal  # the remediation layer loads only when it can act

        autoheal = Autoheal(executor, settings.autoheal, on_demote=rules.shadow if rules is not None else None)
    pipeline = Pipeline(source, healer=autoheal, history=history, events=EventLog(settings.ui.events))
    return ConsoleContext(settings, source, pipeline, executor, autoheal, history, paths, rules)
