"""Decisions reach the member's systems: GET /v1/decisions and the signed webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.hub.context import HubContext
from safehold.hub.webhooks import make_secret, push_decisions
from safehold.klaxon.webhook import SIGNATURE_HEADER, WebhookSignatureError, verify
from safehold.store.models import AuditEventRow, DecisionRow
from tests.hub.conftest import Hub
from tests.hub.web.conftest import add_web_user, sign_in, synthetic_alerts


def _decide(hub: Hub, kinds: list[str]) -> list[str]:
    ids = synthetic_alerts(hub, "plat-a", count=len(kinds))
    add_web_user(hub, "rita", "platform")
    rita = sign_in(hub, "rita")
    for alert_id, kind in zip(ids, kinds, strict=True):
        rita.post(f"/alerts/{alert_id}/claim")
        extra = {"false_positive_reason": "benign_content"} if kind == "dismiss" else {}
        answer = rita.post(
            f"/alerts/{alert_id}/decide", {"kind": kind, "rationale": "reviewed in full", **extra}
        )
        assert answer.status_code == 303
    return ids


def test_decisions_in_force_are_exported_to_their_member_only(web_hub: Hub) -> None:
    ids = _decide(web_hub, ["warn", "suspend", "dismiss", "restrict"])
    answer = web_hub.client.get("/v1/decisions", headers=web_hub.headers(member="plat-a"))
    assert answer.status_code == 200
    body = answer.json()
    kinds = [d["kind"] for d in body["decisions"]]
    assert kinds == ["warn", "dismiss", "restrict"], "a pending suspension is not in force"
    assert [d["alert_id"] for d in body["decisions"]] == [ids[0], ids[2], ids[3]]
    assert [d["intervention"] for d in body["decisions"]] == [True, False, True]
    assert body["decisions"][0]["sender"].startswith("email:1:")
    page = web_hub.client.get(
        "/v1/decisions?limit=2", headers=web_hub.headers(member="plat-a")
    ).json()
    rest = web_hub.client.get(
        f"/v1/decisions?after={page['next']}", headers=web_hub.headers(member="plat-a")
    ).json()
    assert [d["kind"] for d in page["decisions"] + rest["decisions"]] == kinds
    other = web_hub.client.get("/v1/decisions", headers=web_hub.headers(member="plat-b"))
    assert other.json()["decisions"] == []
    police = web_hub.client.get("/v1/decisions", headers=web_hub.headers("police"))
    assert police.status_code == 403


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers[SIGNATURE_HEADER]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/decisions"
    finally:
        server.shutdown()


def test_the_webhook_delivery_is_signed_and_verifiable(
    web_hub: Hub, receiver: str, tmp_path: Path
) -> None:
    _decide(web_hub, ["warn"])
    secret = make_secret(tmp_path, "plat-a").read_text().strip().encode()
    context: HubContext = web_hub.client.app.state.hub  # type: ignore[attr-defined]
    context.settings = replace(
        context.settings, data_dir=tmp_path, decision_webhooks=(("plat-a", receiver),)
    )
    with Session(web_hub.engine) as session:
        pk = session.scalars(select(DecisionRow.decision_pk)).one()
    assert push_decisions(context, "plat-a", [pk]) is True
    [(body, header)] = _Receiver.received
    verify(body, header, secret)  # raises if the signature does not hold
    assert json.loads(body)["decisions"][0]["kind"] == "warn"
    with pytest.raises(WebhookSignatureError):
        verify(body.replace(b"warn", b"none"), header, secret)
    with pytest.raises(WebhookSignatureError):
        verify(body, header, b"another secret")
    with Session(web_hub.engine) as session:
        event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "decisions.webhook")
        ).one()
    assert event.outcome == "ok" and str(secret) not in json.dumps(event.detail)


def test_a_decision_in_the_ui_pushes_the_webhook(
    web_hub: Hub, receiver: str, tmp_path: Path
) -> None:
    make_secret(tmp_path, "plat-a")
    context: HubContext = web_hub.client.app.state.hub  # type: ignore[attr-defined]
    context.settings = replace(
        context.settings, data_dir=tmp_path, decision_webhooks=(("plat-a", receiver),)
    )
    _decide(web_hub, ["restrict", "suspend"])
    kinds = [json.loads(b)["decisions"][0]["kind"] for b, _ in _Receiver.received]
    assert kinds == ["restrict"], "only decisions in force are pushed"
