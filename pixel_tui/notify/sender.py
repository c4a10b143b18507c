"""One notice to one webhook: a JSON POST with a timeout, and bounded retries with a growing pause. Stdlib only.

A delivery never raises: it returns None when the webhook took the notice, else why not, in words. Retried:
no connection, a timeout, a 5xx, 408 and 429 (the receiver may take it later). Not retried: another 4xx (the
request is wrong, a second try would be too) and a redirect (a POST that moved is not followed: the body would
be dropped or sent somewhere else). A URL's path and query often hold its secret (an ntfy topic is a
password, a Slack hook's path is a token): what is said of a webhook is only `where(url)`, its scheme and host.
"""

from __future__ import annotations

import base64
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from pixel_tui.notify.notice import Notice

RETRIED_STATUS = frozenset({408, 429})
"""4xx answers worth another try; every 5xx is too."""
BACKOFF_S = 1.0
"""The pause before the first retry; each next one is twice as long, at most BACKOFF_MAX_S."""
BACKOFF_MAX_S = 30.0


def where(url: str) -> str:
    """The webhook as it may be shown: `https://ntfy.sh`, without the path, query or credentials that are its secret."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A POST that is redirected fails (HTTPError 3xx) rather than going, without its body, somewhere else."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


@dataclass(frozen=True)
class Attempted:
    """What became of one attempt: None when the notice was taken, else why not, and whether to try again."""

    error: str | None
    again: bool = False


class WebhookSender:
    """Posts notices to webhooks; `send` makes at most `1 + retries` attempts, each within `timeout_s`."""

    def __init__(
        self,
        *,
        timeout_s: float,
        retries: int,
        backoff_s: float = BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep

    def send(self, url: str, notice: Notice) -> str | None:
        """Deliver `notice` to `url`: None when it was taken, else why it was not after the last attempt."""
        pause = self.backoff_s
        attempts = 0
        while True:
            attempts += 1
            result = self.attempt(url, notice)
            if result.error is None:
                return None
            if not result.again or attempts > self.retries:
                tries = f" after {attempts} attempts" if attempts > 1 else ""
                return f"{where(url)}: {result.error}{tries}"
            self._sleep(pause)
            pause = min(pause * 2, BACKOFF_MAX_S)

    def attempt(self, url: str, notice: Notice) -> Attempted:
        """One POST of the notice's body."""
        target, headers = _without_credentials(url)
        request = urllib.request.Request(target, data=notice.body(), method="POST")
        for name, value in (notice.headers() | headers).items():
            request.add_header(name, value)
        try:
            with _OPENER.open(request, timeout=self.timeout_s) as answer:
                answer.read(64 * 1024)  # the answer is not needed; reading it lets the connection close cleanly
            return Attempted(None)
        except urllib.error.HTTPError as error:
            status = error.code
            again = status >= 500 or status in RETRIED_STATUS
            return Attempted(f"HTTP {status} {error.reason}".rstrip(), again=again)
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError):
                return Attempted(f"no answer within {self.timeout_s:g} s", again=True)
            return Attempted(f"cannot connect: {getattr(reason, 'strerror', None) or reason}", again=True)
        except TimeoutError:
            return Attempted(f"no answer within {self.timeout_s:g} s", again=True)
        except (OSError, http.client.HTTPException, ValueError) as error:
            return Attempted(f"{type(error).__name__}: {error}", again=True)


def _without_credentials(url: str) -> tuple[str, dict[str, str]]:
    """The URL without `user:password@`, and the Basic authorization header they stand for (ntfy's access control)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    header = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    return urlunsplit(parts._replace(netloc=netloc)), header
