"""Per-member rate limits: a token bucket per member, counted in units of work (for registry
checks: accounts checked), so that one large request costs as much as many small ones.

The buckets live in this process's memory: there is one limiter per hub process. A hub run
as several worker processes gives each member the configured rate in every worker; run one
worker, or divide the settings by the number of workers, where the coalition-wide rate
matters. Buckets start full and are refilled continuously."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from safehold.hub.context import hub_context


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by member: ``capacity`` units at once, ``per_minute`` units
    refilled per minute. ``clock`` is monotonic seconds (tests pass their own)."""

    def __init__(
        self, per_minute: int, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute < 1 or capacity < 1:
            raise ValueError(
                "a rate limit needs a refill of at least 1 per minute and a burst of at least 1; "
                f"got {per_minute} per minute and a burst of {capacity}"
            )
        self.per_second = per_minute / 60.0
        self.capacity = capacity
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, amount: int) -> float:
        """Spend ``amount`` units of ``key``'s bucket and return 0.0; or, when it holds too
        few, spend nothing and return the seconds until it will hold enough. An amount over
        the capacity can never be granted: callers refuse such requests beforehand."""
        if amount > self.capacity:
            raise ValueError(f"{amount} units exceed the bucket's capacity of {self.capacity}")
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, _Bucket(float(self.capacity), now))
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.capacity), bucket.tokens + elapsed * self.per_second)
            bucket.updated = now
            if bucket.tokens >= amount:
                bucket.tokens -= amount
                return 0.0
            return (amount - bucket.tokens) / self.per_second


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` header value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))


_CREATE = threading.Lock()


def registry_check_limiter(request: Request) -> RateLimiter:
    """The app's limiter for registry checks, made from its settings on first use."""
    state = request.app.state
    limiter = getattr(state, "registry_check_limiter", None)
    if limiter is None:
        with _CREATE:
            limiter = getattr(state, "registry_check_limiter", None)
            if limiter is None:
                settings = hub_context(request).settings
                limiter = RateLimiter(
                    settings.registry_checks_per_minute, settings.registry_check_burst
                )
                state.registry_check_limiter = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


CONTACT_CHECKS_PER_MINUTE = 20_000
"""Device contacts a police member may check per minute: a seized phone holds hundreds to a
few thousand contacts, so this serves a busy force and stops the check from being used to
sweep a list of numbers through the registry."""
CONTACT_CHECK_BURST = 10_000


def contact_check_limiter(request: Request) -> RateLimiter:
    """The app's limiter for police checks of device contacts (its own bucket per member)."""
    state = request.app.state
    limiter = getattr(state, "contact_check_limiter", None)
    if limiter is None:
        with _CREATE:
            limiter = getattr(state, "contact_check_limiter", None)
            if limiter is None:
                limiter = RateLimiter(CONTACT_CHECKS_PER_MINUTE, CONTACT_CHECK_BURST)
                state.contact_check_limiter = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter
