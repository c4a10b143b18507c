"""The console wired in one place (pixel_tui/wiring.py), headless: read-only folded in once, autoheal only where it
can act, and the one event log the pipeline writes, bounded by `ui.events` and sorted once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pixel_tui.model import Event
from pixel_tui.pipeline import EventLog, Pipeline
from pixel_tui.settings import Settings, UISettings
from pixel_tui.wiring import wire_console
from tests.scripted import ScriptedSource, crisis_frame, crisis_frames
from tests.ui.helpers import stand_in_executor


def test_the_context_holds_the_pipeline_autoheal_and_the_event_log_built_once():
    settings = replace(Settings(), ui=replace(UISettings(), events=7))
    executor = stand_in_executor(settings)
    source = ScriptedSource(crisis_frames())
    context = wire_console(settings, source, executor=executor)
    assert context.autoheal is not None and context.autoheal.executor is executor
    assert context.pipeline.healer is context.autoheal and context.pipeline.source is source
    assert context.pipeline.events is context.events and not context.read_only
    context.events.add(Event(crisis_frame(14).taken_at + timedelta(seconds=n), "x", "t", f"e{n}") for n in range(9))
    assert [event.message for event in context.events.recent()] == [f"e{n}" for n in range(8, 1, -1)]  # 7 kept


def test_read_only_is_folded_in_once_and_leaves_autoheal_out():
    settings = Settings()
    read_only = stand_in_executor(replace(settings, read_only=True))
    context = wire_console(settings, ScriptedSource(crisis_frames()), read_only=True, executor=read_only)
    assert context.read_only and context.settings.read_only and context.autoheal is None
    assert context.pipeline.healer is None
    with pytest.raises(ValueError, match="read-only console needs a read-only executor"):
        wire_console(settings, ScriptedSource(crisis_frames()), read_only=True, executor=stand_in_executor(settings))
    assert wire_console(settings, ScriptedSource(crisis_frames())).autoheal is None  # nothing to act with


def test_each_step_brings_the_event_log_newest_first_its_own_events_sorted_once():
    frame = crisis_frame(14)
    at = frame.taken_at
    late, early = Event(at, "late", "t", "late"), Event(at - timedelta(minutes=5), "early", "t", "early")
    source = ScriptedSource([replace(frame, events=(late, early))])
    pipeline = Pipeline(source, events=EventLog(2))
    step = pipeline.step()
    assert [event.kind for event in step.events] == ["late", "early"]
    noted = Event(at + timedelta(seconds=1), "action-ok", "w", "kill-worker w: done")
    pipeline.note([noted])
    step = pipeline.step()
    assert step.events == pipeline.events.recent() and [e.kind for e in step.events] == ["action-ok", "late"]
