"""``POST /v1/alerts``: a platform's own klaxon worker delivers the alerts it raised into
that member's queue in the alerts tier (``safehold klaxon worker --hub URL``).

Why keyed by alert id: the worker sends a message's alerts again after a restart, and a
later message can add a rule to an alert already sent; the hub stores each id once and
keeps the fullest version, so a resend changes nothing and nothing is lost. All or nothing,
with the audit event in the same transaction; an id that belongs to another member is
refused and nothing is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession
from safehold.hub.errors import ApiError
from safehold.hub.json_requests import (
    RawBody,
    audit_refusals,
    member_of,
    parse_json,
    refuse_repeats,
    request_schema,
)
from safehold.hub.policy import Action
from safehold.store import audit
from safehold.store.alerts import NewAlert, deliver_alerts
from safehold.store.audit import Outcome

router = APIRouter(prefix="/v1", tags=["alerts"])

MAX_ALERTS = 1_000
"""Alerts in one POST (the worker sends larger sets in several requests)."""
_UNSTORED = "nothing was stored"
_Text = Annotated[str, Field(min_length=1, max_length=300)]


class DeliveredModel(BaseModel):
    """A released model's part in an alert (klaxon.model_flags): what the reviewer sees, and
    the version monitoring ties to the model's pre-registered minimum PPV."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    band: _Text
    score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    version: Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")] | None = None
    top_reasons: list[Annotated[str, Field(min_length=1, max_length=1_000)]] = Field(
        default_factory=list, max_length=20
    )


class DeliveredAlert(BaseModel):
    """One alert as the klaxon worker writes it (safehold.klaxon.webhook.alert_body)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    alert_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    member_id: _Text
    sender: _Text
    recipient: _Text
    window_start: datetime
    window_end: datetime
    severity: Annotated[int, Field(ge=1, le=1_000_000)]
    rules: list[_Text] = Field(min_length=1, max_length=100)
    reasons: list[Annotated[str, Field(min_length=1, max_length=1_000)]] = Field(
        min_length=1, max_length=100
    )
    rule_severities: list[Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        min_length=1, max_length=100
    )
    first_event_id: _Text
    first_event_at: datetime
    last_event_at: datetime
    events: Annotated[int, Field(ge=1)]
    model: DeliveredModel | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DeliveredAlert:
        if not len(self.rules) == len(self.reasons) == len(self.rule_severities):
            raise ValueError("rules, reasons and rule_severities must be of the same length")
        if self.window_end <= self.window_start or self.last_event_at < self.first_event_at:
            raise ValueError("the window and the first and last events must be in time order")
        return self

    def stored(self) -> NewAlert:
        """As the alerts tier holds it (the same payload as POST /v1/contacts:screen)."""
        return NewAlert(
            alert_id=self.alert_id,
            severity=self.severity,
            payload={
                "sender": self.sender,
                "recipient": self.recipient,
                "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat(),
                "rules": list(self.rules),
                "reasons": list(self.reasons),
                "rule_severities": list(self.rule_severities),
                "first_event_id": self.first_event_id,
                "first_event_at": self.first_event_at.isoformat(),
                "last_event_at": self.last_event_at.isoformat(),
                "events": self.events,
                "delivered_by": "klaxon worker",
                **({} if self.model is None else {"model": self.model.model_dump()}),
            },
        )


class AlertsDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    alerts: list[DeliveredAlert] = Field(min_length=1, max_length=MAX_ALERTS)


@router.post(
    "/alerts",
    openapi_extra={
        "x-safehold-action": Action.ALERTS_DELIVER.value,
        **request_schema(AlertsDelivery),
    },
    responses={
        403: {"description": "Alerts of another member."},
        409: {"description": "An alert id already belongs to another member; nothing stored."},
        422: {"description": "Rejected whole (alerts_rejected); nothing was stored."},
    },
)
def deliver(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.ALERTS_DELIVER))],
    raw: RawBody,
    session: DbSession,
) -> dict[str, Any]:
    """Store the caller's alerts by id: ``{"received", "new", "updated", "unchanged"}``."""
    detail: dict[str, Any] = {}
    with audit_refusals(request, principal, Action.ALERTS_DELIVER, detail):
        member_id = member_of(principal)
        alerts = parse_json(AlertsDelivery, raw, "alerts_rejected", "alerts", _UNSTORED).alerts
        detail["alerts"] = len(alerts)
        others = sorted({a.member_id for a in alerts} - {member_id})
        if others:
            raise ApiError(
                403,
                "member_mismatch",
                f"{len(others)} other member(s) named in the alerts; this API key belongs to "
                f"member '{member_id}': a worker delivers only its own member's alerts",
            )
        refuse_repeats(
            [a.alert_id for a in alerts],
            "alert_id",
            "alert",
            "each alert may appear once per request",
            code="alerts_rejected",
            items="alerts",
            effect=_UNSTORED,
        )
        with session.begin():
            done = deliver_alerts(session, member_id, [a.stored() for a in alerts])
            if done.foreign:
                raise ApiError(
                    409,
                    "alert_id_taken",
                    f"{len(done.foreign)} alert id(s) already belong to another member; "
                    f"{_UNSTORED}: alert ids are made from the member, so check the worker's "
                    "flags folder names this member",
                )
            counts: dict[str, Any] = {
                "received": len(alerts),
                "new": len(done.new),
                "updated": len(done.updated),
                "unchanged": len(done.unchanged),
            }
            audit.append(
                session,
                principal.event(
                    Action.ALERTS_DELIVER.value,
                    Outcome.OK,
                    object_ids=[*done.new, *done.updated],
                    detail=counts,
                ),
            )
    return counts
