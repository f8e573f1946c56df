"""store.ingest and store.enclave on SQLite and PostgreSQL: a batch lands in its tiers whole,
a resend is a replay, other content under a used id is a conflict, ids repeated inside a
batch are refused, and two identical submissions racing each other store the batch once.

The record builders here are shared by the hub's batch tests."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from safehold.exchange import Batch, BatchValidationError, validate_batch
from safehold.store import enclave
from safehold.store.database import make_engine
from safehold.store.enclave import serialised
from safehold.store.ingest import (
    BatchConflictError,
    IngestResult,
    content_hash,
    duplicate_ids,
    ingest_batch,
)
from safehold.store.members import Actor, add_member
from safehold.store.migrate import upgrade
from safehold.store.models import (
    BatchRow,
    EnclaveRecordRow,
    RegistryEntryRow,
    RegistryIdentifierRow,
    SignalChangeRow,
    SignalRow,
)

WHEN = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)
CLK = "A" * 170 + "A="
TIER_TABLES = (
    BatchRow,
    RegistryEntryRow,
    RegistryIdentifierRow,
    SignalRow,
    SignalChangeRow,
    EnclaveRecordRow,
)

# --- record builders (plain dicts, as a member would send them) ---------------------------


def pseudonym() -> str:
    return secrets.token_hex(32)


def subject(kind: str = "account", version: int = 1, value: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "pseudonym": value or pseudonym(), "key_version": version}


def behaviour(subj: dict[str, Any] | None = None, period_start: str = "2026-01") -> dict[str, Any]:
    return {
        "record_type": "behaviour",
        "subject": subj or subject(),
        "period_start": period_start,
        "period_days": 90,
        "age_band": "35_44",
        "sex": "male",
        "messages_sent": secrets.randbelow(1000),
        "night_activity_share": 0.25,
    }


def account_keys() -> dict[str, Any]:
    return {
        "record_type": "account_keys",
        "subject": subject(),
        "identifiers": [subject("email"), subject("username")],
        "clk": CLK,
    }


def contact_event(event_id: str = "ev-1") -> dict[str, Any]:
    return {
        "record_type": "contact_event",
        "event_id": event_id,
        "sender": subject(),
        "recipient": subject(),
        "occurred_at": WHEN.isoformat(),
        "channel": "direct_message",
        "first_contact": True,
        "recipient_age_band": "13_15",
    }


def conversation(conversation_id: str = "c-1", text: str = "good game today") -> dict[str, Any]:
    return {
        "record_type": "conversation",
        "conversation_id": conversation_id,
        "participants": [
            {"participant_id": "p1", "subject": subject(), "age_band": "35_44"},
            {"participant_id": "p2", "age_band": "13_15"},
        ],
        "messages": [
            {"message_id": "m1", "sender_id": "p1", "sent_at": WHEN.isoformat(), "text": text},
        ],
    }


def signal(signal_id: str = "sig-1") -> dict[str, Any]:
    return {
        "record_type": "signal",
        "signal_id": signal_id,
        "kind": "account",
        "value": pseudonym(),
        "key_version": 1,
        "category": "grooming",
        "confidence": 0.9,
        "observed_at": WHEN.isoformat(),
    }


def registry_entry(entry_id: str = "J-1") -> dict[str, Any]:
    return {
        "record_type": "registry_entry",
        "entry_id": entry_id,
        "subjects": [subject("email"), subject("phone")],
        "typology": "grooming",
        "convicted_month": "2021-04",
        "registered_from": "2021-05",
        "status": "active",
    }


def cohort_label(label_id: str = "L-1", source_kind: str = "local_authority") -> dict[str, Any]:
    return {
        "record_type": "cohort_label",
        "label_id": label_id,
        "identifiers": [subject("email", version=2)],
        "cohort": "vulnerable_child",
        "source_kind": source_kind,
        "labelled_month": "2025-11",
    }


def batch_dict(
    member_id: str, records: list[dict[str, Any]], batch_id: str | None = None
) -> dict[str, Any]:
    return {
        "batch_id": batch_id or f"b-{secrets.token_hex(6)}",
        "member_id": member_id,
        "schema_version": "1.0",
        "created_at": WHEN.isoformat(),
        "records": records,
    }


def platform_records() -> list[dict[str, Any]]:
    """One of every type a platform may write."""
    return [behaviour(), account_keys(), contact_event(), conversation(), signal()]


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    from tests.hub.conftest import MEMBERS

    built = make_engine(database_url)
    upgrade(built)
    with Session(built) as session, session.begin():
        for member in MEMBERS.values():
            add_member(session, member, Actor("test-setup", "operator"))
    try:
        yield built
    finally:
        built.dispose()


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every table a batch writes to."""
    with Session(engine) as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in TIER_TABLES
        }


