"""Security properties of the hub: keys never logged or echoed, revocation immediate, CORS
closed by default, and no route hands a researcher (or anyone) identifiers or the registry."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from safehold.exchange import (
    IdentifierKind,
    OffenceTypology,
    RegistryEntry,
    RegistryStatus,
    Signal,
    SignalCategory,
    SignalKind,
    SubjectRef,
)
from safehold.store.models import AuditEventRow, BatchRow
from safehold.store.registry import write_entries
from safehold.store.signals import upsert_signals
from tests.hub.conftest import Hub, make_hub

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _pseudonym() -> str:
    return secrets.token_hex(32)


def _seed_registry_and_signals(hub: Hub) -> list[str]:
    """A registry entry (court-1) and an account signal (plat-a); returns their pseudonyms."""
    person, account = _pseudonym(), _pseudonym()
    with hub.session() as session, session.begin():
        batch = BatchRow(
            member_id="court-1",
            batch_id="seed",
            content_hash="0" * 64,
            schema_version="1.0",
            record_count=1,
            counts={},
        )
        session.add(batch)
        session.flush()
        entry = RegistryEntry(
            entry_id="e1",
            subjects=[SubjectRef(kind=IdentifierKind.EMAIL, pseudonym=person, key_version=1)],
            typology=OffenceTypology.CONTACT,
            convicted_month="2020-01",
            registered_from="2020-01",
            status=RegistryStatus.ACTIVE,
        )
        write_entries(session, "court-1", batch.batch_pk, [entry])
        signal = Signal(
            signal_id="s1",
            kind=SignalKind.ACCOUNT,
            value=account,
            key_version=1,
            category=SignalCategory.GROOMING,
            confidence=0.9,
            observed_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        upsert_signals(session, "plat-a", [signal])
    return [person, account]


def test_keys_are_never_logged_echoed_or_audited(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = hub.keys["platform"]
    secret_part = good.split("_", 2)[2]
    wrong = good[:-4] + "AAAA"
    for key in (good, wrong, "shk_0123456789abcdef_" + secret_part[::-1], "not-a-key"):
        response = hub.client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert secret_part not in response.text
        if key != "not-a-key":
            # The whole secret part: the secret itself may hold "_", and a short piece of
            # it could occur in any message by chance.
            assert key.split("_", 2)[2] not in response.text
    assert secret_part not in caplog.text and wrong not in caplog.text
    with hub.session() as session:
        trail = json.dumps(
            [
                [e.actor, e.detail, e.object_ids]
                for e in session.scalars(select(AuditEventRow)).all()
            ]
        )
    assert secret_part not in trail and secret_part[::-1] not in trail


def test_revocation_takes_effect_at_once_even_for_a_recently_used_key(hub: Hub) -> None:
    headers = hub.headers("platform")
    me = hub.client.get("/v1/me", headers=headers)
    assert me.status_code == 200
    key_id = me.json()["key_id"]
    revoked = hub.client.delete(f"/v1/admin/keys/{key_id}", headers=hub.headers("operator"))
    assert revoked.status_code == 200
    again = hub.client.get("/v1/me", headers=headers)
    assert again.status_code == 401
    assert "revoked" in again.json()["message"]


def test_cors_is_closed_by_default(hub: Hub) -> None:
    preflight = hub.client.options(
        "/v1/me",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    plain = hub.client.get("/v1/version", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_cors_opens_only_to_configured_origins(tmp_path: Path, database_url: str) -> None:
    hub = make_hub(tmp_path, database_url, cors_origins=("https://ui.coalition.example",))
    allowed = hub.client.options(
        "/v1/me",
        headers={
            "Origin": "https://ui.coalition.example",
            "Access-Control-Request-Method": "GET",
        },
    )
    assert allowed.headers.get("access-control-allow-origin") == "https://ui.coalition.example"
    other = hub.client.options(
        "/v1/me",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in other.headers
    hub.engine.dispose()


@pytest.mark.parametrize("role", ["researcher", "auditor", "police", "local_authority"])
def test_no_get_route_hands_out_pseudonyms_to_roles_without_a_need(hub: Hub, role: str) -> None:
    planted = _seed_registry_and_signals(hub)
    paths = [
        path
        for path, item in hub.client.get("/openapi.json").json()["paths"].items()
        if "get" in item and "{" not in path
    ]
    assert "/v1/signals" in paths, "the walk must include the signals feed"
    for path in paths:
        response = hub.client.get(path, headers=hub.headers(role), params={"since": 0})
        for value in planted:
            assert value not in response.text, f"{role} got an identifier from {path}"
        assert not HEX64.search(response.text) or path in {"/openapi.json"}, path


def test_a_platform_learns_nothing_about_who_sent_a_signal(hub: Hub) -> None:
    _seed_registry_and_signals(hub)
    feed = hub.client.get("/v1/signals", params={"since": 0}, headers=hub.headers(member="plat-b"))
    assert feed.status_code == 200
    assert "plat-a" not in feed.text and "s1" not in json.dumps(
        [c.get("signal_id") for c in feed.json()["changes"]]
    )


def test_invalid_requests_are_named_not_echoed(hub: Hub) -> None:
    secret_looking = "s3cr3t-" + secrets.token_hex(8)
    response = hub.client.post(
        "/v1/admin/members",
        headers=hub.headers("operator"),
        json={"member_id": "x", "name": "X", "kind": secret_looking},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["details"] and body["details"][0]["field"] == "kind"
    assert secret_looking not in response.text


def test_a_platform_cannot_read_another_platforms_records(hub: Hub) -> None:
    from tests.store.test_ingest import batch_dict, platform_records

    records = [r for r in platform_records() if r["record_type"] != "signal"]
    sent = hub.client.post(
        "/v1/batches", json=batch_dict("plat-a", records), headers=hub.headers(member="plat-a")
    )
    assert sent.status_code == 201, sent.text
    private = set(HEX64.findall(json.dumps(records)))
    assert private, "the records must carry pseudonyms for this test to mean anything"
    paths = [
        path
        for path, item in hub.client.get("/openapi.json").json()["paths"].items()
        if "get" in item and "{" not in path
    ]
    for path in paths:
        seen = hub.client.get(path, headers=hub.headers(member="plat-b"), params={"since": 0})
        leaked = private & set(HEX64.findall(seen.text))
        assert not leaked, f"plat-b read plat-a's pseudonyms from {path}"
    # Asking the registry about plat-a's accounts tells plat-b nothing: they are not on it.
    subject = records[0]["subject"]
    check = hub.client.post(
        "/v1/registry/check",
        json={"accounts": [{"ref": "r0", "identifiers": [subject]}]},
        headers=hub.headers(member="plat-b"),
    )
    assert check.status_code == 200
    assert check.json()["results"] == [{"ref": "r0", "match": False, "typology": None}]
