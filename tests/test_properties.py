"""Property-based tests: every parser of untrusted input, and the text boundary, over generated input.

What must hold whatever a container's owner or the ledger's writer puts in: no exception other than
the parser's own refusal escapes, numbers are finite and in range, JSON output stays valid, and no
control character reaches text meant for a terminal. `pytest --hypothesis-show-statistics` reports
how many cases ran.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import re
import tomllib
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel_tui.domain import WorkerTracker
from pixel_tui.headless import render_table, status_line
from pixel_tui.ledger import LedgerError, TaskIndex, parse_ledger, read_lock
from pixel_tui.model import Container, Levels, LockState, Snapshot, workers_level
from pixel_tui.safe import displayable, printable, printable_lines, sgr_only
from pixel_tui.schema import dumps, to_json
from pixel_tui.settings import ConfigError, Settings, WorkerSettings, parse_settings
from pixel_tui.values import EARLIEST, LATEST, MAX_SECONDS, BadValue, parse_seconds, parse_time
from tests.scripted import crisis_frame

CASES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 1, 3, 12, 0, tzinfo=UTC)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x1b", "\x07", "\x9b", "\x9d", "\r", "\n", "\t", "\u202e", "\u2028", "[", "]", ";", "m"]),
    ),
    max_size=60,
)
"""Text heavy in escape sequences and control characters, among any other Unicode."""
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE,
    st.sampled_from(["2026-01-03T09:21:07Z", "0001-01-01T00:30:00+05:00", "9999-12-31T23:59:59-05:00", "12", "inf"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE, inner, max_size=4), max_leaves=12
)
TASK_FIELDS = st.sampled_from(
    [
        "id",
        "status",
        "createdAt",
        "startedAt",
        "completedAt",
        "started_at",
        "workerId",
        "worker",
        "timeoutSeconds",
        "timeout_s",
        "type",
        "error",
    ]  # fmt: skip
)
TASKS = st.lists(st.dictionaries(TASK_FIELDS, JSON_SCALARS, max_size=8), max_size=6)


@CASES
@given(HOSTILE)
def test_printable_sends_no_control_character_and_keeps_clean_text(text):
    shown = printable(text)
    assert CONTROL.search(shown) is None
    if CONTROL.search(text) is None:
        assert shown == text
    assert "\x1b" not in printable_lines(text) and CONTROL.search(printable_lines(text).replace("\n", "")) is None


def _strings(value: object) -> list[str]:
    """Every string inside a value: dataclass fields, tuples, mappings' keys and values."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for pair in value.items() for text in _strings(pair)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [text for field in dataclasses.fields(value) for text in _strings(getattr(value, field.name))]
    return []


# Any field of a container, typed text or not: a broken or hostile engine may put text where a number belongs.
CONTAINER_FIELDS = st.fixed_dictionaries(
    {name: HOSTILE for name in ("id", "name", "image", "state")},
    optional={
        "health": HOSTILE,
        "restarts": st.one_of(st.integers(), HOSTILE),
        "cpu_percent": st.one_of(st.floats(), HOSTILE),
        "mem_used": st.one_of(st.integers(), HOSTILE),
        "labels": st.dictionaries(HOSTILE, HOSTILE, max_size=4),
    },
)


UNMEASURED = dict.fromkeys(("health", "started_at", "restarts", "cpu_percent", "mem_used", "mem_limit"))


@CASES
@given(st.lists(CONTAINER_FIELDS, max_size=4), HOSTILE)
def test_displayable_leaves_no_control_character_in_any_string_of_a_snapshot(containers, hostname):
    frame = crisis_frame(14)
    snapshot = dataclasses.replace(
        frame,
        host=dataclasses.replace(frame.host, hostname=hostname),
        containers=tuple(Container(**{**UNMEASURED, **fields}) for fields in containers) + frame.containers,
    )
    shown = displayable(snapshot)
    assert all(CONTROL.search(text) is None for text in _strings(shown))
    if all(CONTROL.search(text) is None for text in _strings(snapshot)):
        assert shown is snapshot  # nothing to escape: the very same object, no copy
    assert displayable(shown) is shown


@CASES
@given(HOSTILE)
def test_a_log_keeps_only_colour_sequences(text):
    shown = sgr_only(text)
    without_colours = re.sub(r"\x1b\[[0-9;:]*m", "", shown)
    assert CONTROL.search(without_colours.replace("\n", "")) is None


@CASES
@given(JSON_SCALARS)
def test_seconds_are_finite_and_in_range_or_refused(value):
    try:
        seconds = parse_seconds(value)
    except BadValue:
        return
    assert seconds is None or (math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS)


@CASES
@given(st.one_of(JSON_SCALARS, st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())))
def test_times_are_utc_and_plausible_or_refused(value):
    try:
        moment = parse_time(value)
    except BadValue:
        return
    assert moment is None or (moment.tzinfo is not None and EARLIEST <= moment < LATEST)


@CASES
@given(st.one_of(st.binary(max_size=200), JSON_VALUES.map(lambda doc: json.dumps(doc).encode())))
def test_any_ledger_bytes_are_read_or_refused(data):
    try:
        index = parse_ledger(data)
    except LedgerError:
        return
    for task in index:
        assert task.timeout_s is None or math.isfinite(task.timeout_s)


