"""POST/GET /v1/cases: police push device summaries (score, reasons, counts; no evidence),
one case per (member, device): a resend is a replay, a newer triage refreshes the case, an
older one is refused; each police member reads only its own; every step is audited.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from safehold.exchange import Member, MemberKind
from safehold.store.members import add_member, issue_key
from safehold.store.models import AuditEventRow, CaseRow
from tests.hub.conftest import SETUP, Hub

CASES = "/v1/cases"


def summary(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "device_id": "exhibit-AB-07",
        "score": 61.5,
        "reasons": [
            "3 known items in 4 files match hash sets (A: 1, C: 2): 29.0 points",
            "1 of 2 conversations with a likely child raise a grooming-pattern warning",
        ],
        "counts": {"files": 120, "messages": 300, "known_items": 3, "warned_conversations": 1},
        "triaged_at": "2026-12-01T10:00:00+00:00",
    }
    return {"summary": fields | changes}


def push(hub: Hub, body: dict[str, Any], role: str = "police") -> Any:
    return hub.client.post(CASES, json=body, headers=hub.headers(role))


def test_a_device_case_is_stored_once_with_exactly_the_contracted_payload(hub: Hub) -> None:
    first = push(hub, summary())
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "created"
    again = push(hub, summary())
    assert again.status_code == 200 and again.json()["outcome"] == "replayed"
    assert again.json()["case_id"] == first.json()["case_id"]
    with hub.session() as session:
        rows = session.scalars(select(CaseRow)).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.member_id == "police-1" and row.addressed_to is None and row.status == "open"
    assert row.priority == 61.5
    assert row.payload == {"kind": "device", "summary": summary()["summary"]}
    assert set(row.payload["summary"]) == {"device_id", "score", "reasons", "counts", "triaged_at"}


def test_a_newer_triage_refreshes_the_case_and_an_older_one_is_refused(hub: Hub) -> None:
    assert push(hub, summary()).status_code == 201
    newer = push(hub, summary(score=80.0, triaged_at="2026-12-02T09:00:00+00:00"))
    assert newer.status_code == 200 and newer.json()["outcome"] == "updated"
    older = push(hub, summary(score=5.0, triaged_at="2026-11-30T09:00:00+00:00"))
    assert older.status_code == 409 and older.json()["error"] == "stale_case"
    cases = hub.client.get(CASES, headers=hub.headers("police")).json()["cases"]
    assert [c["priority"] for c in cases] == [80.0]
    assert cases[0]["payload"]["summary"]["triaged_at"] == "2026-12-02T09:00:00+00:00"


def test_evidence_in_a_summary_is_refused_naming_the_field(hub: Hub) -> None:
    for bad in (
        summary(reasons=["matched sdcard/DCIM/img_0001.jpg"]),
        summary(reasons=["contact +44 7700 900123 is registered"]),
        summary(device_id="phone 07700900123"),
        summary(counts={"files": -1}),
        summary(messages=["hello"]),
        summary(triaged_at="2026-12-01T10:00:00"),  # no zone
        summary(reasons=[]),
    ):
        response = push(hub, bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"] == "case_rejected"
        assert response.json()["details"][0]["field"].startswith("summary")
    with hub.session() as session:
        assert session.scalars(select(CaseRow)).all() == []
        refused = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "cases.write")
        ).all()
    assert len(refused) == 7 and {e.outcome for e in refused} == {"rejected"}
    assert all("07700" not in str(e.detail) for e in refused)


def test_each_police_member_reads_only_its_own_device_cases(hub: Hub) -> None:
    with hub.session() as session, session.begin():
        add_member(
            session, Member(member_id="police-2", name="Police 2", kind=MemberKind.POLICE), SETUP
        )
        other_key = issue_key(session, SETUP, "police-2").plaintext
    other = {"Authorization": f"Bearer {other_key}"}
    assert push(hub, summary()).status_code == 201
    assert push(hub, summary(device_id="exhibit-CD-01", score=12.0)).status_code == 201
    theirs = hub.client.post(CASES, json=summary(), headers=other)
    assert theirs.status_code == 201, "the same device id under another member is its own case"
    mine = hub.client.get(CASES, headers=hub.headers("police")).json()["cases"]
    assert [c["payload"]["summary"]["device_id"] for c in mine] == [
        "exhibit-AB-07",
        "exhibit-CD-01",
    ]
    assert len(hub.client.get(CASES, headers=other).json()["cases"]) == 1
    assert hub.client.get("/v1/referrals", headers=hub.headers("police")).json()["referrals"] == []
    for role in ("local_authority", "platform", "court"):
        assert hub.client.get(CASES, headers=hub.headers(role)).status_code == 403
    with hub.session() as session:
        reads = session.scalars(
            select(AuditEventRow).where(
                AuditEventRow.action == "cases.read", AuditEventRow.outcome == "ok"
            )
        ).all()
    assert [len(e.object_ids) for e in reads] == [2, 1]
