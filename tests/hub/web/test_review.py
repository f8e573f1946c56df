"""The alert queue, the alert page and decisions, through the web routes (TestClient)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.store.models import AlertRow, AuditEventRow, CaseRow, DecisionRow, UserRow
from tests.hub.conftest import Hub
from tests.hub.web.conftest import SignedIn, add_web_user, sign_in, synthetic_alerts


def _reviewers(hub: Hub) -> tuple[SignedIn, SignedIn]:
    add_web_user(hub, "rita", "platform")
    add_web_user(hub, "sam", "platform")
    return sign_in(hub, "rita"), sign_in(hub, "sam")


def _events(hub: Hub, action: str) -> list[AuditEventRow]:
    with Session(hub.engine) as session:
        return list(
            session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)).all()
        )


def test_queue_is_sorted_by_severity_then_age_with_counts_and_filters(web_hub: Hub) -> None:
    ids = synthetic_alerts(web_hub, "plat-a", count=6)
    rita, _ = _reviewers(web_hub)
    page = rita.client.get("/alerts").text
    positions = [page.index(i[:10]) for i in ids]
    severities = [5 - (i % 3) for i in range(6)]
    order = sorted(range(6), key=lambda i: (-severities[i], i))
    assert sorted(positions) == [positions[i] for i in order]
    assert 'data-status="open">6<' in page
    assert "<kbd>j</kbd>" in page and "<kbd>k</kbd>" in page and "<kbd>Enter</kbd>" in page
    fan_out = rita.client.get("/alerts?rule=fan_out").text
    assert all((i[:10] in fan_out) == (n % 2 == 1) for n, i in enumerate(ids))
    severe = rita.client.get("/alerts?severity=5").text
    assert all((i[:10] in severe) == (severities[n] == 5) for n, i in enumerate(ids))


def test_another_members_alerts_are_invisible_and_404_by_url(web_hub: Hub) -> None:
    mine = synthetic_alerts(web_hub, "plat-a", count=2)
    add_web_user(web_hub, "bea", "platform", member_id="plat-b")
    bea = sign_in(web_hub, "bea")
    queue = bea.client.get("/alerts?status=all").text
    assert all(i[:10] not in queue for i in mine)
    for path in (f"/alerts/{mine[0]}",):
        assert bea.client.get(path).status_code == 404
    assert bea.post(f"/alerts/{mine[0]}/claim").status_code == 404
    assert bea.post(f"/alerts/{mine[0]}/reveal").status_code == 404
    assert (
        bea.post(f"/alerts/{mine[0]}/decide", {"kind": "warn", "rationale": "x" * 20}).status_code
        == 404
    )
    with Session(web_hub.engine) as session:
        alert = session.get(AlertRow, mine[0])
        assert alert is not None and alert.claimed_by is None


def test_claim_is_exclusive_and_release_frees_it(web_hub: Hub) -> None:
    [alert_id] = synthetic_alerts(web_hub, "plat-a", count=1)
    rita, sam = _reviewers(web_hub)
    assert rita.post(f"/alerts/{alert_id}/claim").status_code == 303
    taken = sam.post(f"/alerts/{alert_id}/claim")
    assert taken.status_code == 409
    assert "claimed" in taken.text
    row = sam.post(f"/alerts/{alert_id}/claim", {"view": "row"}, headers={"HX-Request": "true"})
    assert row.status_code == 409 and "<tr" in row.text and "rita" in row.text
    assert sam.post(f"/alerts/{alert_id}/release").status_code == 409
    assert rita.post(f"/alerts/{alert_id}/release").status_code == 303
    assert sam.post(f"/alerts/{alert_id}/claim").status_code == 303
    outcomes = [e.outcome for e in _events(web_hub, "alert.claim")]
    assert outcomes == ["ok", "rejected", "rejected", "ok"]


def test_evidence_is_not_sent_until_revealed_and_each_reveal_is_audited(web_hub: Hub) -> None:
    [alert_id] = synthetic_alerts(web_hub, "plat-a", count=1)
    rita, _ = _reviewers(web_hub)
    text = "this is our secret"
    assert text not in rita.client.get(f"/alerts/{alert_id}").text
    assert rita.post(f"/alerts/{alert_id}/reveal").status_code == 409, "claim first"
    rita.post(f"/alerts/{alert_id}/claim")
    assert text not in rita.client.get(f"/alerts/{alert_id}").text
    revealed = rita.post(f"/alerts/{alert_id}/reveal", headers={"HX-Request": "true"})
    assert revealed.status_code == 200 and text in revealed.text
    rita.post(f"/alerts/{alert_id}/reveal")
    events = _events(web_hub, "evidence.reveal")
    assert [e.outcome for e in events] == ["denied", "ok", "ok"]
    assert all(e.actor == "user:rita" and alert_id in e.object_ids for e in events)


def test_alert_page_shows_reasons_model_registry_and_the_senders_history(web_hub: Hub) -> None:
    ids = synthetic_alerts(web_hub, "plat-a", count=3)
    rita, _ = _reviewers(web_hub)
    rita.post(f"/alerts/{ids[1]}/claim")
    rita.post(
        f"/alerts/{ids[1]}/decide",
        {"kind": "warn", "rationale": "first approach, a warning fits"},
    )
    page = rita.client.get(f"/alerts/{ids[0]}").text
    assert "synthetic reason 0" in page
    assert "flagged_sender" in page and "<strong>match</strong>" in page
    assert "band <strong>high</strong>" in page and "many new contacts" in page
    assert ids[1][:10] in page and ids[2][:10] in page, "the sender's earlier alerts"
    assert "warn (final)" in page


def test_a_decision_needs_a_rationale_a_claim_and_a_false_positive_reason(web_hub: Hub) -> None:
    [alert_id] = synthetic_alerts(web_hub, "plat-a", count=1)
    rita, _ = _reviewers(web_hub)
    unclaimed = rita.post(f"/alerts/{alert_id}/decide", {"kind": "warn", "rationale": "x" * 20})
    assert unclaimed.status_code == 422 and "claim" in unclaimed.text
    rita.post(f"/alerts/{alert_id}/claim")
    short = rita.post(f"/alerts/{alert_id}/decide", {"kind": "warn", "rationale": "no"})
    assert short.status_code == 422 and "rationale" in short.text
    no_reason = rita.post(
        f"/alerts/{alert_id}/decide", {"kind": "dismiss", "rationale": "a family member"}
    )
    assert no_reason.status_code == 422 and "false-positive reason" in no_reason.text
    ok = rita.post(
        f"/alerts/{alert_id}/decide",
        {
            "kind": "dismiss",
            "rationale": "a family member",
            "false_positive_reason": "known_relationship",
        },
    )
    assert ok.status_code == 303
    with Session(web_hub.engine) as session:
        decision = session.scalars(select(DecisionRow)).one()
        alert = session.get(AlertRow, alert_id)
    assert decision.kind == "dismiss" and decision.status == "final"
    assert decision.payload["false_positive_reason"] == "known_relationship"
    assert alert is not None and alert.status == "dismissed" and alert.claimed_by is None
    recorded = _events(web_hub, "decision.record")
    assert [e.outcome for e in recorded] == ["rejected", "rejected", "rejected", "ok"]
    assert recorded[-1].detail["rationale"] == "a family member"


def test_four_eyes_escalation_waits_for_a_second_reviewer_then_makes_a_case(
    web_hub: Hub,
) -> None:
    [alert_id] = synthetic_alerts(web_hub, "plat-a", count=1)
    rita, sam = _reviewers(web_hub)
    rita.post(f"/alerts/{alert_id}/claim")
    answer = rita.post(
        f"/alerts/{alert_id}/decide",
        {"kind": "escalate", "rationale": "registered sender, night contact", "police_member": ""},
    )
    assert answer.status_code == 422, "an escalation names a police member"
    answer = rita.post(
        f"/alerts/{alert_id}/decide",
        {
            "kind": "escalate",
            "rationale": "registered sender, night contact",
            "police_member": "police-1",
        },
    )
    assert answer.status_code == 303
    with Session(web_hub.engine) as session:
        decision = session.scalars(select(DecisionRow)).one()
        assert decision.status == "pending"
        assert session.scalars(select(CaseRow)).all() == [], "nothing happens before four eyes"
    own = rita.post(
        f"/alerts/{alert_id}/decisions/{decision.decision_pk}/confirm",
        {"answer": "confirm", "rationale": "I agree with myself"},
    )
    assert own.status_code == 422 and "second reviewer" in own.text
    confirmed = sam.post(
        f"/alerts/{alert_id}/decisions/{decision.decision_pk}/confirm",
        {"answer": "confirm", "rationale": "agreed, the pattern is clear"},
    )
    assert confirmed.status_code == 303
    with Session(web_hub.engine) as session:
        decision = session.scalars(select(DecisionRow)).one()
        case = session.scalars(select(CaseRow)).one()
    assert decision.status == "confirmed" and decision.confirmed_by is not None
    assert case.addressed_to == "police-1" and case.member_id == "plat-a"
    assert case.payload["kind"] == "escalation" and case.payload["alert_id"] == alert_id
    assert decision.payload["case_id"] == case.case_id


def test_a_rejected_four_eyes_decision_reopens_the_alert(web_hub: Hub) -> None:
    [alert_id] = synthetic_alerts(web_hub, "plat-a", count=1)
    rita, sam = _reviewers(web_hub)
    rita.post(f"/alerts/{alert_id}/claim")
    rita.post(f"/alerts/{alert_id}/decide", {"kind": "suspend", "rationale": "repeat behaviour"})
    with Session(web_hub.engine) as session:
        pk = session.scalars(select(DecisionRow.decision_pk)).one()
    sam.post(
        f"/alerts/{alert_id}/decisions/{pk}/confirm",
        {"answer": "reject", "rationale": "a warning is enough first"},
    )
    with Session(web_hub.engine) as session:
        decision = session.get(DecisionRow, pk)
        alert = session.get(AlertRow, alert_id)
    assert decision is not None and decision.status == "rejected"
    assert alert is not None and alert.status == "open"


def test_support_respects_the_childs_opt_out(web_hub: Hub) -> None:
    first, second = synthetic_alerts(web_hub, "plat-a", count=2)
    rita, _ = _reviewers(web_hub)
    rita.post(f"/alerts/{first}/claim")
    bad = rita.post(
        f"/alerts/{first}/decide",
        {"kind": "support", "rationale": "the child may need help", "template": "nope"},
    )
    assert bad.status_code == 422
    ok = rita.post(
        f"/alerts/{first}/decide",
        {"kind": "support", "rationale": "the child may need help", "template": "check_in"},
    )
    assert ok.status_code == 303
    with Session(web_hub.engine) as session:
        recipient = session.get(AlertRow, second)
        assert recipient is not None
        child = recipient.payload["recipient"]
        # the same child in another alert: record the opt-out there
        session.get(AlertRow, first)
    rita.post(f"/alerts/{second}/claim")
    assert rita.post(f"/alerts/{second}/opt-out", {"note": "asked by guardian"}).status_code == 303
    refused = rita.post(
        f"/alerts/{second}/decide",
        {"kind": "support", "rationale": "the child may need help", "template": "helpline"},
    )
    assert refused.status_code == 422 and "opted out" in refused.text
    events = _events(web_hub, "support.opt_out")
    assert events[0].detail["recipient"] == child


def test_a_stale_claim_can_be_taken_over(web_hub: Hub) -> None:
    from datetime import timedelta

    from safehold.store.alerts import CLAIM_TTL
    from safehold.store.types import utcnow

    [alert_id] = synthetic_alerts(web_hub, "plat-a", count=1)
    rita, sam = _reviewers(web_hub)
    rita.post(f"/alerts/{alert_id}/claim")
    assert sam.post(f"/alerts/{alert_id}/claim").status_code == 409
    with Session(web_hub.engine) as session, session.begin():
        alert = session.get(AlertRow, alert_id)
        assert alert is not None
        alert.claimed_at = utcnow() - CLAIM_TTL - timedelta(minutes=1)
    assert sam.post(f"/alerts/{alert_id}/claim").status_code == 303
    with Session(web_hub.engine) as session:
        alert = session.get(AlertRow, alert_id)
        sam_id = session.scalar(select(UserRow.user_id).where(UserRow.username == "sam"))
    assert alert is not None and alert.claimed_by == sam_id


def test_the_whole_review_flow_on_each_database(hub: Hub) -> None:
    """Claim, reveal, four-eyes escalation and export, on SQLite and on PostgreSQL."""
    [alert_id, other] = synthetic_alerts(hub, "plat-a", count=2)
    rita, sam = _reviewers(hub)
    assert rita.client.get("/alerts?rule=fan_out&severity=1").status_code == 200
    assert rita.post(f"/alerts/{alert_id}/claim").status_code == 303
    assert sam.post(f"/alerts/{alert_id}/claim").status_code == 409
    assert rita.post(f"/alerts/{alert_id}/reveal").status_code == 200
    rita.post(
        f"/alerts/{alert_id}/decide",
        {"kind": "escalate", "rationale": "clear pattern, police", "police_member": "police-1"},
    )
    with Session(hub.engine) as session:
        pk = session.scalars(select(DecisionRow.decision_pk)).one()
    sam.post(
        f"/alerts/{alert_id}/decisions/{pk}/confirm",
        {"answer": "confirm", "rationale": "agreed after reading it"},
    )
    page = sam.client.get(f"/alerts/{other}").text
    assert "escalate (confirmed)" in page, "the sender's history shows the decision"
    exported = hub.client.get("/v1/decisions", headers=hub.headers(member="plat-a")).json()
    assert [(d["kind"], d["status"]) for d in exported["decisions"]] == [("escalate", "confirmed")]
    assert exported["decisions"][0]["case_id"]