def ingest(engine: Engine, member_id: str, batch: Batch) -> IngestResult:
    with Session(engine) as session, session.begin():
        return ingest_batch(session, member_id, batch)


# --- tests -----------------------------------------------------------------------------


def test_a_mixed_batch_lands_in_its_tiers(engine: Engine) -> None:
    records = [*platform_records(), registry_entry(), cohort_label()]
    batch = validate_batch(batch_dict("plat-a", records, "b-1"))
    result = ingest(engine, "plat-a", batch)
    assert result.body() == {
        "batch_id": "b-1",
        "member_id": "plat-a",
        "accepted": 7,
        "by_type": {
            "account_keys": 1,
            "behaviour": 1,
            "cohort_label": 1,
            "contact_event": 1,
            "conversation": 1,
            "registry_entry": 1,
            "signal": 1,
        },
        "by_tier": {"enclave": 5, "registry": 1, "signals": 1},
        "replayed": False,
    }
    assert counts(engine) == {
        "batches": 1,
        "registry_entries": 1,
        "registry_identifiers": 2,
        "signals": 1,
        "signal_changes": 1,
        "enclave_records": 5,
    }
    with Session(engine) as session:
        stored = session.scalars(
            select(EnclaveRecordRow).order_by(EnclaveRecordRow.record_pk)
        ).all()
        row = session.scalars(select(BatchRow)).one()
    assert row.content_hash == content_hash(batch)
    assert [r.record_type for r in stored] == [
        "behaviour",
        "account_keys",
        "contact_event",
        "conversation",
        "cohort_label",
    ]
    enclave_records = [
        r for r in batch.records if r.record_type not in {"signal", "registry_entry"}
    ]
    for got, sent in zip(stored, enclave_records, strict=True):
        assert got.payload == sent.model_dump(mode="json", exclude_none=True)
        assert got.batch_pk == row.batch_pk and got.member_id == "plat-a"
    # the main subject: behaviour/account_keys subject, contact sender, none for the others
    assert stored[0].subject_pseudonym == records[0]["subject"]["pseudonym"]
    assert stored[1].subject_pseudonym == records[1]["subject"]["pseudonym"]
    assert stored[2].subject_pseudonym == records[2]["sender"]["pseudonym"]
    assert stored[3].subject_pseudonym is None and stored[3].key_version == 1
    assert stored[4].subject_pseudonym is None and stored[4].key_version == 2


def test_awkward_text_survives_the_bulk_writer(engine: Engine) -> None:
    """COPY's text format escapes tabs, newlines and backslashes; the payload must not change."""
    awkward = 'tab\there\nnew line \\ back\\slash "quoted" \\N ünïcödé 🙂 \r end'
    records = [conversation(f"c-{i}", awkward) for i in range(50)]
    records += [behaviour() for _ in range(950)]
    batch = validate_batch(batch_dict("plat-a", records))
    ingest(engine, "plat-a", batch)
    with Session(engine) as session:
        payloads = session.scalars(
            select(EnclaveRecordRow.payload).order_by(EnclaveRecordRow.record_pk)
        ).all()
    assert len(payloads) == 1000
    assert payloads[0]["messages"][0]["text"] == awkward
    assert payloads == [r.model_dump(mode="json", exclude_none=True) for r in batch.records]


def test_the_same_batch_again_is_a_replay_that_writes_nothing(engine: Engine) -> None:
    data = batch_dict("plat-a", platform_records(), "b-replay")
    first = ingest(engine, "plat-a", validate_batch(data))
    before = counts(engine)
    later = {**data, "created_at": (WHEN + timedelta(hours=3)).isoformat()}
    again = ingest(engine, "plat-a", validate_batch(later))
    assert again.replayed is True
    assert again.body() == {**first.body(), "replayed": True}
    assert counts(engine) == before


def test_other_content_under_a_used_id_is_a_conflict(engine: Engine) -> None:
    records = platform_records()
    ingest(engine, "plat-a", validate_batch(batch_dict("plat-a", records, "b-x")))
    before = counts(engine)
    changed = [*records[:-1], signal("sig-2")]
    with pytest.raises(BatchConflictError, match="b-x") as caught:
        ingest(engine, "plat-a", validate_batch(batch_dict("plat-a", changed, "b-x")))
    assert changed[-1]["value"] not in str(caught.value)
    assert counts(engine) == before


def test_the_same_batch_id_from_another_member_is_its_own_batch(engine: Engine) -> None:
    ingest(engine, "plat-a", validate_batch(batch_dict("plat-a", [behaviour()], "b-same")))
    other = ingest(engine, "plat-b", validate_batch(batch_dict("plat-b", [behaviour()], "b-same")))
    assert other.replayed is False
    assert counts(engine)["batches"] == 2


