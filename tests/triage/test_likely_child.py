from datetime import UTC, datetime

import pytest

from safehold.triage.likely_child import ContactBook, address_key, child_evidence
from safehold.triage.records import OWNER, DeviceContact, DeviceMessage, Provenance

WHEN = datetime(2026, 10, 1, 12, tzinfo=UTC)


def _message(text: str, *, from_owner: bool = False, row: int = 1) -> DeviceMessage:
    return DeviceMessage(
        "android_sms", "c1", str(row), OWNER if from_owner else "07700 900123", "07700 900123",
        WHEN, text, from_owner, Provenance("mmssms.db", "sms", str(row)),
    )  # fmt: skip


def _book(birthday: str | None) -> ContactBook:
    contact = DeviceContact(
        "android_contacts", "A Person", ("+44 7700 900123",), birthday, Provenance("c.db", "raw_contacts", "7")
    )  # fmt: skip
    return ContactBook([contact])


def test_address_forms_agree() -> None:
    keys = {
        address_key(a) for a in ("07700 900123", "+447700900123", "447700900123@s.whatsapp.net")
    }
    assert keys == {"+447700900123"}
    assert address_key("someone@talk.kik.com") is None


def test_birthday_in_the_address_book_makes_a_likely_child_with_its_reason() -> None:
    evidence = child_evidence("447700900123@s.whatsapp.net", [_message("hey")], _book("2012-11-02"))
    assert evidence is not None and evidence.age_band == "13_15"
    assert "raw_contacts row 7" in evidence.reason and "age 13" in evidence.reason
    assert child_evidence("07700 900123", [_message("hey")], _book("1990-01-01")) is None


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("im 12 btw", "under_13"),
        ("I am 14 years old", "13_15"),
        ("i'm only 16", "16_17"),
        ("im 5 mins away", None),
        ("I'm 6 foot tall", None),
        ("im 25", None),
        ("im 10:30 there", None),
    ],
)
def test_stated_ages_of_the_other_party(text: str, band: str | None) -> None:
    evidence = child_evidence("07700 900999", [_message(text)], _book(None))
    assert (evidence.age_band if evidence else None) == band


def test_the_owner_stating_an_age_is_not_evidence_about_the_other_party() -> None:
    assert child_evidence("07700 900999", [_message("im 13", from_owner=True)], _book(None)) is None
