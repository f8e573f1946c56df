"""Date-of-birth normalisation to ISO 8601."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.identity import IdentifierError, normalise_date_of_birth

TODAY = date(2025, 6, 30)
BIRTH_DATES = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@given(BIRTH_DATES)
def test_date_iso_and_uk_forms_agree(born: date) -> None:
    iso = born.isoformat()
    uk = born.strftime("%d/%m/%Y")
    uk_short = f"{born.day}/{born.month}/{born.year}"
    for form in (
        born,
        datetime(born.year, born.month, born.day, 13, 5),
        iso,
        f" {iso} ",
        uk,
        uk_short,
    ):
        assert normalise_date_of_birth(form, today=TODAY) == iso


@given(BIRTH_DATES)
def test_idempotent(born: date) -> None:
    once = normalise_date_of_birth(born, today=TODAY)
    assert normalise_date_of_birth(once, today=TODAY) == once


@given(st.dates(min_value=date(2025, 7, 1)))
def test_future_dates_rejected(born: date) -> None:
    with pytest.raises(IdentifierError, match="in the future"):
        normalise_date_of_birth(born, today=TODAY)


@given(st.dates(max_value=date(1899, 12, 31)))
def test_dates_before_1900_rejected(born: date) -> None:
    with pytest.raises(IdentifierError, match="before 1900"):
        normalise_date_of_birth(born, today=TODAY)


def test_today_is_allowed_and_default_today_rejects_next_year() -> None:
    assert normalise_date_of_birth(TODAY, today=TODAY) == "2025-06-30"
    with pytest.raises(IdentifierError):
        normalise_date_of_birth(date(date.today().year + 1, 1, 1))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "2010-02-30",
        "31/02/2010",
        "2010/02/03",
        "02-03-2010",
        "2010-2-3",
        "20100203",
        "3rd May 2010",
        "١٩٩٠-٠١-٠١",
    ],
)
def test_bad_formats_and_impossible_dates_rejected(raw: str) -> None:
    with pytest.raises(IdentifierError, match="date of birth"):
        normalise_date_of_birth(raw, today=TODAY)
