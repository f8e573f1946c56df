"""POST /v1/contacts:screen and GET /v1/alerts: a platform's contact events screened by the
klaxon with flags from the registry, alerts stored once per id in that member's queue, all
or nothing and audited; a platform reads only its own alerts. SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from safehold.exchange import IdentifierKind
from safehold.store.models import AlertRow, AuditEventRow
from tests.hub.conftest import Hub
from tests.hub.test_registry_check import entry, pseudonym, put_entries

SCREEN = "/v1/contacts:screen"


def account(value: str) -> dict[str, Any]:
    return {"kind": "account", "pseudonym": value, "key_version": 1}


def event(event_id: str, sender: str, recipient: str, **extra: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(hours=2)
    return {
        "record_type": "contact_event",
        "event_id": event_id,
        "sender": account(sender),
        "recipient": account(recipient),
        "occurred_at": at.isoformat(),
        "channel": "direct_message",
        "first_contact": True,
        "recipient_age_band": "13_15",
        **extra,
    }


def batch(member_id: str, *records: dict[str, Any]) -> dict[str, Any]:
    return {
        "batch_id": f"screen-{secrets.token_hex(4)}",
        "member_id": member_id,
        "schema_version": "1.0",
        "created_at": datetime.now(UTC).isoformat(),
        "records": list(records),
    }


def stored_alerts(hub: Hub) -> int:
    with hub.session() as session:
        return int(session.scalar(select(func.count()).select_from(AlertRow)) or 0)


@pytest.fixture
def registered(hub: Hub) -> str:
    """The pseudonym of an account registered by the police."""
    value = pseudonym()
    put_entries(hub, "police-1", entry("reg-1", value, kind=IdentifierKind.ACCOUNT))
    return value


def test_an_approach_by_a_registered_sender_raises_an_alert_with_reasons(
    hub: Hub, registered: str
) -> None:
    child, adult = pseudonym(), pseudonym()
    body = batch(
        "plat-a",
        event("e1", registered, child),
        event("e2", pseudonym(), child, first_contact=False),  # unflagged: no alert
        event("e3", registered, adult, recipient_age_band="25_34"),  # not a child: none
    )
    response = hub.client.post(SCREEN, json=body, headers=hub.headers("platform"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["screened"] == 3 and answer["new"] == 1
    (alert,) = answer["alerts"]
    assert alert["new"] is True
    assert alert["sender"].endswith(registered) and alert["recipient"].endswith(child)
    assert "flagged_sender" in alert["rules"]
    assert alert["reasons"] and all(r.strip() for r in alert["reasons"])
    assert alert["severity"] == sum(alert["rule_severities"])

    listed = hub.client.get("/v1/alerts", headers=hub.headers("platform")).json()
    assert [a["alert_id"] for a in listed["alerts"]] == [alert["alert_id"]]
    assert listed["alerts"][0]["reasons"] == alert["reasons"]
    assert listed["alerts"][0]["status"] == "open"
    with hub.session() as session:
        audited = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "contacts.screen")
        ).all()
    assert [(e.outcome, e.object_ids, e.detail["new"]) for e in audited] == [
        ("ok", [alert["alert_id"]], 1)
    ]


def test_a_replay_gives_the_same_ids_and_stores_nothing_new(hub: Hub, registered: str) -> None:
    child = pseudonym()
    body = batch("plat-a", event("e1", registered, child), event("e2", registered, pseudonym()))
    first = hub.client.post(SCREEN, json=body, headers=hub.headers("platform")).json()
    assert first["new"] == 2 and stored_alerts(hub) == 2
    again = hub.client.post(SCREEN, json=body, headers=hub.headers("platform")).json()
    assert again["new"] == 0
    assert [a["alert_id"] for a in again["alerts"]] == [a["alert_id"] for a in first["alerts"]]
    assert not any(a["new"] for a in again["alerts"])
    assert stored_alerts(hub) == 2


def test_a_malformed_event_is_refused_by_its_index_and_nothing_is_stored(
    hub: Hub, registered: str
) -> None:
    bad = event("e2", registered, pseudonym(), channel="carrier_pigeon")
    body = batch("plat-a", event("e1", registered, pseudonym()), bad)
    response = hub.client.post(SCREEN, json=body, headers=hub.headers("platform"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["error"] == "screen_rejected"
    assert [(d["index"], d["field"]) for d in problem["details"]] == [(1, "channel")]
    assert "nothing was screened or stored" in problem["message"]
    assert stored_alerts(hub) == 0

    future = event("e3", registered, pseudonym())
    future["occurred_at"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = hub.client.post(
        SCREEN,
        json=batch("plat-a", event("e1", registered, pseudonym()), future),
        headers=hub.headers("platform"),
    )
    assert response.status_code == 422
    assert "row 1 (event e3)" in response.json()["message"]
    assert "in the future" in response.json()["message"]
    assert stored_alerts(hub) == 0


def test_other_records_and_other_members_batches_are_refused(hub: Hub, registered: str) -> None:
    response = hub.client.post(
        SCREEN,
        json=batch(
            "plat-a", event("e1", registered, pseudonym()), event("e1", registered, pseudonym())
        ),
        headers=hub.headers("platform"),
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["index"] == 1
    assert response.json()["details"][0]["field"] == "event_id"
    response = hub.client.post(
        SCREEN,
        json=batch("plat-b", event("e1", registered, pseudonym())),
        headers=hub.headers("platform"),
    )
    assert response.status_code == 403 and response.json()["error"] == "member_mismatch"
    assert stored_alerts(hub) == 0
    with hub.session() as session:
        refused = session.scalars(
            select(AuditEventRow.outcome).where(AuditEventRow.action == "contacts.screen")
        ).all()
    assert sorted(refused) == ["denied", "rejected"]


def test_a_platform_never_reads_another_members_alerts(hub: Hub, registered: str) -> None:
    body = batch("plat-a", event("e1", registered, pseudonym()))
    assert hub.client.post(SCREEN, json=body, headers=hub.headers("platform")).json()["new"] == 1
    other = hub.client.get("/v1/alerts", headers=hub.headers(member="plat-b"))
    assert other.status_code == 200
    assert other.json() == {"alerts": [], "next": None}
    mine = hub.client.get("/v1/alerts", headers=hub.headers(member="plat-a")).json()
    assert len(mine["alerts"]) == 1


@pytest.mark.parametrize(
    "role", ["police", "court", "local_authority", "researcher", "operator", "auditor"]
)
def test_only_platforms_may_screen_or_read_alerts(hub: Hub, registered: str, role: str) -> None:
    body = batch("plat-a", event("e1", registered, pseudonym()))
    assert hub.client.post(SCREEN, json=body, headers=hub.headers(role)).status_code == 403
    assert hub.client.get("/v1/alerts", headers=hub.headers(role)).status_code == 403
    assert stored_alerts(hub) == 0
