"""Which conversations involve a likely child, and why.

Why: conversation risk is only scored where a child is likely involved, and the officer
must see what made triage think so. Two kinds of evidence are used: the address book's
birthday for the other party's number (phone numbers normalised by ``identity`` so that
SMS, iMessage and WhatsApp spellings agree), and the other party stating an age under 18
in their own messages. Neither is proof of age; both are shown as reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from safehold.identity.errors import IdentifierError
from safehold.identity.phone import normalise_phone
from safehold.triage.records import DeviceContact, DeviceMessage

_NOT_AN_AGE = (
    r"min|mins|minute|minutes|hour|hours|hrs|am|pm|%|foot|feet|ft|cm|km|miles|mph|kg|lbs|"
    r"pounds|quid|euros|dollars|times|days|weeks|months|points|percent|o'?clock"
)
_STATED_AGE = re.compile(
    rf"\b(?:i'?m|i am|im)\s+(?:only\s+|just\s+)?(\d{{1,2}})(?:\s*(?:yrs?|years?)(?:\s*old)?)?\b"
    rf"(?!\s*(?:{_NOT_AN_AGE})\b)(?!\s*[:.]\d)",
    re.IGNORECASE,
)
"""A self-stated age ("im 13", "I am 12 years old"), not a time, distance or amount."""


@dataclass(frozen=True)
class ChildEvidence:
    age_band: str
    """'under_13', '13_15' or '16_17'."""
    reason: str


def address_key(address: str) -> str | None:
    """E.164 form of a phone number, SMS address, iMessage handle or WhatsApp JID."""
    text = address.split("@", 1)[0] if "@" in address else address
    if "@" in address and text.isdigit():
        text = "+" + text
    try:
        return normalise_phone(text)
    except (IdentifierError, ValueError):
        return None


def band_for_age(age: int) -> str | None:
    if age < 13:
        return "under_13"
    if age < 16:
        return "13_15"
    if age < 18:
        return "16_17"
    return None


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class ContactBook:
    def __init__(self, contacts: Iterable[DeviceContact]) -> None:
        self._by_number: dict[str, DeviceContact] = {}
        for contact in contacts:
            for number in contact.numbers:
                key = address_key(number)
                if key:
                    self._by_number.setdefault(key, contact)

    def lookup(self, address: str) -> DeviceContact | None:
        key = address_key(address)
        return self._by_number.get(key) if key else None


def child_evidence(
    counterpart: str, messages: list[DeviceMessage], book: ContactBook
) -> ChildEvidence | None:
    """Why the other party of a conversation is likely a child, or None."""
    times = [m.sent_at for m in messages if m.sent_at is not None]
    when = max(times).date() if times else datetime.now().date()
    contact = book.lookup(counterpart)
    if contact is not None and contact.birthday:
        try:
            born = date.fromisoformat(contact.birthday[:10])
        except ValueError:
            born = None
        if born is not None:
            age = _age_on(born, when)
            band = band_for_age(age)
            if band:
                return ChildEvidence(
                    band,
                    f"address book ({contact.provenance.source_file}, {contact.provenance.table} "
                    f"row {contact.provenance.row_id}) gives the other party a birthday of "
                    f"{born.isoformat()}: age {age} at the time of the conversation",
                )
    for message in messages:
        if message.from_owner:
            continue
        for found in _STATED_AGE.finditer(message.text):
            age = int(found.group(1))
            band = band_for_age(age) if age >= 5 else None
            if band:
                return ChildEvidence(
                    band,
                    f"the other party says {found.group(0)!r} in message "
                    f"{message.provenance.row_id} of {message.provenance.source_file}",
                )
    return None
