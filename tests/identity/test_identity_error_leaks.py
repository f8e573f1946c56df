"""No normaliser ever repeats the raw identifier in an error, whatever it is fed."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from safehold.identity import (
    IdentifierError,
    Pseudonymiser,
    normalise_account_id,
    normalise_date_of_birth,
    normalise_email,
    normalise_person_name,
    normalise_phone,
    normalise_username,
)

LeakCheck = Callable[[str, BaseException], None]
TEXT = st.text(min_size=4, max_size=40)
WORDISH = st.text(st.characters(categories=["L", "N"]), min_size=2, max_size=12)


def _error_for(normalise: Callable[[str], object], raw: str) -> IdentifierError:
    """The IdentifierError ``normalise`` raises for ``raw``; valid inputs are discarded."""
    try:
        normalise(raw)
    except IdentifierError as exc:
        return exc
    assume(False)
    raise AssertionError("unreachable")


@given(
    st.one_of(
        TEXT,
        st.builds("{} {}@{}.org".format, WORDISH, WORDISH, WORDISH),
        st.builds("{}@{}!{}.org".format, WORDISH, WORDISH, WORDISH),
        st.builds("{}@@{}.org".format, WORDISH, WORDISH),
    )
)
def test_email_errors(no_leak: LeakCheck, raw: str) -> None:
    exc = _error_for(normalise_email, raw)
    no_leak(raw, exc)
    for part in raw.split("@"):
        no_leak(part, exc)


@given(st.one_of(TEXT, st.from_regex(r"\+?[0-9 ()-]{4,24}", fullmatch=True)))
def test_phone_errors(no_leak: LeakCheck, raw: str) -> None:
    no_leak(raw, _error_for(normalise_phone, raw))


@given(st.builds("{} {}".format, WORDISH, WORDISH))
def test_username_and_account_errors(no_leak: LeakCheck, raw: str) -> None:
    no_leak(raw, _error_for(lambda value: normalise_username("chat", value), raw))
    no_leak(raw, _error_for(lambda value: normalise_account_id("chat", value), raw))


@given(st.text(st.characters(categories=["P", "S", "Z", "Mn", "Cc"]), min_size=4, max_size=30))
def test_person_name_errors(no_leak: LeakCheck, raw: str) -> None:
    no_leak(raw, _error_for(normalise_person_name, raw))


@given(
    st.one_of(
        TEXT,
        st.dates(min_value=date(2200, 1, 1)).map(date.isoformat),
        st.dates(max_value=date(1899, 12, 31), min_value=date(1000, 1, 1)).map(
            lambda d: d.strftime("%d/%m/%Y")
        ),
        st.integers(1000, 9999).map("30/02/{}".format),
    )
)
def test_date_of_birth_errors(no_leak: LeakCheck, raw: str) -> None:
    no_leak(raw, _error_for(normalise_date_of_birth, raw))


@given(st.sampled_from(["email", "phone", "username", "account"]), TEXT)
def test_pseudonymise_errors(
    pseudonymiser: Pseudonymiser, no_leak: LeakCheck, kind: str, raw: str
) -> None:
    platform = "chat" if kind in ("username", "account") else None
    exc = _error_for(lambda value: pseudonymiser.pseudonymise(kind, value, platform=platform), raw)
    no_leak(raw, exc)


def test_leak_check_catches_leaks(no_leak: LeakCheck) -> None:
    with pytest.raises(AssertionError, match="leaked"):
        no_leak("child@example.org", ValueError("bad value CHILD@example.org"))
    try:
        try:
            raise ValueError("library says: 07700900123 is bad")
        except ValueError:
            raise IdentifierError("phone number", "bad", "fix it")  # noqa: B904
    except IdentifierError as exc:
        with pytest.raises(AssertionError, match="leaked"):
            no_leak("07700900123", exc)
    no_leak("abc", ValueError("abc"))  # shorter than 4 characters: not checked
    with pytest.raises(IdentifierError) as info:
        normalise_date_of_birth("form")
    no_leak("form", info.value)  # "format" is static text: a coincidence, not a leak


def test_message_names_kind_reason_and_fix() -> None:
    exc = IdentifierError("email address", "it is empty", "leave the field missing")
    assert str(exc) == "invalid email address: it is empty; leave the field missing"
    assert isinstance(exc, ValueError)
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.kind, copy.reason, copy.fix, str(copy)) == (
        exc.kind,
        exc.reason,
        exc.fix,
        str(exc),
    )


@pytest.mark.parametrize(
    ("normalise", "raw"),
    [
        (normalise_phone, "call me maybe"),
        (normalise_email, "someone@exämple..org"),
        (normalise_date_of_birth, "2010-02-30"),
    ],
)
def test_library_errors_are_not_chained(normalise: Callable[[str], object], raw: str) -> None:
    """Library exceptions may quote the value, so none is attached as cause or context."""
    with pytest.raises(IdentifierError) as info:
        normalise(raw)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
