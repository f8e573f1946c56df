"""Decisions in force, pushed to the member's own systems by a signed webhook.

The API (``GET /v1/decisions``) is the record a platform can always pull; the webhook only
saves it polling. Each delivery is signed as klaxon alert deliveries are (HMAC-SHA256 over
``"<timestamp>.<body>"``, header ``Safehold-Signature``; ``klaxon.webhook.verify`` checks it)
with the member's secret, kept in ``<data dir>/decision-webhooks/<member>.secret``
(``safehold hub webhook secret``). A failed delivery is audited and not retried here: the
member's systems catch up through the API by decision number."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from safehold.hub.context import HubContext
from safehold.klaxon.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, sign
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.decisions import IN_FORCE, export_record
from safehold.store.models import DecisionRow

SECRETS_DIR = "decision-webhooks"


def secret_path(data_dir: Path, member_id: str) -> Path:
    return data_dir / SECRETS_DIR / f"{member_id}.secret"


def make_secret(data_dir: Path, member_id: str) -> Path:
    """A new random secret for the member's webhook, readable only by its owner (0600)."""
    path = secret_path(data_dir, member_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return path


def decisions_body(records: list[dict[str, object]]) -> bytes:
    return json.dumps({"decisions": records}, sort_keys=True).encode()


def push_decisions(
    hub: HubContext, member_id: str, decision_pks: list[int], *, timeout: float = 10.0
) -> bool:
    """Deliver the decisions to the member's webhook, if one is configured; True when
    delivered. Every attempt is audited (without the secret or the body)."""
    url = dict(hub.settings.decision_webhooks).get(member_id)
    if url is None:
        return False
    path = secret_path(hub.settings.data_dir, member_id)
    detail: dict[str, object] = {"url": url, "decisions": decision_pks}
    if not path.exists():
        _audit(hub, member_id, Outcome.ERROR, {**detail, "why": f"no secret file {path}"})
        return False
    with hub.sessions() as session:
        rows = session.scalars(
            select(DecisionRow)
            .where(
                DecisionRow.decision_pk.in_(decision_pks),
                DecisionRow.member_id == member_id,
                DecisionRow.status.in_(sorted(IN_FORCE)),
            )
            .order_by(DecisionRow.decision_pk)
        ).all()
        records: list[dict[str, object]] = [export_record(r) for r in rows]
    if not records:
        return False
    body = decisions_body(records)
    delivery = f"decisions-{member_id}-{records[0]['decision_id']}-{records[-1]['decision_id']}"
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, path.read_text().strip().encode(), int(time.time())),
        DELIVERY_HEADER: delivery,
    }
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=timeout)
        ok = 200 <= answer.status_code < 300
        why = None if ok else f"answered {answer.status_code}"
    except httpx.HTTPError as exc:
        ok, why = False, f"unreachable ({type(exc).__name__})"
    _audit(
        hub,
        member_id,
        Outcome.OK if ok else Outcome.ERROR,
        {**detail, "delivery": delivery, **({"why": why} if why else {})},
    )
    return ok


def _audit(hub: HubContext, member_id: str, outcome: str, detail: dict[str, object]) -> None:
    hub.audit.record(
        AuditEvent(
            actor="hub:webhook",
            role="operator",
            action="decisions.webhook",
            outcome=outcome,
            member_id=member_id,
            detail=detail,
        )
    )
