"""Registry checks in the store: an account matches only an active entry's identifier of the
same kind, pseudonym and key version; withdrawn, expired and ended entries never match; a
check is a few bulk queries, never one per account. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from safehold.exchange import (
    IdentifierKind,
    Member,
    MemberKind,
    OffenceTypology,
    RegistryEntry,
    RegistryStatus,
    SizeBand,
    SubjectRef,
)
from safehold.store import registry
from safehold.store.database import make_engine
from safehold.store.members import Actor, add_member
from safehold.store.migrate import upgrade
from safehold.store.models import BatchRow
from safehold.store.registry import AccountMatch, AccountQuery, check_accounts, write_entries

SETUP = Actor("test-setup", "operator")
EMAIL, PHONE, USERNAME = IdentifierKind.EMAIL, IdentifierKind.PHONE, IdentifierKind.USERNAME


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        for member_id, kind in (
            ("court-1", MemberKind.COURT),
            ("police-1", MemberKind.POLICE),
            ("plat-a", MemberKind.PLATFORM),
        ):
            size = SizeBand.LARGE if kind is MemberKind.PLATFORM else None
            add_member(
                session,
                Member(member_id=member_id, name=member_id, kind=kind, size_band=size),
                SETUP,
            )
    yield engine
    engine.dispose()


def pseudonym() -> str:
    return secrets.token_hex(32)


def subject(kind: IdentifierKind, value: str, version: int = 1) -> SubjectRef:
    return SubjectRef(kind=kind, pseudonym=value, key_version=version)


def entry(
    entry_id: str,
    *subjects: SubjectRef,
    status: RegistryStatus = RegistryStatus.ACTIVE,
    typology: OffenceTypology = OffenceTypology.CONTACT,
    until: str | None = None,
) -> RegistryEntry:
    return RegistryEntry(
        entry_id=entry_id,
        subjects=list(subjects),
        typology=typology,
        convicted_month="2019-05",
        registered_from="2019-06",
        registered_until=until,
        status=status,
    )


def store(engine: Engine, member_id: str, *entries: RegistryEntry) -> None:
    with Session(engine) as session, session.begin():
        batch = BatchRow(
            member_id=member_id,
            batch_id=f"b-{secrets.token_hex(4)}",
            content_hash="0" * 64,
            schema_version="1.0",
            record_count=len(entries),
            counts={},
        )
        session.add(batch)
        session.flush()
        write_entries(session, member_id, batch.batch_pk, list(entries))


def check(engine: Engine, *accounts: tuple[str, list[SubjectRef]], **kw: Any) -> list[AccountMatch]:
    with Session(engine) as session, session.begin():
        return check_accounts(
            session, [AccountQuery(ref, tuple(ids)) for ref, ids in accounts], **kw
        )


def test_an_account_matches_when_any_identifier_is_on_an_active_entry(engine: Engine) -> None:
    court_person, police_person, phone = pseudonym(), pseudonym(), pseudonym()
    store(engine, "court-1", entry("c1", subject(EMAIL, court_person)))
    store(engine, "police-1", entry("p1", subject(USERNAME, police_person), subject(PHONE, phone)))
    answers = check(
        engine,
        ("a", [subject(EMAIL, pseudonym()), subject(EMAIL, court_person)]),
        ("b", [subject(EMAIL, pseudonym())]),
        ("c", [subject(PHONE, phone)]),
        ("d", [subject(USERNAME, police_person), subject(PHONE, pseudonym())]),
        ("e", [subject(USERNAME, pseudonym()), subject(PHONE, pseudonym())]),
    )
    assert [(a.ref, a.match) for a in answers] == [
        ("a", True),
        ("b", False),
        ("c", True),
        ("d", True),
        ("e", False),
    ]
    assert all(a.typology is None for a in answers if not a.match)


def test_kinds_and_key_versions_never_cross(engine: Engine) -> None:
    value = pseudonym()
    store(engine, "court-1", entry("c1", subject(EMAIL, value, version=2)))
    answers = check(
        engine,
        ("same", [subject(EMAIL, value, version=2)]),
        ("other-kind", [subject(PHONE, value, version=2)]),
        ("other-kind-2", [subject(USERNAME, value, version=2)]),
        ("older-key", [subject(EMAIL, value, version=1)]),
        ("newer-key", [subject(EMAIL, value, version=3)]),
    )
    assert {a.ref: a.match for a in answers} == {
        "same": True,
        "other-kind": False,
        "other-kind-2": False,
        "older-key": False,
        "newer-key": False,
    }


def test_withdrawn_expired_and_ended_entries_never_match(engine: Engine) -> None:
    withdrawn, expired, ended, ending, later = (pseudonym() for _ in range(5))
    store(
        engine,
        "court-1",
        entry("w", subject(EMAIL, withdrawn), status=RegistryStatus.WITHDRAWN),
        entry("x", subject(EMAIL, expired), status=RegistryStatus.EXPIRED),
        entry("e", subject(EMAIL, ended), until="2026-02"),
        entry("n", subject(EMAIL, ending), until="2026-03"),
        entry("l", subject(EMAIL, later), until="2030-01"),
    )
    march = datetime(2026, 3, 15, tzinfo=UTC)
    answers = check(
        engine,
        *(
            (name, [subject(EMAIL, value)])
            for name, value in [
                ("withdrawn", withdrawn),
                ("expired", expired),
                ("ended", ended),
                ("ending", ending),
                ("later", later),
            ]
        ),
        now=march,
    )
    assert {a.ref: a.match for a in answers} == {
        "withdrawn": False,
        "expired": False,
        "ended": False,  # registered until February: over by March
        "ending": True,  # registered until March: still on in March
        "later": True,
    }


def test_an_entry_sent_again_as_withdrawn_stops_matching(engine: Engine) -> None:
    old, new = pseudonym(), pseudonym()
    store(engine, "court-1", entry("c1", subject(EMAIL, old)))
    assert check(engine, ("r", [subject(EMAIL, old)]))[0].match
    store(engine, "court-1", entry("c1", subject(EMAIL, old), subject(EMAIL, new)))
    assert [
        a.match for a in check(engine, ("r", [subject(EMAIL, old)]), ("s", [subject(EMAIL, new)]))
    ] == [True, True]
    store(engine, "court-1", entry("c1", subject(EMAIL, new), status=RegistryStatus.WITHDRAWN))
    assert [
        a.match for a in check(engine, ("r", [subject(EMAIL, old)]), ("s", [subject(EMAIL, new)]))
    ] == [False, False]


def test_the_same_person_on_another_members_list_still_matches(engine: Engine) -> None:
    value = pseudonym()
    store(
        engine, "court-1", entry("same-id", subject(EMAIL, value), status=RegistryStatus.WITHDRAWN)
    )
    store(
        engine,
        "police-1",
        entry("same-id", subject(EMAIL, value), typology=OffenceTypology.GROOMING),
    )
    (answer,) = check(engine, ("r", [subject(EMAIL, value)]))
    assert answer == AccountMatch("r", True, "grooming")


def test_an_account_matching_several_entries_reports_the_gravest_typology(engine: Engine) -> None:
    email, phone = pseudonym(), pseudonym()
    store(
        engine,
        "court-1",
        entry("c1", subject(EMAIL, email), typology=OffenceTypology.CSEM_ONLY),
        entry("c2", subject(PHONE, phone), typology=OffenceTypology.CONTACT),
    )
    store(engine, "police-1", entry("p1", subject(EMAIL, email), typology=OffenceTypology.OTHER))
    answers = check(
        engine,
        ("email", [subject(EMAIL, email)]),
        ("both", [subject(EMAIL, email), subject(PHONE, phone)]),
    )
    assert [(a.ref, a.typology) for a in answers] == [("email", "csem_only"), ("both", "contact")]


def test_a_check_is_a_few_bulk_queries_whatever_the_number_of_accounts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "_CHECK_CHUNK", 700)  # SQLite: several chunks, even here
    listed = [pseudonym() for _ in range(30)]
    store(engine, "court-1", *(entry(f"c{i}", subject(EMAIL, p)) for i, p in enumerate(listed)))
    accounts = [
        (f"r{i}", [subject(EMAIL, listed[i // 70] if i % 70 == 0 else pseudonym())])
        for i in range(2_000)
    ]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session, session.begin():
            first = check_accounts(session, [AccountQuery(r, tuple(i)) for r, i in accounts])
            again = check_accounts(session, [AccountQuery(r, tuple(i)) for r, i in accounts[:100]])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [a.ref for a in first if a.match] == [f"r{i}" for i in range(0, 2_000, 70)]
    assert [a.ref for a in again if a.match] == ["r0", "r70"]
    lookups = [s for s in statements if "registry_identifiers" in s]
    assert 2 <= len(lookups) <= 4, lookups  # 2,000 + 100 accounts: at most 3 + 1 queries
    assert len(statements) <= 8, statements


def test_values_that_are_not_pseudonyms_match_nothing(engine: Engine) -> None:
    value = pseudonym()
    store(engine, "court-1", entry("c1", subject(EMAIL, value)))
    odd = SubjectRef.model_construct(kind=EMAIL, pseudonym=f"{value}\tx\\n", key_version=1)
    answers = check(engine, ("odd", [odd]), ("ok", [subject(EMAIL, value)]))
    assert [a.match for a in answers] == [False, True]