@CASES
@given(TASKS, st.lists(st.dictionaries(st.sampled_from(["pixel.task", "pixel.timeout", "pixel.role"]), HOSTILE)))
def test_workers_from_any_ledger_and_labels_give_valid_json_and_clean_text(tasks, label_sets):
    for position, task in enumerate(tasks):
        task.setdefault("id", f"task-{position}")
        task["id"] = str(task["id"]) or f"task-{position}"
    data = json.dumps({"tasks": tasks}).encode()
    try:
        index = parse_ledger(data)
    except LedgerError:
        index = TaskIndex([])
    containers = [
        Container(
            f"{position:064x}",
            f"pixel-worker-{position:08x}",
            "img",
            "running",
            None,
            NOW - timedelta(seconds=90),
            0,
            None,
            None,
            None,
            labels,
        )  # fmt: skip
        for position, labels in enumerate(label_sets)
    ]
    timeouts = {c.id: label.get("pixel.timeout") for c, label in zip(containers, label_sets, strict=True)}
    tracker = WorkerTracker(WorkerSettings(ghost_grace_s=1.0))
    workers = tracker.workers(containers, timeouts, index, NOW)
    base = crisis_frame(14)
    lock = LockState("/lock", "x", None, stale=False)
    snapshot = Snapshot(
        taken_at=NOW,
        host=base.host,
        levels=Levels.of(base.host, Settings().thresholds, workers=workers_level(workers, lock)),
        docker=base.docker,
        containers=tuple(containers),
        workers=workers,
        lock=lock,
        errors=tracker.problems + index.problems(),
    )
    for worker in workers:
        assert math.isfinite(worker.timeout_s) and worker.timeout_s > 0
    json.loads(dumps(to_json(snapshot)), parse_constant=_no_constants)
    for text in (render_table(snapshot), status_line(snapshot)):
        assert CONTROL.search(text.replace("\n", "")) is None
    assert displayable(displayable(snapshot)) == displayable(snapshot)


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


@CASES
@given(st.binary(max_size=120) | JSON_VALUES.map(lambda doc: json.dumps(doc).encode()))
def test_any_lock_file_is_read_or_reported(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("lock") / "worker.lock"
    path.write_bytes(data)
    reading = read_lock(path)
    assert reading.error is not None or reading.task_id is None or isinstance(reading.task_id, str)


TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE,
    st.lists(st.floats(allow_nan=True), max_size=4),
)
SECTIONS = st.sampled_from(["thresholds", "workers", "history", "ui", "keys", "disks", "nonsense"])
KEYS = st.sampled_from(
    [
        "interval",
        "cpu",
        "swap",
        "ledger",
        "name_pattern",
        "cycle_s",
        "theme",
        "events",
        "mounts",
        "app.quit",
        "ledger_max_bytes",
        "kill_grace_s",
        "bogus",
    ]  # fmt: skip
)
CONFIGS = st.dictionaries(
    st.one_of(KEYS, SECTIONS), st.one_of(TOML_SCALARS, st.dictionaries(KEYS, TOML_SCALARS, max_size=4)), max_size=5
)


@CASES
@given(CONFIGS)
def test_any_config_is_settings_or_a_config_error(document):
    try:
        result = parse_settings(document, "generated.toml")
    except ConfigError as error:
        assert "generated.toml" in str(error)
        return
    assert 0.1 <= result.interval <= 3600


@CASES
@given(st.text(max_size=200))
def test_any_config_text_is_settings_or_a_config_error(text):
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    with contextlib.suppress(ConfigError):
        parse_settings(document)


THEME_KEYS = st.sampled_from(
    [
        "name",
        "primary",
        "secondary",
        "background",
        "foreground",
        "dark",
        "luminosity_spread",
        "text_alpha",
        "boost",
        "warning",
        "bogus",
    ]  # fmt: skip
)
THEME_VALUES = st.one_of(
    st.sampled_from(["#4FB3FF", "red", "rgb(1,2,3)", "not a colour", "", "pixel"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    HOSTILE,
)


@CASES
@given(
    st.dictionaries(THEME_KEYS, THEME_VALUES, max_size=8),
    st.dictionaries(st.sampled_from(["gauge-ok", "gauge-critical", "block-cursor-foreground", "x"]), THEME_VALUES),
)
def test_any_theme_file_is_a_usable_theme_or_a_theme_error(fields, variables):
    from pixel_tui.ui.themes import ThemeError, parse_theme, theme_variables

    lines = [f"{key} = {_toml(value)}" for key, value in fields.items()]
    lines += ["[variables]"] + [f'"{key}" = {_toml(value)}' for key, value in variables.items()]
    text = "\n".join(lines)
    try:
        theme = parse_theme(text, "generated.toml")
    except ThemeError as error:
        assert "generated.toml" in str(error)
        return
    assert all(math.isfinite(value) for value in (theme.luminosity_spread, theme.text_alpha))
    theme_variables(theme)  # the colour system builds


def _toml(value: object) -> str:
    """A TOML scalar: JSON's form, but TOML's own `nan`, `inf` and `-inf` (a theme file may say `nan`)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return json.dumps(value)
