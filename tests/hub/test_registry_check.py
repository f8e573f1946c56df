"""POST /v1/registry/check: a platform learns match or no match per account and nothing
else (no list, no entry or member ids, no counts); typology only where policy allows;
per-member rate limits with Retry-After; every check audited without pseudonyms. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from fastapi import Request
from sqlalchemy import select

from safehold.exchange import (
    IdentifierKind,
    OffenceTypology,
    RegistryEntry,
    RegistryStatus,
    SubjectRef,
)
from safehold.hub.policy import Role
from safehold.hub.ratelimit import registry_check_limiter
from safehold.store.models import AuditEventRow, BatchRow
from safehold.store.registry import write_entries
from tests.hub.conftest import Hub, make_hub

CHECK = "/v1/registry/check"


def pseudonym() -> str:
    return secrets.token_hex(32)


def ident(value: str, kind: str = "email", version: int = 1) -> dict[str, Any]:
    return {"kind": kind, "pseudonym": value, "key_version": version}


def body(*accounts: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {"accounts": [{"ref": ref, "identifiers": ids} for ref, ids in accounts]}


def put_entries(hub: Hub, member_id: str, *entries: RegistryEntry) -> None:
    """Store entries as a justice member's accepted batch would (not through the route)."""
    with hub.session() as session, session.begin():
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


def entry(
    entry_id: str,
    *pseudonyms: str,
    kind: IdentifierKind = IdentifierKind.EMAIL,
    version: int = 1,
    status: RegistryStatus = RegistryStatus.ACTIVE,
    typology: OffenceTypology = OffenceTypology.GROOMING,
) -> RegistryEntry:
    return RegistryEntry(
        entry_id=entry_id,
        subjects=[SubjectRef(kind=kind, pseudonym=p, key_version=version) for p in pseudonyms],
        typology=typology,
        convicted_month="2018-01",
        registered_from="2018-02",
        status=status,
    )


def matches(
    hub: Hub, *accounts: tuple[str, list[dict[str, Any]]], member: str = "plat-a"
) -> dict[str, bool]:
    response = hub.client.post(CHECK, json=body(*accounts), headers=hub.headers(member=member))
    assert response.status_code == 200, response.text
    return {r["ref"]: r["match"] for r in response.json()["results"]}


def audit_events(hub: Hub, action: str = "registry.check") -> list[AuditEventRow]:
    with hub.session() as session:
        return list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.seq)
            )
        )


def test_match_or_no_match_by_kind_key_version_and_status(hub: Hub) -> None:
    on, gone, old, phone = pseudonym(), pseudonym(), pseudonym(), pseudonym()
    put_entries(
        hub, "court-1", entry("c-1", on), entry("c-2", gone, status=RegistryStatus.WITHDRAWN)
    )
    put_entries(hub, "police-1", entry("p-1", old, status=RegistryStatus.EXPIRED))
    put_entries(hub, "probation-1", entry("pr-1", phone, kind=IdentifierKind.PHONE, version=2))
    answers = matches(
        hub,
        ("listed", [ident(pseudonym()), ident(on)]),
        ("stranger", [ident(pseudonym()), ident(pseudonym(), "phone")]),
        ("withdrawn", [ident(gone)]),
        ("expired", [ident(old)]),
        ("phone-v2", [ident(phone, "phone", 2)]),
        ("phone-as-email", [ident(phone, "email", 2)]),
        ("phone-v1", [ident(phone, "phone", 1)]),
    )
    assert answers == {
        "listed": True,
        "stranger": False,
        "withdrawn": False,
        "expired": False,
        "phone-v2": True,
        "phone-as-email": False,
        "phone-v1": False,
    }

    # the court sends the entry again, withdrawn: it stops matching
    person = pseudonym()
    put_entries(hub, "court-1", entry("c-9", person))
    assert matches(hub, ("a", [ident(person)])) == {"a": True}
    put_entries(hub, "court-1", entry("c-9", person, status=RegistryStatus.WITHDRAWN))
    assert matches(hub, ("a", [ident(person)])) == {"a": False}


