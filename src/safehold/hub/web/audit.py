"""The audit trail for auditors (and the operator): search by action, actor, member and time,
and verify the hash chain (``store.audit.verify``). Each search and each verification is
itself audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from safehold.hub.context import hub_context
from safehold.hub.policy import Action
from safehold.hub.web.session import WebError, require_user, user_event
from safehold.hub.web.templating import render
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.models import AuditEventRow
from safehold.store.users import SignedInUser

router = APIRouter(include_in_schema=False)

Auditor = Annotated[SignedInUser, Depends(require_user(Action.AUDIT_SEARCH))]
PAGE = 200


def _moment(text: str, name: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WebError(
            422, f"'{name}' must be a date or time like 2026-12-02 or 2026-12-02T08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/audit")
def audit_search(
    request: Request,
    user: Auditor,
    action: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=128)] = "",
    member: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    object_id: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    start, end = _moment(since, "since"), _moment(until, "until")
    query = select(AuditEventRow)
    if action:
        query = query.where(AuditEventRow.action.startswith(action.strip()))
    if actor:
        query = query.where(AuditEventRow.actor.contains(actor.strip()))
    if member:
        query = query.where(AuditEventRow.member_id == member.strip())
    if start:
        query = query.where(AuditEventRow.at >= start)
    if end:
        query = query.where(AuditEventRow.at <= end)
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        rows = list(session.scalars(query.order_by(AuditEventRow.seq.desc()).limit(PAGE * 5)))
        if object_id:
            rows = [r for r in rows if any(object_id.strip() in o for o in r.object_ids)]
        rows = rows[:PAGE]
        audit.append(
            session,
            user_event(
                user,
                Action.AUDIT_SEARCH.value,
                Outcome.OK,
                detail={
                    "action": action,
                    "actor": actor,
                    "member": member,
                    "since": since,
                    "until": until,
                    "object_id": object_id,
                    "shown": len(rows),
                },
            ),
        )
    return render(
        request,
        "audit.html",
        {
            "rows": rows,
            "query": {
                "action": action,
                "actor": actor,
                "member": member,
                "since": since,
                "until": until,
                "object_id": object_id,
            },
            "page": PAGE,
        },
    )


@router.post("/audit/verify")
def audit_verify(request: Request, user: Auditor) -> Response:
    hub = hub_context(request)
    with hub.sessions() as session:
        report = audit.verify(session)
    hub.audit.record(
        user_event(
            user,
            Action.AUDIT_VERIFY.value,
            Outcome.OK,
            detail={
                "events": report.events,
                "ok": report.ok,
                "first_bad_seq": report.first_bad_seq,
            },
        )
    )
    template = "_verify.html" if request.headers.get("hx-request") else "verify.html"
    return render(request, template, {"report": report})
