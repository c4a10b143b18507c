"""A small client of Prometheus' HTTP API (instant and range queries) that says what went wrong.

A query error is Prometheus' own text (`bad_data`, `execution`, `timeout`, with the HTTP status), a timeout
is a timeout, a refused connection is that; the API's `warnings` are kept. Nothing is ever turned into
"no data" or a zero.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

RETRIED_STATUSES = frozenset({502, 503, 504})
"""Answers worth one more try (Prometheus starting, a proxy in between); 400 and 422 are final."""


class PromError(Exception):
    """A query that did not give a result; the message says why, in Prometheus' words when it gave some."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind
        """"timeout", "unreachable", "http" or the API's errorType (bad_data, execution, ...)."""


@dataclass(frozen=True)
class Series:
    """One series of a result: its labels and its (time, value) points (one for an instant query)."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]

    @property
    def value(self) -> float:
        """The last point's value."""
        return self.points[-1][1]


@dataclass(frozen=True)
class Result:
    """A query's series and the warnings the API gave with them."""

    series: tuple[Series, ...]
    warnings: tuple[str, ...] = ()

    def by(self, label: str = "instance") -> dict[str, float]:
        """The last value of each series, by one label's value (series without it are left out)."""
        return {s.labels[label]: s.value for s in self.series if label in s.labels}


@dataclass
class PromClient:
    """Prometheus at `url` (the base, e.g. http://prometheus:9090), with a timeout and bounded retries."""

    url: str
    timeout_s: float = 5.0
    retries: int = 2
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    retry_pause_s: float = 0.3
    _headers: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"not an http(s) URL: {self.url!r}")
        self.url = self.url.rstrip("/")
        self._headers = {"Accept": "application/json", "User-Agent": "pixel-tui fleet"}
        if self.bearer_token:
            self._headers["Authorization"] = f"Bearer {self.bearer_token}"
        elif self.basic_auth:
            token = base64.b64encode(":".join(self.basic_auth).encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"

    def query(self, promql: str, at: float | None = None) -> Result:
        """An instant query."""
        params = {"query": promql} | ({"time": f"{at:.3f}"} if at is not None else {})
        return self._get("/api/v1/query", params)

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> Result:
        """A range query, points `step_s` apart from `start` to `end` (Unix seconds)."""
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s:g}"}
        return self._get("/api/v1/query_range", params)

    def _get(self, path: str, params: dict[str, str]) -> Result:
        request = urllib.request.Request(f"{self.url}{path}?{urllib.parse.urlencode(params)}", headers=self._headers)
        attempt = 0
        while True:
            try:
                return _parse(self._fetch(request))
            except PromError as error:
                retry = error.kind in ("unreachable", "retry") and attempt < self.retries
                if not retry:
                    raise
            attempt += 1
            time.sleep(self.retry_pause_s * attempt)

    def _fetch(self, request: urllib.request.Request) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            body = error.read()
            message, kind = _api_error(body)
            text = f"HTTP {error.code}: {message or error.reason}"
            if error.code in (401, 403):
                raise PromError(f"{text} (check the token or the user and password)", kind="auth") from None
            if error.code in RETRIED_STATUSES and kind in (None, "unavailable"):
                raise PromError(text, kind="retry") from None
            raise PromError(text, kind=kind or "http") from None
        except TimeoutError:
            raise PromError(f"no answer within {self.timeout_s:g} s", kind="timeout") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise PromError(f"no answer within {self.timeout_s:g} s", kind="timeout") from None
            reason = getattr(error.reason, "strerror", None) or str(error.reason)
            raise PromError(f"cannot reach {self.url}: {reason}", kind="unreachable") from None
        except OSError as error:
            raise PromError(f"cannot reach {self.url}: {error.strerror or error}", kind="unreachable") from None


def _api_error(body: bytes) -> tuple[str | None, str | None]:
    """Prometheus' own error text and type from an error body, when it is the API's JSON."""
    try:
        document = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    error, kind = document.get("error"), document.get("errorType")
    return (str(error) if error else None), (str(kind) if kind else None)


def _parse(body: bytes) -> Result:
    try:
        document = json.loads(body)
    except ValueError:
        raise PromError("the answer is not JSON: is the URL Prometheus' own?", kind="http") from None
    if not isinstance(document, dict) or document.get("status") != "success":
        message, kind = _api_error(body)
        raise PromError(message or "the answer is not a Prometheus API result", kind=kind or "http")
    data = document.get("data") or {}
    series: list[Series] = []
    for item in data.get("result") or ():
        raw = item.get("values") or ([item["value"]] if "value" in item else [])
        points = tuple((float(t), float(v)) for t, v in raw)
        if points:
            series.append(Series(dict(item.get("metric") or {}), points))
    return Result(tuple(series), tuple(str(w) for w in document.get("warnings") or ()))
