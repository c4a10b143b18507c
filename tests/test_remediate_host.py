"""Host actions: their preconditions with the figures, and the real backend on stand-ins (never this machine)."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from pixel_tui.model import Levels, Thresholds
from pixel_tui.remediate.audit import AuditLog
from pixel_tui.remediate.executor import Backends, Executor
from pixel_tui.remediate.host import HostError, MemoryFigures, RealHost
from pixel_tui.remediate.orchestrator import RealFiles
from pixel_tui.settings import Settings
from tests.remediation import GiB, StandInHost
from tests.scripted import crisis_frame


def executor(tmp_path: Path, host, **settings) -> Executor:
    backends = Backends(None, RealFiles(None, None, max_bytes=1024), host, AuditLog(tmp_path / "audit.jsonl"))
    return Executor(replace(Settings(), **settings), backends, read_only=False)


def run(tmp_path, host, action):
    ex = executor(tmp_path, host)
    (outcome,) = ex.execute(ex.plan(action, crisis_frame(14)), actor="t")
    return outcome


def test_host_actions_need_root(tmp_path):
    host = StandInHost(root=False)
    for action in ("host.relieve_memory", "host.cycle_swap"):
        outcome = run(tmp_path, host, action)
        assert outcome.outcome == "refused" and outcome.error.startswith("needs root")
    assert host.calls == []


def test_relieve_memory_only_at_warning_or_worse_and_says_the_figures(tmp_path):
    calm = StandInHost(figures=MemoryFigures(16 * GiB, 12 * GiB, 0, 0))  # 25 % used
    outcome = run(tmp_path, calm, "host.relieve_memory")
    assert outcome.outcome == "refused"
    assert outcome.error == "memory is at 25.0 % (ok); the page cache is only dropped at warning (80 %) or worse"
    assert calm.calls == []
    pressed = StandInHost(figures=MemoryFigures(16 * GiB, int(1.6 * GiB), 0, 0))  # 90 % used
    assert run(tmp_path, pressed, "host.relieve_memory").ok and pressed.calls == ["drop_caches"]


def test_cycle_swap_needs_room_for_the_swapped_pages_plus_a_margin(tmp_path):
    # 16 GiB total, 4 GiB available, 3 GiB of swap used: 4 is not above 3 + 3.2 (20 % of 16).
    tight = StandInHost(figures=MemoryFigures(16 * GiB, 4 * GiB, 8 * GiB, 5 * GiB))
    outcome = run(tmp_path, tight, "host.cycle_swap")
    assert outcome.outcome == "refused"
    assert outcome.error == (
        "available memory 4.0GiB does not exceed swap used 3.0GiB by the margin 3.2GiB (20 % of 16.0GiB)"
    )
    assert tight.calls == []


def test_cycle_swap_waits_for_swap_traffic_to_calm_down(tmp_path):
    busy = StandInHost(figures=MemoryFigures(16 * GiB, 12 * GiB, 8 * GiB, 5 * GiB), traffic=35.5)
    outcome = run(tmp_path, busy, "host.cycle_swap")
    assert outcome.outcome == "refused"
    assert outcome.error == "swap traffic is 35.5 pages/s over 2 s (cycling needs under 10)"
    assert busy.calls == ["swap_traffic 2.0"]
    calm = StandInHost(figures=MemoryFigures(16 * GiB, 12 * GiB, 8 * GiB, 5 * GiB), traffic=1.0)
    assert run(tmp_path, calm, "host.cycle_swap").ok and calm.calls == ["swap_traffic 2.0", "cycle_swap"]


def test_optimize_shows_the_whole_cascade_and_stops_at_the_first_failure(tmp_path):
    class FailingCaches(StandInHost):
        def drop_caches(self) -> None:
            raise HostError("cannot write /proc/sys/vm/drop_caches: Read-only file system")

    host = FailingCaches(figures=MemoryFigures(16 * GiB, int(1.6 * GiB), 8 * GiB, 1 * GiB))
    ex = executor(tmp_path, host)
    frame = crisis_frame(14)
    pressed = replace(frame.host, memory=replace(frame.host.memory, percent=91.0))  # memory critical too
    snapshot = replace(frame, host=pressed, levels=Levels.of(pressed, Thresholds()))
    plan = ex.plan("host.optimize", snapshot)
    ops = [step.op for step in plan.steps]
    assert ops[0] == "kill-worker" and ops[-2:] == ["drop-caches", "cycle-swap"] and "prune-images" in ops
    assert plan.bulk and plan.stop_on_failure and len(plan.describe()) == len(plan.steps)
    outcomes = ex.execute(plan, actor="t")
    # No engine here: the container steps are refused (and the cascade goes on); drop-caches fails and it stops.
    assert [o.outcome for o in outcomes[:-1]] == ["refused"] * (len(outcomes) - 1)
    assert outcomes[-1].step.op == "drop-caches" and outcomes[-1].outcome == "failed"
    assert "cycle_swap" not in host.calls


@pytest.fixture
def stand_ins(tmp_path):
    """A bin dir with swapoff/swapon that log their argv, a fake /proc, and a file in place of drop_caches."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for name in ("swapoff", "swapon"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "meminfo").write_text(
        "MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:    8192000 kB\n"
        "SwapTotal:       8192000 kB\nSwapFree:        6144000 kB\n"
    )
    (proc / "vmstat").write_text("nr_free_pages 1\npswpin 100\npswpout 250\npgfault 9\n")
    drop = tmp_path / "drop_caches"
    drop.write_text("")
    return RealHost(proc=proc, drop_caches_path=drop, path=f"{bin_dir}:/usr/bin:/bin"), log, drop, proc


