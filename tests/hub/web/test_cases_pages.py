"""/cases: police see their triaged devices, escalations to them and referrals they sent; a
local authority sees referrals to it and records support (CSRF, audited, appended). Another
member's case is a 404, by list or by URL. Every view is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.exchange import Member, MemberKind, Referral
from safehold.store.members import add_member
from safehold.store.models import AuditEventRow, CaseRow
from safehold.store.referrals import store_referral
from tests.hub.conftest import SETUP, Hub
from tests.hub.web.conftest import add_web_user, sign_in

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


def _referral(referral_id: str, to: str) -> Referral:
    return Referral.model_validate(
        {
            "referral_id": referral_id,
            "case_reference": f"case-{referral_id}",
            "to_member": to,
            "child": {"case_ref": "child-1"},
            "child_age_band": "13_15",
            "reasons": ["conversation warned: secrecy, moving off-platform"],
            "evidence": [{"conversation_id": "c1", "message_refs": ["m1"], "stages": ["secrecy"]}],
            "made_at": "2026-12-02T05:00:00Z",
        }
    )


def _device(case_id: str, member: str, score: float) -> CaseRow:
    return CaseRow(
        case_id=case_id,
        member_id=member,
        status="open",
        priority=score,
        created_at=T0,
        payload={
            "kind": "device",
            "summary": {
                "device_id": f"device-{case_id}",
                "score": score,
                "reasons": [f"reason for {case_id}: known-image matches"],
                "counts": {"known_images": 3},
                "triaged_at": T0.isoformat(),
            },
        },
    )


def _world(hub: Hub) -> dict[str, str]:
    with Session(hub.engine) as session, session.begin():
        add_member(
            session, Member(member_id="police-2", name="Police 2", kind=MemberKind.POLICE), SETUP
        )
        add_member(
            session,
            Member(member_id="la-2", name="LA 2", kind=MemberKind.LOCAL_AUTHORITY),
            SETUP,
        )
        session.add_all(
            [
                _device("dev-a", "police-1", 0.4),
                _device("dev-b", "police-1", 0.95),
                _device("dev-x", "police-2", 0.99),
                CaseRow(
                    case_id="esc-1",
                    member_id="plat-a",
                    addressed_to="police-1",
                    status="open",
                    priority=5.0,
                    created_at=T0,
                    payload={
                        "kind": "escalation",
                        "alert_id": "alert-1",
                        "from_member": "plat-a",
                        "severity": 5,
                        "rules": ["fan_out"],
                        "reasons": ["the sender contacted at least 5 different children"],
                        "rationale": "fan-out to five children in two days",
                    },
                ),
            ]
        )
        ids = {
            "r1": store_referral(session, "police-1", _referral("r1", "la-1")).case_id,
            "r2": store_referral(session, "police-2", _referral("r2", "la-2")).case_id,
        }
    add_web_user(hub, "pc", "police")
    add_web_user(hub, "pc2", "police", member_id="police-2")
    add_web_user(hub, "sw", "local_authority")
    add_web_user(hub, "sw2", "local_authority", member_id="la-2")
    add_web_user(hub, "rev", "platform")
    return ids


def _audited(hub: Hub, action: str) -> list[AuditEventRow]:
    with Session(hub.engine) as session:
        return list(
            session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)).all()
        )


def test_police_see_their_queues_in_order_and_nothing_of_others(web_hub: Hub) -> None:
    ids = _world(web_hub)
    pc = sign_in(web_hub, "pc")
    page = pc.client.get("/cases")
    assert page.status_code == 200
    text = page.text
    assert text.index("device-dev-b") < text.index("device-dev-a"), "highest score first"
    assert "device-dev-x" not in text
    assert "the sender contacted at least 5 different children" in text  # escalation
    assert "case-r1" in text and "case-r2" not in text
    [listed] = _audited(web_hub, "cases.list")
    assert set(listed.object_ids) == {"dev-a", "dev-b", "esc-1", ids["r1"]}
    # A case page is audited; another member's case is a 404 like a missing one.
    assert pc.client.get("/cases/dev-b").status_code == 200
    for other in ("dev-x", ids["r2"], "no-such-case"):
        answer = pc.client.get(f"/cases/{other}")
        assert answer.status_code == 404, other
        assert "device-dev-x" not in answer.text
    reads = _audited(web_hub, "cases.view")
    assert [(e.outcome, e.object_ids) for e in reads] == [
        ("ok", ["dev-b"]),
        ("denied", ["dev-x"]),
        ("denied", [ids["r2"]]),
        ("denied", ["no-such-case"]),
    ]


def test_a_local_authority_sees_its_referrals_only_and_records_support(web_hub: Hub) -> None:
    ids = _world(web_hub)
    sw = sign_in(web_hub, "sw")
    listing = sw.client.get("/cases").text
    assert "case-r1" in listing and "case-r2" not in listing and "device-dev-a" not in listing
    assert sw.client.get("/cases/dev-a").status_code == 404
    assert sw.client.get(f"/cases/{ids['r2']}").status_code == 404
    page = sw.client.get(f"/cases/{ids['r1']}")
    assert page.status_code == 200 and 'id="support-form"' in page.text
    answer = sw.post(
        f"/cases/{ids['r1']}/support",
        {"status": "support_given", "support": "safety_plan", "note": "Met at school."},
    )
    assert answer.status_code == 303
    shown = sw.client.get(answer.headers["location"]).text
    assert "Support recorded." in shown and "Met at school." in shown
    assert "safety plan made with the child" in shown
    with Session(web_hub.engine) as session:
        row = session.get(CaseRow, ids["r1"])
        assert row is not None and row.status == "support_given"
        assert row.payload["support_history"][0]["by"] == "user:sw"
    [recorded] = [e for e in _audited(web_hub, "cases.support") if e.outcome == "ok"]
    assert recorded.object_ids == [ids["r1"]] and recorded.actor == "user:sw"
    # The police sender sees the support on its referral, but cannot record any.
    pc = sign_in(web_hub, "pc")
    assert "Met at school." in pc.client.get(f"/cases/{ids['r1']}").text
    refused = pc.post(f"/cases/{ids['r1']}/support", {"status": "closed"})
    assert refused.status_code == 403


def test_support_needs_csrf_a_valid_form_and_the_right_member(web_hub: Hub) -> None:
    ids = _world(web_hub)
    sw = sign_in(web_hub, "sw")
    no_token = sw.client.post(
        f"/cases/{ids['r1']}/support", data={"status": "closed"}, follow_redirects=False
    )
    assert no_token.status_code == 403
    bad = sw.post(f"/cases/{ids['r1']}/support", {"status": "support_given"})
    assert bad.status_code == 422 and "say which support was given" in bad.text
    other = sign_in(web_hub, "sw2").post(f"/cases/{ids['r1']}/support", {"status": "closed"})
    assert other.status_code == 404
    with Session(web_hub.engine) as session:
        row = session.get(CaseRow, ids["r1"])
        assert row is not None and row.status == "open" and "support_history" not in row.payload
    outcomes = sorted(e.outcome for e in _audited(web_hub, "cases.support"))
    assert outcomes == ["denied", "denied", "rejected"]


def test_roles_without_cases_are_refused(web_hub: Hub) -> None:
    _world(web_hub)
    rev = sign_in(web_hub, "rev")
    assert rev.client.get("/cases").status_code == 403
    assert rev.client.get("/cases/dev-a").status_code == 403
    assert web_hub.client.get("/cases", follow_redirects=False).status_code == 303
