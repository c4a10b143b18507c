"""The fleet view reads Prometheus: two real exporters scraped by a real Prometheus, then what it shows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from pixel_tui.fleet.hosts import read_fleet
from pixel_tui.fleet.prom import PromClient, PromError
from pixel_tui.settings import FleetSettings
from tests.prometheus import PROMETHEUS, Exporter, Prometheus, free_port, host_config
from tests.remediation import past_its_timeout
from tests.test_cli import MISSING
from tests.test_remediate_engine import STUCK_TASK, ago, timed_out_worker

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None and not os.environ.get("PIXEL_TUI_REQUIRE_DOCKER"), reason="prometheus (Debian) absent"
)
GHOST = "dddddddd-0000-4000-8000-000000000004"


def fleet_json(url: str, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pixel_tui", "fleet", "--prometheus", url, "--json", *extra],
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def poll(check, within_s: float, pause_s: float = 0.5):
    """Call `check` until it returns something true; that, or fail after `within_s`."""
    deadline = time.monotonic() + within_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(pause_s)
    raise AssertionError(f"not within {within_s:g} s: {last!r}")


@pytest.fixture
def two_hosts(engine, tmp_path):
    """Host a: the private engine, a worker past its timeout and a stale lock; host b: no engine at all."""
    for host in ("a", "b"):
        (tmp_path / host).mkdir()
    past_its_timeout(timed_out_worker(engine))
    tasks = [{"id": STUCK_TASK, "status": "running", "startedAt": ago(600)},
             {"id": GHOST, "status": "running", "startedAt": ago(600)}]  # fmt: skip
    lock = json.dumps({"taskId": GHOST, "createdAt": ago(600)})
    a = Exporter(host_config(tmp_path / "a", tasks, lock=lock), engine.url, tmp_path / "a" / "home")
    b = Exporter(host_config(tmp_path / "b"), MISSING, tmp_path / "b" / "home")
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_fleet_json_shows_both_hosts_and_one_going_down(two_hosts, tmp_path):
    a, b = two_hosts
    ia, ib = f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"
    with Prometheus(tmp_path / "prometheus", [a, b]) as server:
        server.until("pixel_tui_engine_up", {ia: 1.0, ib: 0.0}, within_s=40)

        def hosts():
            result = fleet_json(server.url)
            assert result.returncode == 0, result.stderr
            return {h["instance"]: h for h in json.loads(result.stdout)["hosts"]}

        seen = hosts()
        assert set(seen) == {ia, ib}
        cells = {key: cell["value"] for key, cell in seen[ia]["cells"].items()}
        assert cells["timed_out"] == 1 and cells["phantoms"] == 1 and cells["lock"] == 2  # held and stale
        assert cells["engine"] == 1 and cells["overall"] == 2  # warning: the workers
        assert seen[ib]["cells"]["engine"] == {"value": 0.0, "state": "ok"}
        assert 0 <= cells["scraped"] < 10
        b.stop()
        down = poll(lambda: (h := hosts()) and not h[ib]["up"] and h, within_s=15)
        assert down[ib]["cells"]["overall"] == {"value": None, "state": "down"}  # never a zero
        assert down[ib]["cells"]["scraped"]["state"] == "ok"  # how long since it last answered
        assert down[ia]["up"] and down[ia]["cells"]["timed_out"]["value"] == 1


def test_query_errors_timeouts_and_an_unreachable_prometheus_are_said_for_what_they_are(tmp_path):
    with Prometheus(tmp_path / "prometheus", []) as server:
        poll(lambda: _answers(server.url), within_s=30)
        bad = fleet_json(server.url, "--job", 'x"y')
        assert bad.returncode == 3
        assert "HTTP 400" in bad.stderr and "parse error" in bad.stderr  # Prometheus' own words
        empty = read_fleet(PromClient(server.url), "pixel-tui")
        assert empty.hosts == () and empty.problem is None
    gone = fleet_json(f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 3 and "cannot reach" in gone.stderr and "Connection refused" in gone.stderr
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = PromClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.5, retries=0)
        started = time.monotonic()
        with pytest.raises(PromError, match=r"no answer within 0\.5 s") as raised:
            client.query("up")
        assert raised.value.kind == "timeout" and time.monotonic() - started < 3


def _answers(url: str) -> bool:
    try:
        PromClient(url, retries=0).query("up")
    except PromError:
        return False
    return True


def test_basic_auth_is_sent_and_a_refusal_says_so(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    config = tmp_path / "config.toml"
    with Prometheus(tmp_path / "prometheus", [], users={"pixel": "s3cret"}) as server:
        poll(lambda: _answers_with(server.url, ("pixel", "s3cret")), within_s=30)
        config.write_text(f'[fleet]\nprometheus = "{server.url}"\nusername = "pixel"\npassword_file = "{secret}"\n')
        allowed = subprocess.run([sys.executable, "-m", "pixel_tui", "--config", str(config), "fleet", "--json"],
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
        assert allowed.returncode == 0, allowed.stderr
        refused = fleet_json(server.url)
        assert refused.returncode == 3 and "HTTP 401" in refused.stderr and "check the token" in refused.stderr
    config.write_text(f'[fleet]\nprometheus = "{server.url}"\nusername = "pixel"\npassword_file = "{tmp_path}/nope"\n')
    missing = subprocess.run([sys.executable, "-m", "pixel_tui", "--config", str(config), "fleet", "--json"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert missing.returncode == 3 and "fleet.password_file: cannot read" in missing.stderr


def _answers_with(url: str, auth: tuple[str, str]) -> bool:
    try:
        PromClient(url, retries=0, basic_auth=auth).query("up")
    except PromError:
        return False
    return True


async def test_the_fleet_view_sorts_filters_and_opens_a_host(two_hosts, tmp_path):
    from textual.widgets import Input

    from pixel_tui.ui.detail import DetailScreen
    from pixel_tui.ui.fleet import FleetApp, FleetTable

    a, b = two_hosts
    ia, ib = f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"
    with Prometheus(tmp_path / "prometheus", [a, b]) as server:
        server.until("pixel_tui_engine_up", {ia: 1.0, ib: 0.0}, within_s=40)
        app = FleetApp(PromClient(server.url), FleetSettings(prometheus=server.url, refresh_s=1.0))
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.query_one(FleetTable)
            deadline = time.monotonic() + 20
            while len(table.row_keys) < 2 and time.monotonic() < deadline:
                await pilot.pause(0.2)
            assert table.row_keys == [ia, ib]  # by level: a is warning, b ok
            row = dict(zip([k for k, _, _ in FleetTable.COLUMNS], table.get_row(ia), strict=True))
            assert row["timed_out"].plain.strip() == "1" and row["lock"].plain.strip() == "STALE"
            await pilot.press("s")  # by host name
            assert table.sort_by == "host"
            await pilot.press("slash")
            box = app.query_one("#fleet-filter", Input)
            box.value = str(b.port)
            await pilot.pause()
            assert table.row_keys == [ib]
            await pilot.press("enter")  # keeps the filter, back to the table
            await pilot.press("escape")
            box.value = ""
            await pilot.pause()
            await pilot.press("enter")  # the selected host's detail
            deadline = time.monotonic() + 20
            while not isinstance(app.screen, DetailScreen) and time.monotonic() < deadline:
                await pilot.pause(0.2)
            assert isinstance(app.screen, DetailScreen)
            titles = [title for title, _ in app.screen.sections]
            assert titles[:1] == ["Now"] and "Acting on it" in titles
            trend = dict(dict(app.screen.sections)["The last hour (a minute per character)"])
            assert set(trend) == {"level", "timed out", "phantoms"}
