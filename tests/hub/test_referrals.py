"""Safeguarding referrals through the API: police refer, the named local authority reads,
nobody else does; a resend stores nothing new; a bad referral is refused naming the field;
writes and reads are audited. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from safehold.exchange import Member, MemberKind
from safehold.store.members import add_member, issue_key
from safehold.store.models import AuditEventRow, CaseRow
from tests.hub.conftest import SETUP, Hub

REFERRALS = "/v1/referrals"


def referral(referral_id: str = "ref-1", **changes: Any) -> dict[str, Any]:
    return {
        "referral_id": referral_id,
        "case_reference": "case-2026-17.device-3",
        "to_member": "la-1",
        "child": {"case_ref": "child-1"},
        "child_age_band": "13_15",
        "reasons": ["conversation warned (risk 0.91): secrecy, moving off-platform"],
        "evidence": [
            {
                "conversation_id": "mmssms.db#thread-4",
                "message_refs": ["mmssms.db#sms/12", "mmssms.db#sms/15"],
                "stages": ["secrecy", "isolation"],
            }
        ],
        "made_at": "2026-12-02T05:00:00Z",
        **changes,
    }


def second_local_authority(hub: Hub) -> str:
    with hub.session() as session, session.begin():
        add_member(
            session,
            Member(member_id="la-2", name="Other LA", kind=MemberKind.LOCAL_AUTHORITY),
            SETUP,
        )
        key = issue_key(session, SETUP, "la-2").plaintext
    return key


def cases(hub: Hub) -> int:
    with hub.session() as session:
        return session.scalar(select(func.count()).select_from(CaseRow)) or 0


def read(hub: Hub, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = hub.client.get(REFERRALS, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["referrals"]
    return found


def test_police_refer_and_only_the_named_local_authority_reads_it(hub: Hub) -> None:
    other_la = second_local_authority(hub)
    sent = referral()
    response = hub.client.post(REFERRALS, json={"referral": sent}, headers=hub.headers("police"))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["replayed"] is False and answer["to_member"] == "la-1"

    for_la = read(hub, hub.headers("local_authority"))
    assert [r["case_id"] for r in for_la] == [answer["case_id"]]
    assert for_la[0]["from_member"] == "police-1"
    assert for_la[0]["referral"]["child"] == {"pseudonym": None, "case_ref": "child-1"}
    assert for_la[0]["referral"]["evidence"] == sent["evidence"]
    assert [r["case_id"] for r in read(hub, hub.headers("police"))] == [answer["case_id"]]
    assert read(hub, {"Authorization": f"Bearer {other_la}"}) == []
    for role in ("platform", "probation", "researcher", "operator"):
        assert hub.client.get(REFERRALS, headers=hub.headers(role)).status_code == 403, role
    for role in ("platform", "local_authority", "court"):
        denied = hub.client.post(REFERRALS, json={"referral": sent}, headers=hub.headers(role))
        assert denied.status_code == 403, role
    assert cases(hub) == 1


def test_a_resend_creates_nothing_and_other_content_is_a_conflict(hub: Hub) -> None:
    police = hub.headers("police")
    first = hub.client.post(REFERRALS, json={"referral": referral()}, headers=police)
    again = hub.client.post(REFERRALS, json={"referral": referral()}, headers=police)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    changed = referral(child_age_band="under_13")
    conflict = hub.client.post(REFERRALS, json={"referral": changed}, headers=police)
    assert conflict.status_code == 409 and conflict.json()["error"] == "referral_conflict"
    assert cases(hub) == 1
    assert len(read(hub, hub.headers("local_authority"))) == 1
    with hub.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "referrals.write")
        ).all()
    assert [e.outcome for e in events] == ["ok", "ok", "rejected"]
    assert [e.detail.get("replayed") for e in events[:2]] == [False, True]
    assert all("child-1" not in str(e.detail) for e in events)


def _refused_field(hub: Hub, body: dict[str, Any]) -> list[str]:
    response = hub.client.post(REFERRALS, json={"referral": body}, headers=hub.headers("police"))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "referral_rejected"
    assert "07700" not in response.text
    return [d["field"] for d in response.json()["details"]]


def test_a_bad_referral_is_refused_naming_the_field_and_nothing_is_stored(hub: Hub) -> None:
    assert _refused_field(hub, referral(to_member="plat-a")) == ["referral.to_member"]
    assert _refused_field(hub, referral(to_member="no-such-la")) == ["referral.to_member"]
    assert _refused_field(hub, referral(child_age_band="25_34")) == ["referral.child_age_band"]
    assert _refused_field(hub, referral(reasons=["texted 07700 900123 late at night"])) == [
        "referral.reasons"
    ]
    assert _refused_field(hub, referral(child={})) == ["referral.child"]
    pointer = {"conversation_id": "sms.db#+447700900123"}
    assert _refused_field(hub, referral(evidence=[pointer])) == [
        "referral.evidence.0.conversation_id"
    ]
    assert _refused_field(hub, referral(image="iVBORw0KGgo=")) == ["referral.image"]
    assert cases(hub) == 0
