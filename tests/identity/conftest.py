"""Shared fixtures for identity tests: synthetic keys and a leak checker for error messages."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from safehold.identity import (
    CoalitionKey,
    IdentifierError,
    Pseudonymiser,
    normalise_account_id,
    normalise_date_of_birth,
    normalise_email,
    normalise_person_name,
    normalise_phone,
    normalise_username,
)

SECRET_A = bytes(range(32))
SECRET_B = bytes(range(1, 33))

LeakCheck = Callable[[str, BaseException], None]


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


_CANNED_FAILURES: list[tuple[Callable[..., object], tuple[Any, ...]]] = [
    *((normalise_email, (v,)) for v in ("", "a b@c.org", "a@b@c.org", "@c.org", "a@c", 5)),
    (lambda v: normalise_email(v, provider_rules=True), ("+@gmail.com",)),
    *((normalise_phone, (v,)) for v in (5, "abc", "07700 9001234")),
    *((normalise_username, ("chat", v)) for v in ("", "a b", 5)),
    (normalise_username, ("", "abc")),
    *((normalise_account_id, ("chat", v)) for v in ("", "a b", 5)),
    *((normalise_person_name, (v,)) for v in (5, "...")),
    *((normalise_date_of_birth, (v,)) for v in (5, "x", "2010-02-30", "2999-01-01", "1899-01-01")),
]


@cache
def static_messages() -> frozenset[str]:
    """Messages (and reprs) produced by canned bad inputs: text that cannot depend on any
    particular raw value, so a random value that happens to be a substring of it (``form``
    in ``format``) is a coincidence, not a leak."""
    found: set[str] = set()
    for normalise, args in _CANNED_FAILURES:
        try:
            normalise(*args)
        except IdentifierError as exc:
            found.update((str(exc), repr(exc)))
        else:
            raise AssertionError("canned failure did not fail")
    return frozenset(found)


def check_no_leak(raw: str, exc: BaseException) -> None:
    """Fail if the raw value (or its trimmed form) appears in the error, its
    repr or anything chained to it (ignoring case), unless the text is one of the static messages above.
    Values shorter than 4 characters are not checked."""
    forms = {raw.casefold(), raw.strip().casefold()}
    texts = [t for e in _chain(exc) for t in (str(e), repr(e))]
    for form in (f for f in forms if len(f) >= 4):
        for text in texts:
            if form in text.casefold():
                assert text in static_messages(), "raw identifier leaked into an exception"


@pytest.fixture(scope="session")
def no_leak() -> LeakCheck:
    return check_no_leak


@pytest.fixture(scope="session")
def key_a() -> CoalitionKey:
    return CoalitionKey(version=1, secret=SECRET_A)


@pytest.fixture(scope="session")
def pseudonymiser(key_a: CoalitionKey) -> Pseudonymiser:
    return Pseudonymiser(key_a)
