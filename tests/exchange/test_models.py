"""Strict validation of single records: unknown fields, ranges and cross-field rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from safehold.exchange import AgeBand, Member, Record, behaviour_features
from tests.exchange.samples import RECORDS, subject

RECORD = TypeAdapter(Record)


def _with(record_type: str, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(RECORDS[record_type])
    record.update(changes)
    return record


@pytest.mark.parametrize("record_type", sorted(RECORDS))
def test_every_sample_record_is_valid(record_type: str) -> None:
    assert RECORD.validate_python(RECORDS[record_type]).record_type == record_type


@pytest.mark.parametrize("record_type", sorted(RECORDS))
def test_unknown_fields_are_rejected(record_type: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        RECORD.validate_python(_with(record_type, surprise="x"))


@pytest.mark.parametrize(
    ("record_type", "changes", "fragment"),
    [
        ("behaviour", {"night_activity_share": 1.5}, "less than or equal to 1"),
        ("behaviour", {"messages_sent": -1}, "greater than or equal to 0"),
        ("behaviour", {"period_start": "2026-13"}, "pattern"),
        ("behaviour", {"deprivation_quintile": 6}, "less than or equal to 5"),
        ("registry_entry", {"convicted_month": "2021-04-17"}, "pattern"),
        ("registry_entry", {"registered_from": "2020-01"}, "before convicted_month"),
        (
            "registry_entry",
            {"subjects": [], "clk": None},
            "at least one subject pseudonym or a clk",
        ),
        (
            "cohort_label",
            {"identifiers": [], "clk": None},
            "needs a subject, identifier pseudonyms or a clk",
        ),
        ("registry_entry", {"typology": "unknown"}, "Input should be"),
        ("contact_event", {"occurred_at": "2026-03-01T21:30:00"}, "timezone"),
        ("contact_event", {"recipient": subject("a1")}, "same account"),
        ("signal", {"value": "F" * 64}, "not a valid pdq"),
        ("signal", {"confidence": 1.01}, "less than or equal to 1"),
        ("signal", {"kind": "md5", "pdq_quality": None}, "not a valid md5"),
        ("conversation", {"participants": [{"participant_id": "p1"}]}, "at least 2"),
        ("account_keys", {"subject": subject("e9", "email")}, "must be 'account'"),
        ("account_keys", {"identifiers": [subject("e1", "email", version=2)]}, "same key_version"),
    ],
)
def test_invalid_values_are_rejected(
    record_type: str, changes: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        RECORD.validate_python(_with(record_type, **changes))


def test_message_sender_must_be_a_participant() -> None:
    record = _with("conversation")
    record["messages"][1]["sender_id"] = "p9"
    with pytest.raises(
        ValidationError, match=r"messages\[1\].sender_id is not one of the participants"
    ):
        RECORD.validate_python(record)


def test_messages_must_be_in_time_order() -> None:
    record = _with("conversation")
    record["messages"][0]["sent_at"] = "2026-03-02T00:00:00+00:00"
    with pytest.raises(ValidationError, match=r"messages\[1\] is earlier"):
        RECORD.validate_python(record)


def test_platform_members_need_a_size_band() -> None:
    with pytest.raises(ValidationError, match="size_band is required"):
        Member(member_id="p", name="P", kind="platform")  # type: ignore[arg-type]
    assert Member(member_id="c", name="Court", kind="court").size_band is None  # type: ignore[arg-type]


def test_records_are_immutable() -> None:
    record = RECORD.validate_python(RECORDS["signal"])
    with pytest.raises(ValidationError):
        record.confidence = 0.1  # type: ignore[misc]


def test_data_dictionary_has_at_least_30_features_in_every_group() -> None:
    features = behaviour_features()
    assert len(features) >= 30
    groups = {f.group.value for f in features}
    assert groups >= {
        "account",
        "messaging",
        "contacts",
        "audience_age",
        "posting",
        "purchases",
        "time_of_day",
        "off_platform",
        "reports",
    }
    for feature in features:
        assert feature.meaning and feature.maximum > feature.minimum


def test_minor_age_bands() -> None:
    assert [b.value for b in AgeBand if b.is_minor] == ["under_13", "13_15", "16_17"]
