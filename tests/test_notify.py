"""Notifications, against a webhook receiver the test starts on loopback: the body, the cooldown and dedupe, retries,
a webhook that never answers (bounded, and nobody who tells waits), failures as events, levels, never a person."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

import pytest

from pixel_tui import notify as entry
from pixel_tui.model import Level
from pixel_tui.notify.config import NotifySettings
from pixel_tui.notify.notice import ACTION, CLEARED, CRITICAL, GIVE_UP, OUTCOME, PROPOSAL, SHORT_CIRCUIT
from pixel_tui.notify.notifier import Notifier
from pixel_tui.notify.observer import NotifyObserver, delivery_bound, observe
from pixel_tui.notify.sender import WebhookSender, where
from pixel_tui.remediate.autoheal import GAVE_UP
from pixel_tui.remediate.model import OK, REFUSED, Outcome, Plan, Step, Target
from pixel_tui.settings import ConfigError, Settings, parse_settings
from tests.scripted import crisis_frames
from tests.webhook import Receiver, Silent


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def notifier_for(
    *urls: str, cooldown_s: float = 300.0, retries: int = 2, timeout_s: float = 5.0, **kw: Any
) -> Notifier:
    settings = NotifySettings(webhooks=urls, timeout_s=timeout_s, retries=retries, cooldown_s=cooldown_s)
    sender = WebhookSender(timeout_s=timeout_s, retries=retries, backoff_s=0.01)
    return Notifier(settings, host="pixel-vps-01", sender=sender, **kw)


def test_a_notice_is_one_json_post_to_each_webhook_that_an_ntfy_topic_url_reads_as_a_notification(receiver):
    other = Receiver()
    notifier = notifier_for(receiver.url(), other.url("/hook"))
    try:
        text = "autoheal: kill-worker pixel-worker-3f2a9c1d: timed out"
        assert notifier.notify(ACTION, "pixel-worker-3f2a9c1d", text, level=Level.CAREFUL, actor="autoheal")
        assert notifier.wait(10)
        (first,) = receiver.wait_for(1)
        (second,) = other.wait_for(1)
    finally:
        notifier.close()
        other.close()
    assert first.path == "/pixel-alerts" and second.path == "/hook" and first.body == second.body
    body = first.json
    assert body["source"] == "pixel-tui" and body["host"] == "pixel-vps-01"
    assert body["kind"] == "action" and body["target"] == "pixel-worker-3f2a9c1d" and body["level"] == "careful"
    assert body["message"] == "autoheal: kill-worker pixel-worker-3f2a9c1d: timed out"
    assert body["title"] == "pixel-tui on pixel-vps-01: action"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["time"])
    assert body["held"] == 0 and body["priority"] == 3 and body["tags"] == ["wrench", "action"]
    headers = {key.lower(): value for key, value in first.headers.items()}
    assert headers["content-type"].startswith("application/json")
    # ntfy (2.10+) fills title and message from the JSON body: a topic URL works as it is.
    assert (
        headers["x-template"] == "yes" and headers["x-title"] == "{{.title}}" and headers["x-message"] == "{{.message}}"
    )
    assert headers["x-priority"] == "3" and headers["x-tags"] == "wrench,action"
    assert notifier.counts.sent == 2 and notifier.counts.failed == 0


def test_the_host_s_own_text_never_reaches_a_header_and_is_cut_to_a_bound(receiver):
    notifier = notifier_for(receiver.url())
    name = "evil\r\nX-Injected: 1\x1b[2J"
    try:
        notifier.notify(OUTCOME, name, "x" * 5000, actor="autoheal")
        (got,) = receiver.wait_for(1)
    finally:
        notifier.close()
    assert "X-Injected" not in got.headers and got.json["target"] == name
    assert len(got.json["message"]) == 1000


def test_credentials_in_a_url_go_as_basic_auth_and_are_never_said(receiver):
    url = receiver.url().replace("http://", "http://pixel:s%40cret@")
    notifier = notifier_for(url)
    try:
        notifier.notify(CRITICAL, "host", "overall level critical")
        (got,) = receiver.wait_for(1)
    finally:
        notifier.close()
    assert got.headers["Authorization"] == "Basic cGl4ZWw6c0BjcmV0"  # pixel:s@cret
    assert where(url) == receiver.url("").rstrip("/") and "cret" not in where(url)


def test_a_cooldown_per_kind_and_target_holds_back_and_counts_and_the_next_one_says_so(receiver):
    clock = Clock()
    notifier = notifier_for(receiver.url(), cooldown_s=300, clock=clock)
    try:
        assert notifier.notify(OUTCOME, "web-1", "restart web-1: done", actor="autoheal")
        clock.now += 10
        assert not notifier.notify(OUTCOME, "web-1", "restart web-1: failed", actor="autoheal")
        assert not notifier.notify(OUTCOME, "web-1", "restart web-1: done", actor="autoheal")
        assert notifier.notify(OUTCOME, "web-2", "restart web-2: done", actor="autoheal"), "another target"
        assert notifier.notify(GIVE_UP, "web-1", "gave up on web-1", actor="autoheal"), "another kind"
        clock.now += 300
        assert notifier.notify(OUTCOME, "web-1", "restart web-1: done again", actor="autoheal")
        got = receiver.wait_for(4)
        assert notifier.wait(10)
    finally:
        notifier.close()
    assert [(r.json["kind"], r.json["target"], r.json["held"]) for r in got] == [
        ("outcome", "web-1", 0), ("outcome", "web-2", 0), ("give-up", "web-1", 0), ("outcome", "web-1", 2),
    ]  # fmt: skip
    assert (
        got[3].json["message"] == "restart web-1: done again (2 more of this kind on web-1 held back by the cooldown)"
    )
    assert notifier.counts.held == 2 and notifier.counts.sent == 4


def test_a_notice_identical_to_one_still_waiting_is_not_queued_twice(receiver):
    receiver.hold.clear()  # a slow webhook: the first notice is in flight, the rest wait
    notifier = notifier_for(receiver.url(), cooldown_s=0)
    try:
        assert notifier.notify(CRITICAL, "host", "overall level critical: swap 92.5 %")
        receiver.wait_for(1)
        assert notifier.notify(SHORT_CIRCUIT, "builtin-kill-timed-out", "matched 9 of 10 workers")
        assert not notifier.notify(SHORT_CIRCUIT, "builtin-kill-timed-out", "matched 9 of 10 workers")
        assert notifier.notify(SHORT_CIRCUIT, "builtin-kill-timed-out", "matched 10 of 10 workers")
        receiver.hold.set()
        got = receiver.wait_for(3)
        assert notifier.wait(10)
    finally:
        notifier.close()
    assert [r.json["message"] for r in got[1:]] == ["matched 9 of 10 workers", "matched 10 of 10 workers"]
    assert notifier.counts.duplicates == 1 and len(receiver.received) == 3


def test_a_5xx_is_retried_with_a_pause_and_then_delivered_once():
    receiver = Receiver(answers=[500, 503])
    notifier = notifier_for(receiver.url(), retries=2)
    try:
        notifier.notify(PROPOSAL, "kill-timed-out-workers-swap", "you killed timed-out workers 5 times in 2 days")
        assert notifier.wait(10)
    finally:
        notifier.close()
        receiver.close()
    assert len(receiver.received) == 3 and len({r.body for r in receiver.received}) == 1
    assert notifier.counts.sent == 1 and notifier.counts.failed == 0 and not notifier.take_events()


def test_retries_are_bounded_and_a_4xx_is_not_retried():
    receiver = Receiver(answers=[500, 500, 500, 500, 404])
    notifier = notifier_for(receiver.url(), retries=3)
    try:
        notifier.notify(CRITICAL, "host", "overall level critical")
        notifier.notify(CLEARED, "host", "overall level back to warning")
        assert notifier.wait(10)
    finally:
        notifier.close()
        receiver.close()
    assert len(receiver.received) == 5, "4 attempts of the first, 1 of the second"
    first, second = (event.message for event in notifier.take_events())
    assert first.endswith(f"{where(receiver.url())}: HTTP 500 Internal Server Error after 4 attempts")
    assert second.endswith(f"{where(receiver.url())}: HTTP 404 Not Found")
    assert "pixel-alerts" not in first + second, "a webhook's path may be its secret: never said"


def test_a_webhook_that_never_answers_costs_a_bounded_time_and_nobody_who_tells_waits():
    silent = Silent()
    failed: list[str] = []
    notifier = notifier_for(silent.url(), timeout_s=0.2, retries=1, on_failure=failed.append)
    observer = NotifyObserver(notifier)
    source = observer.watch(_Frames())
    try:
        started = time.monotonic()
        for number in range(5):
            assert notifier.notify(SHORT_CIRCUIT, f"rule-{number}", "matched every worker")
        steps = [source.collect() for _ in range(5)]  # collections go on while the thread waits for the webhook
        told_in = time.monotonic() - started
        assert notifier.wait(30)
        settled_in = time.monotonic() - started
    finally:
        notifier.close()
        silent.close()
    assert told_in < 0.1, f"5 notices and 5 collections took {told_in:.3f} s: someone waited for the webhook"
    # 6 notices (the collections saw the level reach critical) x (2 attempts of 0.2 s + a 0.01 s pause): bounded
    assert 6 * 0.4 <= settled_in < 6 * 0.4 + 3
    assert len(failed) == 6 and "no answer within 0.2 s after 2 attempts" in failed[0]
    assert "the critical notice on host was not delivered" in failed[-1]
    assert len(steps) == 5 and steps[-1].levels.overall is Level.CRITICAL


def test_a_failed_delivery_is_an_event_of_the_next_collection_and_a_line_on_stderr_headless(capsys):
    silent = Silent()
    url = silent.url()
    silent.close()  # nothing listens there any more: the connection is refused
    settings = replace(Settings(), notify=NotifySettings(webhooks=(url,), retries=0, timeout_s=1))
    observer = observe(settings, headless=True)
    source = observer.watch(_Frames())
    try:
        assert entry.installed() is observer.notifier
        assert entry.notify(PROPOSAL, "kill-timed-out", "a new proposal")
        assert observer.notifier.wait(10)
        snapshot = source.collect()
    finally:
        observer.close()
    (event,) = [event for event in snapshot.events if event.kind == "notify-failed"]
    assert event.level is Level.WARNING and event.message.startswith("notify: the proposal notice on kill-timed-out")
    assert "cannot connect" in event.message
    assert capsys.readouterr().err == f"pixel-tui: {event.message}\n"
    assert entry.installed() is None and not entry.notify(PROPOSAL, "x", "nobody to tell")


def test_a_full_queue_drops_counts_and_says_so_once(receiver):
    receiver.hold.clear()
    notifier = notifier_for(receiver.url(), cooldown_s=0, queue_size=3)
    try:
        queued = [notifier.notify(SHORT_CIRCUIT, f"rule-{n}", "systemic") for n in range(10)]
        receiver.hold.set()
        assert notifier.wait(10)
    finally:
        notifier.close()
    assert queued.count(True) >= 3 and notifier.counts.dropped == queued.count(False) >= 6
    (overflow,) = notifier.take_events()
    assert "3 notifications wait already" in overflow.message


def test_the_overall_level_reaching_critical_and_clearing_is_told_once_each(receiver):
    settings = replace(Settings(), notify=NotifySettings(webhooks=(receiver.url(),)))
    observer = observe(settings, headless=False)
    source = observer.watch(_Frames())
    try:
        levels = [source.collect().levels.overall for _ in range(8)]
        got = receiver.wait_for(2)
        assert observer.notifier.wait(10)
    finally:
        observer.close()
    assert levels == [Level.WARNING] * 2 + [Level.CRITICAL] * 3 + [Level.WARNING] * 3
    assert len(receiver.received) == 2
    critical, cleared = (r.json for r in got)
    assert critical["kind"] == "critical" and critical["target"] == "host" and critical["level"] == "critical"
    assert critical["message"] == "overall level critical: swap 88.0 % (critical from 80 %)"
    assert critical["priority"] == 5 and critical["host"] == "pixel-vps-01"
    assert cleared["kind"] == "cleared" and cleared["message"].startswith("overall level back to warning after ")


def test_no_notice_for_a_person_s_own_action_and_autoheal_s_give_up_is_one(receiver):
    notifier = notifier_for(receiver.url(), cooldown_s=0)
    observer = NotifyObserver(notifier)
    step = Step("restart", Target("container", "c0ffee" * 8, "web-1"), "restart web-1 (c0ffeec0ffee)", "unhealthy")
    plan = Plan("container.restart", (step,), None, {})
    try:
        observer.begun(plan, step, "alice@ops-laptop")
        observer.told(plan, Outcome(step, OK), "alice@ops-laptop")
        assert not notifier.notify(OUTCOME, "web-1", "pressed r", actor="alice@ops-laptop")
        observer.begun(plan, step, "autoheal")
        observer.told(plan, Outcome(step, OK), "autoheal")
        observer.told(plan, Outcome(step, REFUSED, f"{GAVE_UP} web-1: 3 actions in 30 minutes"), "autoheal")
        got = receiver.wait_for(3)
        assert notifier.wait(10)
    finally:
        notifier.close()
    assert [(r.json["kind"], r.json["message"]) for r in got] == [
        ("action", "autoheal: restart web-1 (c0ffeec0ffee): unhealthy"),
        ("outcome", "autoheal: restart web-1 (c0ffeec0ffee): done"),
        ("give-up", f"{GAVE_UP} web-1: 3 actions in 30 minutes"),
    ]
    assert len(receiver.received) == 3 and notifier.counts.persons == 3


def test_without_webhooks_nothing_is_queued_and_no_thread_starts():
    observer = observe(Settings(), headless=True)
    assert not observer.notifier.enabled and entry.installed() is None
    assert not entry.notify(CRITICAL, "host", "nobody listens")
    assert not observer.notifier.notify(CRITICAL, "host", "nobody listens")
    assert observer.notifier._thread is None
    assert delivery_bound(NotifySettings()) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('webhooks = "https://ntfy.sh/x"', "notify.webhooks: expected a list of http(s) URLs"),
        ('webhooks = ["file:///etc/passwd"]', "expected an http:// or https:// URL with a host"),
        ('webhooks = ["https://"]', "expected an http:// or https:// URL with a host"),
        ('webhooks = ["https://ntfy.sh/a b"]', "a URL has no spaces or control characters"),
        ('webhooks = ["https://ntfy.sh:99999/x"]', "not a URL"),
        ('webhooks = ["https://ntfy.sh/x", "https://ntfy.sh/x"]', "listed twice"),
        ("retries = 11", "notify.retries: must be from 0 to 10, got 11"),
        ("timeout_s = 0", "notify.timeout_s: must be from 0.1 to 300, got 0"),
    ],
)
def test_a_bad_notify_key_is_refused_naming_it(text, message):
    import tomllib

    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_settings(tomllib.loads(f"[notify]\n{text}\n"))


def test_good_notify_keys_are_read():
    import tomllib

    text = '[notify]\nwebhooks = ["https://ntfy.sh/pixel-alerts", "http://[::1]:8080/hook"]\ncooldown_s = 0\n'
    settings = parse_settings(tomllib.loads(text)).notify
    assert settings == NotifySettings(webhooks=("https://ntfy.sh/pixel-alerts", "http://[::1]:8080/hook"), cooldown_s=0)
    assert where(settings.webhooks[1]) == "http://[::1]:8080"


def test_what_it_remembers_of_targets_that_come_and_go_stays_bounded():
    class Taken:
        def send(self, url: str, notice: Any) -> None:
            return None

    clock = Clock()
    settings = NotifySettings(webhooks=("http://127.0.0.1:9/never-asked",), cooldown_s=60)
    notifier = Notifier(settings, host="pixel-vps-01", sender=Taken(), clock=clock, queue_size=10_000)
    try:
        for number in range(5000):  # a worker a second for over an hour, each killed, each told
            clock.now += 1
            assert notifier.notify(OUTCOME, f"pixel-worker-{number:08x}", "kill-worker: done", actor="autoheal")
        assert notifier.wait(30)
    finally:
        notifier.close()
    assert notifier.remembered <= 1000 and notifier.counts.sent == 5000


def test_a_read_only_executor_is_not_listened_to():
    class Executor:
        read_only = True
        listened = False

        def listen(self, *args: Any, **kwargs: Any) -> None:
            self.listened = True

    executor = Executor()
    NotifyObserver(notifier_for()).listen(executor)
    assert not executor.listened
    executor.read_only = False
    NotifyObserver(notifier_for()).listen(executor)
    assert executor.listened


class _Frames:
    """The crisis arc's frames, one per collection (warning, critical x3, warning), then the last again."""

    def __init__(self) -> None:
        self.frames = list(crisis_frames())[-8:]

    def collect(self):
        return self.frames.pop(0) if len(self.frames) > 1 else self.frames[0]

    def close(self) -> None:
        pass
