"""The audit trail for auditors: verify the hash chain from the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession, hub_context
from safehold.hub.policy import Action
from safehold.store import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/verify", openapi_extra={"x-safehold-action": Action.AUDIT_VERIFY.value})
def verify(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.AUDIT_VERIFY))],
    session: DbSession,
) -> dict[str, Any]:
    with session.begin():
        report = audit.verify(session)
    hub_context(request).audit.record(
        principal.event(Action.AUDIT_VERIFY.value, audit.Outcome.OK, detail={"chain_ok": report.ok})
    )
    return {
        "ok": report.ok,
        "events": report.events,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
    }
