"""Talking to the hub over HTTP: the API key header, error bodies, and bounded retries.

Functions take an ``httpx.Client`` whose ``base_url`` is the hub (a FastAPI ``TestClient``
is one too), so the same code runs against a real hub, an in-process one and a fake. The
API key is sent only in the ``Authorization`` header and never appears in any message."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

TRANSIENT_STATUSES = frozenset({502, 503, 504})
"""Answers after which nothing was stored and the same request may simply be sent again."""
TRANSIENT_CODES = frozenset({"concurrent_write"})
"""Error codes meaning "nothing was stored, send it again" whatever the status (the hub's
409 when another request wrote the same records at the same moment)."""
RATE_LIMITED = 429


class HubError(Exception):
    """The hub refused a request. ``details`` are the hub's per-record reasons."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"the hub answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.retry_after = retry_after


class HubUnreachableError(Exception):
    """The hub could not be reached, or stayed unavailable, after every retry. Nothing is
    known to be lost: sending the same request again is safe."""

    def __init__(self, attempts: int, last: str) -> None:
        super().__init__(f"the hub did not answer after {attempts} attempt(s) (last: {last})")
        self.attempts = attempts
        self.last = last


@dataclass
class RetryPolicy:
    """Bounded exponential backoff with jitter; a ``Retry-After`` from the hub is honoured
    (up to ``max_retry_after``). ``sleep`` is injectable so tests do not wait."""

    attempts: int = 6
    """Tries per request when the network fails or the hub is unavailable (502/503/504)."""
    rate_limited_attempts: int = 60
    """Tries per request when the hub says 429 (rate limited): waiting is the expected path."""
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))
    jitter: Callable[[], float] = field(default=random.random)

    def backoff(self, failures: int) -> float:
        """Delay after the ``failures``-th failure: half fixed, half random."""
        delay = min(self.max_delay, self.base_delay * 2 ** (failures - 1))
        return float(delay * (0.5 + 0.5 * self.jitter()))

    def wait(self, failures: int, retry_after: float | None) -> None:
        if retry_after is not None:
            self.sleep(min(max(retry_after, 0.0), self.max_retry_after))
        else:
            self.sleep(self.backoff(failures))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def display_url(url: str) -> str:
    """A URL safe to print or store: any user name and password in it are dropped."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "(an invalid URL)"
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return str(parsed).rstrip("/")


def check_api_key(key: str) -> str:
    """The key stripped, or ValueError when it is not shaped like ``shk_<16 hex>_<secret>``
    (the message never repeats the key)."""
    key = key.strip()
    parts = key.split("_", 2)
    if (
        len(parts) != 3
        or parts[0] != "shk"
        or len(parts[1]) != 16
        or not all(c in "0123456789abcdef" for c in parts[1])
        or not parts[2]
        or any(c.isspace() for c in key)
    ):
        raise ValueError("not a Safehold API key (expected shk_<16 hex>_<secret> on one line)")
    return key


@dataclass(frozen=True)
class Whoami:
    key_id: str
    role: str
    member_id: str | None


class HubApi:
    """One hub, one API key, one retry policy."""

    def __init__(self, http: httpx.Client, api_key: str, retry: RetryPolicy | None = None) -> None:
        self.http = http
        self._headers = {"Authorization": f"Bearer {check_api_key(api_key)}"}
        self.retry = retry or RetryPolicy()

    def __repr__(self) -> str:
        return f"HubApi(hub={self.hub_url!r})"

    @property
    def hub_url(self) -> str:
        """The hub's base URL, without a trailing slash (names the hub in journals)."""
        return display_url(str(self.http.base_url))

    def whoami(self) -> Whoami:
        body = self.request("GET", "/v1/me")
        return Whoami(
            key_id=str(body.get("key_id", "")),
            role=str(body.get("role", "")),
            member_id=body.get("member_id"),
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request, retrying network failures, 502/503/504 and 429 within the
        policy; return the JSON body of a 2xx answer, or raise HubError / HubUnreachableError.
        Only send requests that are safe to repeat (reads, and idempotent batch posts)."""
        failures = 0
        rate_limited = 0
        while True:
            try:
                response = self.http.request(
                    method,
                    path,
                    content=content,
                    json=json,
                    headers={**self._headers, **(headers or {})},
                )
            except httpx.TransportError as exc:
                failures += 1
                if failures >= self.retry.attempts:
                    raise HubUnreachableError(failures, _transport_reason(exc)) from None
                self.retry.wait(failures, None)
                continue
            if response.is_success:
                return _json_object(response)
            error = _hub_error(response)
            if response.status_code == RATE_LIMITED:
                rate_limited += 1
                if rate_limited >= self.retry.rate_limited_attempts:
                    raise error
                self.retry.wait(rate_limited, error.retry_after)
                continue
            if response.status_code in TRANSIENT_STATUSES or error.code in TRANSIENT_CODES:
                failures += 1
                if failures >= self.retry.attempts:
                    raise HubUnreachableError(
                        failures, f"{response.status_code} {error.code}: {error.message}"
                    ) from None
                self.retry.wait(failures, error.retry_after)
                continue
            raise error


def _transport_reason(exc: httpx.TransportError) -> str:
    """The kind of failure only: httpx messages can quote the URL."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    return f"network error ({type(exc).__name__})"


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise HubError(
            response.status_code, "bad_response", "the hub's answer was not JSON"
        ) from None
    if not isinstance(body, dict):
        raise HubError(response.status_code, "bad_response", "the hub's answer was not an object")
    return body


def _hub_error(response: httpx.Response) -> HubError:
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        reason = response.reason_phrase or "error"
        return HubError(response.status_code, "http_error", reason, retry_after=retry_after)
    details = body.get("details")
    # FastAPI's own {"detail": [...]} may quote the input; only a plain string is shown.
    message = next(
        (m for m in (body.get("message"), body.get("detail")) if isinstance(m, str) and m),
        response.reason_phrase or "error",
    )
    return HubError(
        response.status_code,
        str(body.get("error") or "http_error"),
        message,
        [d for d in details if isinstance(d, dict)] if isinstance(details, list) else [],
        retry_after,
    )
