"""The orchestrator's rules in one place: workers, their tasks and timeouts, phantoms, the lock (docs/domain.md).

The collector judges every collection with these, and the executor judges with the very same just
before it acts, so a step never runs on a rule the screen did not show.
"""

from pixel_tui.domain.lock import LockJudge, judge_lock
from pixel_tui.domain.phantoms import WorkerTracker
from pixel_tui.domain.workers import ALIVE_STATES, Match, WorkerRules, urgency

__all__ = ["ALIVE_STATES", "LockJudge", "Match", "WorkerRules", "WorkerTracker", "judge_lock", "urgency"]
