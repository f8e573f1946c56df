"""Device cases (cases tier): a police member pushes each triaged device's summary (score,
reasons, counts, when) so the force's queue lives at the hub, and reads back its own.

No evidence travels: the summary model refuses paths, file names and phone-number-shaped
runs in its reasons, and has no field for messages, contacts or hashes. One case per
(member, device): a resend is a replay, a newer triage refreshes the case, an older one is a
409. Every write, read and refusal is audited with the case ids, never the reasons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError

from safehold.exchange.cases import DeviceCaseSummary
from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession
from safehold.hub.errors import ApiError
from safehold.hub.json_requests import (
    RawBody,
    audit_refusals,
    member_of,
    parse_json,
    request_schema,
)
from safehold.hub.policy import Action
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.cases import StaleCaseError, device_cases_for, store_device_case

router = APIRouter(prefix="/v1", tags=["cases"])

_UNSTORED = "nothing was stored"


class DeviceCaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: DeviceCaseSummary


@router.post(
    "/cases",
    status_code=201,
    openapi_extra={
        "x-safehold-action": Action.CASES_WRITE.value,
        **request_schema(DeviceCaseRequest),
    },
    responses={
        200: {"description": "A replay (the same summary) or a newer triage of a known device."},
        409: {"description": "The hub holds a newer triage of this device."},
        422: {"description": "Rejected (case_rejected), naming each field; nothing stored."},
    },
)
def post_case(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.CASES_WRITE))],
    raw: RawBody,
    session: DbSession,
) -> JSONResponse:
    """Store one device case: ``{"case_id", "device_id", "outcome"}`` where outcome is
    ``created`` (201), ``updated`` or ``replayed`` (200)."""
    detail: dict[str, Any] = {}
    with audit_refusals(request, principal, Action.CASES_WRITE, detail):
        member_id = member_of(principal)
        summary = parse_json(DeviceCaseRequest, raw, "case_rejected", "summary", _UNSTORED).summary
        detail["device_id"] = summary.device_id
        try:
            with session.begin():
                stored = store_device_case(session, member_id, summary)
                audit.append(
                    session,
                    principal.event(
                        Action.CASES_WRITE.value,
                        Outcome.OK,
                        object_ids=[stored.case_id],
                        detail={
                            "device_id": summary.device_id,
                            "outcome": stored.outcome,
                            "priority": summary.score,
                        },
                    ),
                )
        except StaleCaseError as exc:
            raise ApiError(409, "stale_case", str(exc)) from None
        except IntegrityError:
            raise ApiError(
                409,
                "concurrent_write",
                "another request stored this device's case at the same moment; nothing of "
                "this request was stored: send it again",
                headers={"Retry-After": "1"},
            ) from None
    body = {"case_id": stored.case_id, "device_id": summary.device_id, "outcome": stored.outcome}
    return JSONResponse(body, status_code=201 if stored.outcome == "created" else 200)


@router.get("/cases", openapi_extra={"x-safehold-action": Action.CASES_READ.value})
def get_cases(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.CASES_READ))],
    session: DbSession,
) -> dict[str, Any]:
    """The caller's own device cases, highest priority first:
    ``{"cases": [{"case_id", "status", "priority", "created_at", "payload"}]}``."""
    with audit_refusals(request, principal, Action.CASES_READ, {}):
        member_id = member_of(principal)
    with session.begin():
        found = device_cases_for(session, member_id)
        audit.append(
            session,
            principal.event(
                Action.CASES_READ.value,
                Outcome.OK,
                object_ids=[c.case_id for c in found],
                detail={"cases": len(found)},
            ),
        )
    return {
        "cases": [
            {
                "case_id": c.case_id,
                "status": c.status,
                "priority": c.priority,
                "created_at": c.created_at,
                "payload": c.payload,
            }
            for c in found
        ]
    }
