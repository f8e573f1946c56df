"""Timestamps as apps store them, turned into UTC datetimes.

Why: Android stores Unix milliseconds, iOS counts from 2001-01-01 in seconds or (since
iOS 11) nanoseconds; getting this wrong moves a message by decades and breaks recency.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unix_millis(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        return _UNIX_EPOCH + timedelta(milliseconds=int(str(value)))
    except (ValueError, OverflowError):
        return None


def apple_time(value: object) -> datetime | None:
    """Seconds or nanoseconds since 2001-01-01 (told apart by size)."""
    if value is None:
        return None
    try:
        number = float(str(value))
        seconds = number / 1e9 if abs(number) > 1e11 else number
        return _APPLE_EPOCH + timedelta(seconds=seconds)
    except (ValueError, OverflowError):
        return None
