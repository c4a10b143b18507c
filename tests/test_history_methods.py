"""The history's methods read like the operator's report: Crisis, Attempt, Miracle, Learned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixel_tui.history.methods import ATTEMPT, CRISIS, LEARNED, MIRACLE, learned_rule, method_of
from pixel_tui.history.model import Cycle
from pixel_tui.history.recorder import HistoryRecorder
from pixel_tui.model import Level

START = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
LEARNED_KILL = "autoheal: kill-worker pixel-worker-c847c5ca (5e4772494e43): done (rule kill-timed-out-workers-swap)"


def cycle(level: Level | None, *actions: str) -> Cycle:
    return Cycle(None, "pixel-tui", START, START + timedelta(seconds=12), 12.0, level, actions=actions)


def test_the_report_s_four_words():
    assert method_of(cycle(Level.CRITICAL), Level.WARNING) == CRISIS
    assert method_of(cycle(Level.CRITICAL, "worker.kill pixel-worker-3f2a9c1d ok"), Level.CRITICAL) == ATTEMPT
    assert method_of(cycle(Level.OK), Level.CRITICAL) == MIRACLE
    assert method_of(cycle(Level.CAREFUL), Level.CRITICAL) == MIRACLE
    # The host did by itself, through a rule the operator promoted, what the operator used to do by hand.
    assert method_of(cycle(Level.CRITICAL, LEARNED_KILL), Level.OK) == LEARNED
    assert [CRISIS, ATTEMPT, MIRACLE, LEARNED] == ["Crisis", "Attempt", "Miracle", "Learned"]


def test_calm_cycles_and_built_in_rules_have_no_method_of_their_own():
    assert method_of(cycle(Level.OK), Level.OK) is None
    assert method_of(cycle(Level.WARNING), Level.CRITICAL) is None  # better, not yet out of trouble
    assert method_of(cycle(None), Level.CRITICAL) is None
    builtin = "autoheal: remove-orphan pixel-worker-9b04e7aa (44d4af3c08c6): done (rule builtin-remove-orphan)"
    assert learned_rule(builtin) is None and method_of(cycle(Level.OK, builtin), Level.OK) is None
    assert learned_rule(LEARNED_KILL) == "kill-timed-out-workers-swap"
    assert learned_rule("worker.kill pixel-worker-3f2a9c1d ok (rule mine)") is None  # a person's action


def test_the_recorder_gives_each_closed_cycle_its_method(tmp_path):
    from pixel_tui.settings import HistorySettings
    from tests.scripted import crisis_frame

    now = [0.0]
    recorder = HistoryRecorder(tmp_path / "h.sqlite3", HistorySettings(cycle_s=10.0), clock=lambda: now[0])
    try:
        for second, frame in ((0.0, 14), (5.0, 14), (11.0, 14), (21.0, 14)):
            now[0] = second
            if second == 5.0:
                recorder.add_action("worker.kill pixel-worker-3f2a9c1d ok")
            recorder.record(crisis_frame(frame))
        methods = [(c.level, c.method) for c in recorder.recent(10)]
        assert methods == [(Level.CRITICAL, ATTEMPT), (Level.CRITICAL, CRISIS)]
    finally:
        recorder.close()
