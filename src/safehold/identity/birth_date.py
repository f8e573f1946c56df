"""Normalising dates of birth to ISO 8601, the one spelling all members encode."""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime

from safehold.identity.errors import IdentifierError

_KIND = "date of birth"
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_FORMATS_FIX = "use YYYY-MM-DD, or DD/MM/YYYY in UK day-first order"


def _parse(raw: str | date) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        raise IdentifierError(_KIND, "expected a date or text", _FORMATS_FIX)
    text = raw.strip()
    if m := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _UK.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    else:
        raise IdentifierError(_KIND, "the format is not recognised", _FORMATS_FIX)
    parsed = None
    # Reported below, unchained: library messages may quote the value.
    with contextlib.suppress(ValueError):
        parsed = date(year, month, day)
    if parsed is None:
        raise IdentifierError(
            _KIND, "the day or month is out of range", "check for swapped day and month"
        )
    return parsed


def normalise_date_of_birth(raw: str | date, *, today: date | None = None) -> str:
    """Return the date as ``YYYY-MM-DD``.

    Accepted: ``date`` objects (a ``datetime`` contributes only its date), ISO strings
    ``YYYY-MM-DD`` and UK day-first strings ``DD/MM/YYYY`` (one-digit day or month allowed).
    US month-first strings are deliberately NOT accepted: ``03/04/2010`` is ambiguous, and
    guessing wrong would link two different children.

    Rejected: dates after ``today`` (defaults to the local date) and before 1900-01-01,
    which are data-entry errors rather than birthdays.
    """
    born = _parse(raw)
    if born > (today or date.today()):
        raise IdentifierError(_KIND, "it is in the future", "check the year")
    if born < EARLIEST_BIRTH_DATE:
        raise IdentifierError(_KIND, "it is before 1900-01-01", "check the year")
    return born.isoformat()
