"""The audit log is written before acting and never corrupted: intents, torn lines, a full disk."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixel_tui.remediate.audit import INTERRUPTED, AuditLog
from tests.remediation import bench
from tests.test_remediate_engine import timed_out_worker


def test_a_line_cut_short_is_never_glued_to_the_next_and_is_reported_by_number(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append({"id": "a", "outcome": "ok"})
    with open(log.path, "ab") as raw:
        raw.write(b'{"id": "b", "outcome": "o')  # a write the disk cut at its last block
    log.append({"id": "c", "outcome": "refused"})
    records, problems = log.read()
    assert [record["id"] for record in records] == ["a", "c"]
    assert problems == ["line 2: cut short (a write that did not finish)"]
    assert log.path.read_bytes().count(b"\n") == 3


def test_an_intent_without_an_outcome_reads_as_interrupted(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append({"id": "x", "phase": "intent", "step": "kill-worker"})
    log.append({"id": "y", "phase": "intent", "step": "abort-ghost"})
    log.append({"id": "y", "phase": "outcome", "step": "abort-ghost", "outcome": "ok", "error": None})
    records, problems = log.read()
    assert problems == []
    assert [(r["step"], r["outcome"]) for r in records] == [("kill-worker", INTERRUPTED), ("abort-ghost", "ok")]
    assert "no outcome was recorded" in records[0]["error"]


def test_every_action_writes_its_intent_before_it_acts(engine, tmp_path):
    container = timed_out_worker(engine)
    b = bench(engine.url, tmp_path, ahead_s=1.3)
    try:
        (outcome,) = b.executor.execute(b.executor.plan("workers.reap", b.collector.collect()), actor="t")
    finally:
        b.close()
    assert outcome.ok
    intent, done = (json.loads(line) for line in b.audit.path.read_text().splitlines())
    assert (intent["phase"], done["phase"]) == ("intent", "outcome") and intent["id"] == done["id"]
    assert intent["target"]["id"] == container.id and "outcome" not in intent
    assert intent["time"] <= done["time"]


@contextlib.contextmanager
def tiny_tmpfs(where: Path, size: str = "16k") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (root only: the tests run as root, as CI does)."""
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_full_disk_refuses_the_action_and_loses_nothing_already_written(engine, tmp_path):
    container = timed_out_worker(engine)
    with tiny_tmpfs(tmp_path / "state") as state:
        b = bench(engine.url, tmp_path, ahead_s=1.3)
        b.audit.path = state / "audit.jsonl"
        b.executor.backends.audit = b.audit
        # One record of exactly a page, so the next byte of the log needs a page the disk no longer has.
        padding = 4096 - len('{"id":"before","outcome":"ok","note":""}\n')
        b.audit.append({"id": "before", "outcome": "ok", "note": "x" * padding})
        assert b.audit.path.stat().st_size == 4096
        filler = os.open(state / "filler", os.O_WRONLY | os.O_CREAT, 0o600)  # fill the disk to its last byte
        with contextlib.suppress(OSError):
            while os.write(filler, b"x" * 64):
                pass
        os.close(filler)
        try:
            (outcome,) = b.executor.execute(b.executor.plan("workers.reap", b.collector.collect()), actor="t")
        finally:
            b.close()
        records, problems = b.audit.read()
    assert outcome.outcome == "refused" and "nothing is done unrecorded" in outcome.error
    time.sleep(0.2)
    assert engine.client.containers.get(container.id).status == "running"
    assert [record["id"] for record in records] == ["before"] and problems == []
