"""``POST /v1/contacts:screen`` and ``GET /v1/alerts``: the alerts tier for platforms
without a klaxon worker of their own.

A platform sends a batch of contact events (the exchange Batch, JSON or NDJSON, read safely
by hub.body); every record must be a contact event and the whole batch is checked before
anything is screened. The klaxon engine screens it with flags from the hub's registry
(hub.screening) and the alerts go to the member's queue, new ids only, in one transaction
with the audit event: a replay adds nothing. A platform reads only its own alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from safehold.exchange import Batch, BatchValidationError, ContactEvent, validate_batch
from safehold.hub.auth import Principal, authorize
from safehold.hub.body import JSON, NDJSON, BatchBody, read_batch_body
from safehold.hub.context import DbSession, hub_context
from safehold.hub.errors import ApiError
from safehold.hub.json_requests import audit_refusals, member_of, refusal, refuse_repeats
from safehold.hub.policy import Action
from safehold.hub.screening import screen_events
from safehold.klaxon.events import EventInputError
from safehold.store import audit
from safehold.store.alerts import add_alerts, member_alerts
from safehold.store.audit import Outcome

router = APIRouter(prefix="/v1", tags=["alerts"])

_UNSCREENED = "nothing was screened or stored"
MAX_PAGE = 1_000

_REQUEST_BODY = {
    "required": True,
    "description": (
        "One batch of contact_event records, as for POST /v1/batches: a Batch object as "
        "JSON, or NDJSON (a header line, then one record per line); gzip allowed. A child "
        "is known by the event's recipient_age_band; a sender is flagged when it matches "
        "an active registry entry."
    ),
    "content": {JSON: {"schema": {"type": "object"}}, NDJSON: {"schema": {"type": "string"}}},
}


@router.post(
    "/contacts:screen",
    openapi_extra={
        "x-safehold-action": Action.CONTACTS_SCREEN.value,
        "requestBody": _REQUEST_BODY,
    },
    responses={
        400: {"description": "Malformed JSON or NDJSON, or corrupt gzip."},
        403: {"description": "Another member's batch."},
        409: {"description": "Another request stored some of the same alerts meanwhile."},
        413: {"description": "The body, or its decompressed size, is over the limit."},
        415: {"description": "Not JSON or NDJSON, or an encoding other than gzip."},
        422: {"description": "Invalid or non-contact records; details name each one."},
    },
)
async def screen_contacts(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.CONTACTS_SCREEN))],
) -> JSONResponse:
    """Screen the events; 200 with ``{"screened", "alerts": [...], "new": n}``, where each
    alert carries ``new`` (false when an earlier request already stored it)."""
    detail: dict[str, Any] = {}
    with audit_refusals(request, principal, Action.CONTACTS_SCREEN, detail):
        data = await read_batch_body(request, hub_context(request).settings)
    body = await run_in_threadpool(_screen, request, principal, data, detail)
    return JSONResponse(body)


def _screen(
    request: Request, principal: Principal, data: BatchBody, detail: dict[str, Any]
) -> dict[str, Any]:
    hub = hub_context(request)
    with audit_refusals(request, principal, Action.CONTACTS_SCREEN, detail):
        member_id = member_of(principal)
        batch = _validated(data)
        detail["batch_id"] = batch.batch_id
        if batch.member_id != member_id:
            raise ApiError(
                403,
                "member_mismatch",
                f"the batch header names member '{batch.member_id}' but this API key belongs "
                f"to member '{member_id}': a platform screens only its own contact events",
            )
        events = _contact_events(batch)
        detail["events"] = len(events)
        try:
            with hub.sessions() as session, session.begin():
                alerts = screen_events(session, member_id, events)
                added = add_alerts(session, member_id, alerts)
                audit.append(
                    session,
                    principal.event(
                        Action.CONTACTS_SCREEN.value,
                        Outcome.OK,
                        added,
                        {
                            "batch_id": batch.batch_id,
                            "events": len(events),
                            "alerts": len(alerts),
                            "new": len(added),
                        },
                    ),
                )
        except EventInputError as exc:
            raise ApiError(
                422, "screen_rejected", f"{exc}; {_UNSCREENED}: fix it and resend the batch"
            ) from None
        except IntegrityError:
            raise ApiError(
                409,
                "concurrent_write",
                "another request stored some of the same alerts meanwhile; nothing of this "
                "request was stored: send it again (a replay never duplicates an alert)",
                headers={"Retry-After": "5"},
            ) from None
    new = set(added)
    return {
        "screened": len(events),
        "new": len(added),
        "alerts": [
            {"alert_id": a.alert_id, "severity": a.severity, "new": a.alert_id in new, **a.payload}
            for a in alerts
        ],
    }


def _validated(data: BatchBody) -> Batch:
    try:
        return validate_batch(data)
    except BatchValidationError as exc:
        details = [{"index": e.index, "field": e.field, "reason": e.reason} for e in exc.errors]
        raise refusal("screen_rejected", details, "records", _UNSCREENED) from None


def _contact_events(batch: Batch) -> list[ContactEvent]:
    others = [
        {
            "index": index,
            "field": "record_type",
            "reason": f"is '{record.record_type}'; only contact_event records are screened "
            "(send other records to POST /v1/batches)",
        }
        for index, record in enumerate(batch.records)
        if not isinstance(record, ContactEvent)
    ]
    if others:
        raise refusal("screen_rejected", others, "records", _UNSCREENED)
    events = [r for r in batch.records if isinstance(r, ContactEvent)]
    refuse_repeats(
        [e.event_id for e in events],
        "event_id",
        "record",
        "each event needs its own event_id",
        code="screen_rejected",
        items="records",
        effect=_UNSCREENED,
    )
    return events


@router.get(
    "/alerts",
    openapi_extra={"x-safehold-action": Action.ALERTS_READ.value},
)
def list_alerts(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.ALERTS_READ))],
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> JSONResponse:
    """This member's alerts by id, ``limit`` at a time: ``{"alerts": [...], "next": id}``;
    pass ``next`` as ``after`` for the following page (null at the end)."""
    with audit_refusals(request, principal, Action.ALERTS_READ, {}):
        member_id = member_of(principal)
    with session.begin():
        rows = member_alerts(session, member_id, limit=limit, after=after)
        audit.append(
            session,
            principal.event(
                Action.ALERTS_READ.value,
                Outcome.OK,
                [r.alert_id for r in rows],
                {"read": len(rows)},
            ),
        )
        alerts = [
            {
                "alert_id": r.alert_id,
                "severity": r.severity,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
                **r.payload,
            }
            for r in rows
        ]
    return JSONResponse(
        {"alerts": alerts, "next": alerts[-1]["alert_id"] if len(alerts) == limit else None}
    )
