"""Phone normalisation to E.164."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from safehold.identity import IdentifierError, normalise_phone

GB_MOBILE_NSN = st.from_regex(r"7[4-9][0-9]{8}", fullmatch=True)
SEPARATORS = st.sampled_from(["", " ", "-", ".", "  "])


def _spaced(digits: str, sep: str) -> str:
    return sep.join([digits[:4], digits[4:7], digits[7:]])


@given(GB_MOBILE_NSN, SEPARATORS)
def test_national_and_international_forms_agree(nsn: str, sep: str) -> None:
    assume(phonenumbers.is_valid_number(phonenumbers.parse("+44" + nsn)))
    expected = "+44" + nsn
    assert normalise_phone("0" + _spaced(nsn, sep)) == expected
    assert normalise_phone("+44 " + _spaced(nsn, sep)) == expected
    assert normalise_phone("0044" + nsn) == expected
    assert normalise_phone(" +44 (0)" + nsn + " ") == expected


@given(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
def test_example_numbers_of_every_region(region: str) -> None:
    example = phonenumbers.example_number(region)
    assume(example is not None)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert normalise_phone(national, default_region=region) == e164
    assert normalise_phone(e164, default_region="GB") == e164


@given(st.text(max_size=30))
def test_idempotent(raw: str) -> None:
    try:
        once = normalise_phone(raw)
    except IdentifierError:
        return
    assert normalise_phone(once) == once
    assert normalise_phone(once, default_region="US") == once


def test_fictional_ofcom_mobile_range_is_accepted() -> None:
    assert normalise_phone("+44 7700 900123") == normalise_phone("07700 900123") == "+447700900123"
    assert normalise_phone("07700 900999") == "+447700900999"


def test_default_region_is_configurable() -> None:
    assert normalise_phone("(201) 555-0123", default_region="US") == "+12015550123"
    assert normalise_phone("06 12 34 56 78", default_region="FR") == "+33612345678"
    with pytest.raises(IdentifierError):
        normalise_phone("06 12 34 56 78")  # read as a GB number, it is invalid


@pytest.mark.parametrize(
    "raw", ["", "hello", "07700 9001234", "0770090012", "+44 20 7946 00", "+999 1234 5678"]
)
def test_invalid_numbers_raise(raw: str) -> None:
    with pytest.raises(IdentifierError, match="phone number"):
        normalise_phone(raw)


def test_unknown_region_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unsupported default phone region"):
        normalise_phone("07700 900123", default_region="XX")