def test_the_real_host_backend_on_stand_ins(stand_ins):
    host, log, drop, proc = stand_ins
    figures = host.memory()
    assert figures.total == 16384000 * 1024 and figures.available == 8192000 * 1024
    assert figures.swap_used == 2048000 * 1024 and round(figures.percent) == 50
    assert host.swap_traffic(0.01) == 0.0  # the counters did not move
    host.drop_caches()
    assert drop.read_text() == "1\n"
    host.cycle_swap()
    assert log.read_text().splitlines() == ["swapoff -a", "swapon -a"]


def test_a_failing_swap_command_says_which_and_why(stand_ins, tmp_path):
    host, log, _, _ = stand_ins
    failing = Path(host.path.split(":")[0]) / "swapon"
    failing.write_text('#!/bin/sh\necho "swapon: /swapfile: swapon failed: Invalid argument" >&2\nexit 1\n')
    with pytest.raises(HostError, match="swapon -a exited 1: swapon: /swapfile: swapon failed: Invalid argument"):
        host.cycle_swap()
    assert log.read_text().splitlines() == ["swapoff -a"]


def test_swap_commands_are_looked_up_on_the_given_path_only(stand_ins):
    host, _, _, _ = stand_ins
    empty = RealHost(proc=host.proc, drop_caches_path=host.drop_caches_path, path="/nonexistent")
    with pytest.raises(HostError, match="swapoff not found on PATH"):
        empty.cycle_swap()


def test_act_on_a_plan_known_to_fail_refuses_without_asking(tmp_path):
    """`pixel-tui act host.cycle_swap` with no swap in use: refused at once (exit 1), never a question."""
    import io

    from pixel_tui.remediate.commands import act

    host = StandInHost(figures=MemoryFigures(16 * GiB, 12 * GiB, 8 * GiB, 8 * GiB))
    ex = executor(tmp_path, host)
    answers, out, err = io.StringIO("cycle\n"), io.StringIO(), io.StringIO()
    code = act(ex, crisis_frame(14), "host.cycle_swap", None, assume_yes=False, dry_run=False,
               stdin=answers, stdout=out, stderr=err)  # fmt: skip
    assert code == 1
    assert "refused: no swap is in use: nothing to cycle" in err.getvalue()
    assert answers.tell() == 0 and "type" not in out.getvalue().lower()  # nothing was asked or read
    (record,) = ex.backends.audit.read()[0]
    assert record["outcome"] == "refused" and host.calls == []
