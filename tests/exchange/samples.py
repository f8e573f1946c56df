"""Valid example records of every exchange type, built by hand for the schema tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any


def pseudonym(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def subject(seed: str, kind: str = "account", version: int = 1) -> dict[str, Any]:
    return {"kind": kind, "pseudonym": pseudonym(seed), "key_version": version}


WHEN = datetime(2026, 3, 1, 21, 30, tzinfo=UTC).isoformat()
CLK = "A" * 170 + "A="  # 128 zero bytes, base64

RECORDS: dict[str, dict[str, Any]] = {
    "registry_entry": {
        "record_type": "registry_entry",
        "entry_id": "police-1:J000001",
        "subjects": [subject("e1", "email"), subject("p1", "phone")],
        "clk": CLK,
        "typology": "grooming",
        "convicted_month": "2021-04",
        "registered_from": "2021-05",
        "registered_until": None,
        "status": "active",
    },
    "behaviour": {
        "record_type": "behaviour",
        "subject": subject("a1"),
        "period_start": "2026-01",
        "period_days": 90,
        "age_band": "35_44",
        "sex": "male",
        "deprivation_quintile": 2,
        "messages_sent": 120,
        "night_activity_share": 0.12,
        "contact_age_gap_years": 6.5,
    },
    "account_keys": {
        "record_type": "account_keys",
        "subject": subject("a1"),
        "identifiers": [subject("e1", "email"), subject("u1", "username")],
        "clk": CLK,
    },
    "cohort_label": {
        "record_type": "cohort_label",
        "label_id": "la-1:C000001",
        "subject": None,
        "identifiers": [subject("e7", "email")],
        "clk": CLK,
        "cohort": "vulnerable_child",
        "source_kind": "local_authority",
        "labelled_month": "2025-11",
    },
    "contact_event": {
        "record_type": "contact_event",
        "event_id": "ev-000001",
        "sender": subject("a1"),
        "recipient": subject("a2"),
        "occurred_at": WHEN,
        "channel": "direct_message",
        "first_contact": True,
        "recipient_age_band": "13_15",
        "sender_age_band": "35_44",
    },
    "conversation": {
        "record_type": "conversation",
        "conversation_id": "c-1",
        "channel": "direct_message",
        "participants": [
            {"participant_id": "p1", "subject": subject("a1"), "age_band": "35_44"},
            {"participant_id": "p2", "subject": None, "age_band": "13_15"},
        ],
        "messages": [
            {"message_id": "m1", "sender_id": "p1", "sent_at": WHEN, "text": "hi, good game today"},
            {"message_id": "m2", "sender_id": "p2", "sent_at": WHEN, "text": "thanks"},
        ],
    },
    "signal": {
        "record_type": "signal",
        "signal_id": "sig-1",
        "kind": "pdq",
        "value": "f" * 64,
        "category": "csem_category_c",
        "confidence": 0.9,
        "pdq_quality": 80,
        "observed_at": WHEN,
    },
}


def batch(records: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "batch_id": "b-0001",
        "member_id": "plat-small-1",
        "schema_version": "1.0",
        "created_at": WHEN,
        "records": list(RECORDS.values()) if records is None else records,
    }
    payload.update(overrides)
    return payload
