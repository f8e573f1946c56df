"""Durations written as in the rules file ("30m", "48h", "7d"), held as microseconds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_duration(value: object) -> timedelta:
    """``"48h"`` -> 48 hours; a timedelta passes through. Refuses zero and other shapes."""
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        result = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    else:
        raise ValueError(
            f"{value!r} is not a duration: write a whole number and a unit, "
            "s, m, h, d or w (for example 48h or 7d)"
        )
    if result <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    return result


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def micros(value: timedelta) -> int:
    return value // timedelta(microseconds=1)


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]
