"""Auditors search the audit trail and verify its hash chain from the web UI."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from safehold.store.models import AuditEventRow
from tests.hub.conftest import Hub
from tests.hub.web.conftest import add_web_user, sign_in, synthetic_alerts


def test_search_by_action_actor_member_and_time(web_hub: Hub) -> None:
    [alert_id] = synthetic_alerts(web_hub, "plat-a", count=1)
    add_web_user(web_hub, "rita", "platform")
    add_web_user(web_hub, "audrey", "auditor")
    rita = sign_in(web_hub, "rita")
    rita.post(f"/alerts/{alert_id}/claim")
    rita.post(f"/alerts/{alert_id}/decide", {"kind": "warn", "rationale": "pattern is clear"})
    audrey = sign_in(web_hub, "audrey")
    found = audrey.client.get("/audit?action=decision.&actor=rita&member=plat-a").text
    assert "decision.record" in found and "pattern is clear" in found
    assert "alert.claim" not in found
    other_member = audrey.client.get("/audit?action=decision.&member=plat-b").text
    assert "pattern is clear" not in other_member
    by_object = audrey.client.get(f"/audit?object_id={alert_id[:16]}").text
    assert "alert.claim" in by_object and "decision.record" in by_object
    future = audrey.client.get("/audit?action=decision.&since=2999-01-01").text
    assert "pattern is clear" not in future
    past = audrey.client.get("/audit?action=decision.&until=2000-01-01").text
    assert "pattern is clear" not in past
    assert audrey.client.get("/audit?since=yesterday").status_code == 422


def test_verify_reports_an_intact_chain_and_names_a_tampered_event(web_hub: Hub) -> None:
    add_web_user(web_hub, "audrey", "auditor")
    audrey = sign_in(web_hub, "audrey")
    intact = audrey.post("/audit/verify", headers={"HX-Request": "true"})
    assert intact.status_code == 200 and "Chain intact" in intact.text
    with Session(web_hub.engine) as session, session.begin():
        session.execute(
            update(AuditEventRow).where(AuditEventRow.seq == 3).values(actor="someone else")
        )
    broken = audrey.post("/audit/verify", headers={"HX-Request": "true"})
    assert "BROKEN at event 3" in broken.text


def test_reviewers_cannot_read_the_audit_trail(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    rita = sign_in(web_hub, "rita")
    assert rita.client.get("/audit").status_code == 403
    assert rita.post("/audit/verify").status_code == 403
