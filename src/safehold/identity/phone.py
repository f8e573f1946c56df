"""Normalising phone numbers to E.164 so that national and international spellings agree."""

from __future__ import annotations

import contextlib

import phonenumbers

from safehold.identity.errors import IdentifierError

_KIND = "phone number"
DEFAULT_REGION = "GB"
_FICTIONAL_PREFIX = "+447700900"
"""Ofcom reserves 07700 900000-900999 for drama: never assigned to anyone, so synthetic data
uses them, but ``phonenumbers`` classes them invalid."""


def normalise_phone(raw: str, *, default_region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164 form, e.g. ``+447700900123``.

    Normalised (by ``phonenumbers``): spacing, punctuation, national trunk prefixes and
    international prefixes, so ``07700 900123`` (read in ``default_region``) and
    ``+44 7700 900123`` agree. Numbers written with a ``+`` ignore ``default_region``.

    Deliberately NOT normalised: numbers that ``phonenumbers`` considers invalid for their
    region are rejected instead of guessed at, because a wrong guess would link two different
    people. Extensions are dropped by E.164. One exception: Ofcom's fictional mobile range
    (07700 900000-900999) is accepted, so synthetic data and tests can use numbers that can
    never belong to a real person.
    """
    if default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unsupported default phone region {default_region!r}")
    if not isinstance(raw, str):
        raise IdentifierError(_KIND, "expected text", "pass the number as a string")
    parsed = None
    # Reported below, unchained: library messages may quote the value.
    with contextlib.suppress(phonenumbers.NumberParseException):
        parsed = phonenumbers.parse(raw.strip(), default_region)
    if parsed is None:
        raise IdentifierError(
            _KIND,
            "it could not be read as a phone number",
            "pass digits with an optional leading '+' and country code",
        )
    e164 = str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    if not phonenumbers.is_valid_number(parsed) and not _is_fictional(e164):
        raise IdentifierError(
            _KIND,
            f"it is not a valid number (read with default region {default_region})",
            "add the international '+' prefix and country code, or check for missing digits",
        )
    return e164


def _is_fictional(e164: str) -> bool:
    return len(e164) == len(_FICTIONAL_PREFIX) + 3 and e164.startswith(_FICTIONAL_PREFIX)