def test_duplicate_ids_inside_a_batch_are_named_by_index_and_field(engine: Engine) -> None:
    same_subject = subject()
    records = [
        registry_entry("J-1"),  # 0
        registry_entry("J-1"),  # 1 repeats 0
        signal("s-1"),  # 2
        signal("s-1"),  # 3 repeats 2
        contact_event("e-1"),  # 4
        contact_event("e-1"),  # 5 repeats 4
        cohort_label("L-1"),  # 6
        cohort_label("L-1"),  # 7 repeats 6
        conversation("c-1"),  # 8
        conversation("c-1"),  # 9 repeats 8
        behaviour(same_subject),  # 10
        behaviour(same_subject),  # 11 repeats 10
        behaviour(same_subject, period_start="2026-04"),  # another period: fine
        signal("e-1"),  # same id as an event, but another type: fine
    ]
    batch = validate_batch(batch_dict("plat-a", records))
    problems = duplicate_ids(batch)
    assert [(p.index, p.field) for p in problems] == [
        (1, "entry_id"),
        (3, "signal_id"),
        (5, "event_id"),
        (7, "label_id"),
        (9, "conversation_id"),
        (11, "subject"),
    ]
    assert "record 0" in problems[0].reason and "record 10" in problems[-1].reason
    assert all(same_subject["pseudonym"] not in p.reason for p in problems)
    with pytest.raises(BatchValidationError):
        ingest(engine, "plat-a", batch)
    assert counts(engine)["batches"] == 0


def test_a_batch_is_stored_only_for_the_member_it_names(engine: Engine) -> None:
    batch = validate_batch(batch_dict("plat-a", [behaviour()]))
    with pytest.raises(ValueError, match="plat-b"):
        ingest(engine, "plat-b", batch)
    assert counts(engine)["batches"] == 0


def test_a_failure_after_ingest_leaves_nothing(engine: Engine) -> None:
    batch = validate_batch(batch_dict("court-1", [registry_entry(), cohort_label()]))

    def store_then_fail() -> None:
        with Session(engine) as session, session.begin():
            ingest_batch(session, "court-1", batch)
            raise RuntimeError("the caller fails before committing")

    with pytest.raises(RuntimeError):
        store_then_fail()
    assert set(counts(engine).values()) == {0}


def _wait_until_blocked(engine: Engine, thread: threading.Thread) -> None:
    """Until the other transaction waits on a lock (PostgreSQL), or a moment (SQLite, where
    BEGIN IMMEDIATE makes it wait before it reads anything)."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 20
    with engine.connect() as connection:
        while time.monotonic() < deadline and thread.is_alive():
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            connection.rollback()
            time.sleep(0.02)
    raise AssertionError("the second submission never waited for the first")


@pytest.mark.parametrize("same_content", [True, False])
def test_two_racing_submissions_store_the_batch_once(engine: Engine, same_content: bool) -> None:
    data = batch_dict("plat-a", [behaviour(), signal()], "b-race")
    rival = data if same_content else batch_dict("plat-a", [behaviour()], "b-race")
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            outcome["result"] = ingest(engine, "plat-a", validate_batch(rival))
        except Exception as exc:
            outcome["error"] = exc

    with Session(engine) as session, session.begin():
        first = ingest_batch(session, "plat-a", validate_batch(data))
        thread = threading.Thread(target=second)
        thread.start()
        _wait_until_blocked(engine, thread)
    thread.join(30)
    assert not thread.is_alive()
    if same_content:
        assert "error" not in outcome, outcome
        assert outcome["result"].body() == {**first.body(), "replayed": True}
    else:
        assert isinstance(outcome.get("error"), BatchConflictError)
    assert counts(engine)["batches"] == 1
    assert counts(engine)["enclave_records"] == 1


def test_the_bulk_writer_on_its_own(engine: Engine) -> None:
    """write_records takes bare records through ``serialised``; an empty input writes nothing."""
    batch = validate_batch(batch_dict("plat-a", [behaviour(), account_keys(), contact_event()]))
    with Session(engine) as session, session.begin():
        row = BatchRow(
            member_id="plat-a",
            batch_id="direct",
            content_hash="0" * 64,
            schema_version="1.0",
            record_count=3,
            counts={},
        )
        session.add(row)
        session.flush()
        assert enclave.write_records(session, "plat-a", row.batch_pk, serialised([])) == 0
        written = enclave.write_records(
            session,
            "plat-a",
            row.batch_pk,
            serialised(batch.records),  # type: ignore[arg-type]
        )
    assert written == 3
    assert counts(engine)["enclave_records"] == 3


def test_records_of_a_large_batch_are_all_stored(engine: Engine) -> None:
    records = [behaviour() for _ in range(5_000)]
    result = ingest(engine, "plat-b", validate_batch(batch_dict("plat-b", records)))
    assert result.accepted == 5_000
    with Session(engine) as session:
        stored = set(session.scalars(select(EnclaveRecordRow.subject_pseudonym)).all())
    assert stored == {r["subject"]["pseudonym"] for r in records}
