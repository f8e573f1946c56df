"""``GET /v1/decisions``: the decisions in force about a platform's users, for the
platform's own systems to carry out (warn, restrict, suspend) or note (dismiss, escalate,
support). Read by decision number, ``after`` the last one seen; the webhook
(``hub.webhooks``) pushes the same records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession
from safehold.hub.json_requests import audit_refusals, member_of
from safehold.hub.policy import Action
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.decisions import export_record, in_force

router = APIRouter(prefix="/v1", tags=["decisions"])
MAX_PAGE = 1_000


@router.get("/decisions", openapi_extra={"x-safehold-action": Action.DECISIONS_READ.value})
def list_decisions(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.DECISIONS_READ))],
    session: DbSession,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> JSONResponse:
    """This member's decisions in force, by decision number: ``{"decisions": [...],
    "next": n}``; pass ``next`` as ``after`` for the following page (null at the end)."""
    with audit_refusals(request, principal, Action.DECISIONS_READ, {}):
        member_id = member_of(principal)
    with session.begin():
        rows = in_force(session, member_id, after=after, limit=limit)
        records = [export_record(r) for r in rows]
        audit.append(
            session,
            principal.event(
                Action.DECISIONS_READ.value,
                Outcome.OK,
                [f"decision:{r.decision_pk}" for r in rows],
                {"read": len(rows), "after": after},
            ),
        )
    return JSONResponse(
        {
            "decisions": records,
            "next": records[-1]["decision_id"] if len(records) == limit else None,
        }
    )