def test_only_a_platform_learns_match_or_no_match_and_nothing_more(hub: Hub) -> None:
    people = [pseudonym() for _ in range(5)]
    put_entries(hub, "court-1", *(entry(f"court-entry-{i}", p) for i, p in enumerate(people)))
    response = hub.client.post(
        CHECK,
        json=body(("x1", [ident(people[0])]), ("x2", [ident(pseudonym())])),
        headers=hub.headers("platform"),
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer == {
        "results": [
            {"ref": "x1", "match": True, "typology": None},  # policy off by default
            {"ref": "x2", "match": False, "typology": None},
        ],
        "checked": 2,
    }
    for secret in ("court-entry", "court-1", *people[1:]):
        assert secret not in response.text
    assert not {"count", "total", "entries", "registry_size"} & set(response.headers)

    person = people[0]  # other roles learn nothing, not even match or no match
    for role in Role:
        response = hub.client.post(
            CHECK, json=body(("a", [ident(person)])), headers=hub.headers(role.value)
        )
        if role is Role.PLATFORM:
            assert response.status_code == 200
        else:
            assert response.status_code == 403, role
            assert person not in response.text


def test_the_typology_is_disclosed_only_where_policy_allows(
    tmp_path: Path, database_url: str
) -> None:
    hub = make_hub(tmp_path, database_url, registry_disclose_typology=True)
    try:
        person = pseudonym()
        put_entries(hub, "court-1", entry("c-1", person, typology=OffenceTypology.CONTACT))
        response = hub.client.post(
            CHECK,
            json=body(("a", [ident(person)]), ("b", [ident(pseudonym())])),
            headers=hub.headers("platform"),
        )
        assert response.json()["results"] == [
            {"ref": "a", "match": True, "typology": "contact"},
            {"ref": "b", "match": False, "typology": None},
        ]
    finally:
        hub.client.close()
        hub.engine.dispose()


def test_checks_are_rate_limited_per_member_and_recover(tmp_path: Path, database_url: str) -> None:
    hub = make_hub(tmp_path, database_url, registry_check_burst=3, registry_checks_per_minute=60)
    try:
        now = [1_000.0]
        limiter = registry_check_limiter(cast(Request, SimpleNamespace(app=hub.client.app)))
        limiter.clock = lambda: now[0]
        assert (limiter.capacity, limiter.per_second) == (3, 1.0)
        three = body(*((f"r{i}", [ident(pseudonym())]) for i in range(3)))
        one = body(("r9", [ident(pseudonym())]))
        plat_a = hub.headers(member="plat-a")

        assert hub.client.post(CHECK, json=three, headers=plat_a).status_code == 200
        limited = hub.client.post(CHECK, json=one, headers=plat_a)
        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert limited.headers["retry-after"] == "1"  # one account refills in one second
        now[0] += 0.25
        assert hub.client.post(CHECK, json=one, headers=plat_a).headers["retry-after"] == "1"
        assert (
            hub.client.post(CHECK, json=three, headers=hub.headers(member="plat-b")).status_code
            == 200
        )
        now[0] += 0.75
        assert hub.client.post(CHECK, json=one, headers=plat_a).status_code == 200

        too_many = body(*((f"r{i}", [ident(pseudonym())]) for i in range(4)))
        refused = hub.client.post(CHECK, json=too_many, headers=plat_a)
        assert refused.status_code == 413 and refused.json()["error"] == "too_many_accounts"

        events = audit_events(hub)
        assert [e.outcome for e in events] == ["ok", "denied", "denied", "ok", "ok", "rejected"]
        assert events[1].detail == {"accounts": 1, "error": "rate_limited", "status": 429}
    finally:
        hub.client.close()
        hub.engine.dispose()


def test_every_check_is_audited_with_the_matched_refs_and_never_a_pseudonym(hub: Hub) -> None:
    person, others = pseudonym(), [pseudonym(), pseudonym()]
    put_entries(hub, "court-1", entry("c-1", person))
    matches(
        hub,
        ("acct-7", [ident(others[0])]),
        ("acct-8", [ident(person)]),
        ("acct-9", [ident(others[1])]),
    )
    matches(hub, ("acct-1", [ident(others[0])]))
    bad = hub.client.post(
        CHECK, json=body(("z", [ident("0" * 63)])), headers=hub.headers("platform")
    )
    assert bad.status_code == 422

    events = audit_events(hub)
    assert [(e.outcome, list(e.object_ids), e.detail) for e in events] == [
        ("ok", ["acct-8"], {"accounts": 3, "matches": 1}),
        ("ok", [], {"accounts": 1, "matches": 0}),
        ("rejected", [], {"error": "check_rejected", "status": 422}),
    ]
    assert {(e.member_id, e.role) for e in events} == {("plat-a", "platform")}
    trail = json.dumps([[e.object_ids, e.detail] for e in audit_events(hub)])
    for value in (person, *others):
        assert value not in trail


MALFORMED: list[tuple[dict[str, Any], str]] = [
    (body(("a", [ident("Z" * 64)])), "identifiers.0.pseudonym"),
    (body(("a", [{**ident(pseudonym()), "key_version": "1"}])), "identifiers.0.key_version"),
    (body(("a", [{**ident(pseudonym()), "name": "x"}])), "identifiers.0.name"),
    (body(("a", [ident(pseudonym(), "postcode")])), "identifiers.0.kind"),
    (body(("a", [])), "identifiers"),
    (body(("a", [ident(pseudonym()) for _ in range(21)])), "identifiers"),
    (body(("a b", [ident(pseudonym())])), "ref"),
    (body(("a", [ident(pseudonym())]), ("a", [ident(pseudonym())])), "ref"),
]


def test_a_malformed_check_is_refused_whole_without_quoting_values(hub: Hub) -> None:
    for payload, field in MALFORMED:
        response = hub.client.post(CHECK, json=payload, headers=hub.headers("platform"))
        assert response.status_code == 422, response.text
        answer = response.json()
        assert answer["error"] == "check_rejected"
        assert field in [d["field"] for d in answer["details"]], (field, answer)
        assert {d["index"] for d in answer["details"]} <= {0, 1}
        for account in payload["accounts"]:
            for identifier in account["identifiers"]:
                assert identifier["pseudonym"] not in response.text

    headers = hub.headers("platform")
    broken = hub.client.post(
        CHECK, content=b'{"accounts": [', headers={**headers, "Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.json()["error"]) == (400, "malformed_json")
    empty = hub.client.post(CHECK, json={"accounts": []}, headers=headers)
    assert (empty.status_code, empty.json()["details"][0]["field"]) == (422, "accounts")
    extra = hub.client.post(
        CHECK, json={**body(("a", [ident(pseudonym())])), "all": True}, headers=headers
    )
    assert (extra.status_code, extra.json()["details"][0]["field"]) == (422, "all")
    gzipped = hub.client.post(
        CHECK, content=b"\x1f\x8b", headers={**headers, "Content-Encoding": "gzip"}
    )
    assert gzipped.status_code == 415
    anonymous = hub.client.post(CHECK, content=b"{not json")
    assert anonymous.status_code == 401  # the key is checked before the body is read

    context = hub.client.app.state.hub  # type: ignore[attr-defined]
    context.settings = replace(context.settings, max_body_bytes=4_096)
    large = body(*((f"r{i}", [ident(pseudonym())]) for i in range(60)))
    too_large = hub.client.post(CHECK, json=large, headers=headers)
    assert (too_large.status_code, too_large.json()["error"]) == (413, "body_too_large")
