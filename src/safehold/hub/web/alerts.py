"""The alert queue (``/alerts``) and the alert page (``/alerts/{id}``): claim, release, and
revealing conversation evidence.

A reviewer sees only their member's alerts; another member's alert id answers 404, exactly
as an id that does not exist. Opening an alert and revealing its evidence are audited
(``alerts.review`` and ``evidence.reveal``); evidence is not even sent to the browser until
the reviewer who holds the claim reveals it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from safehold.hub.context import hub_context
from safehold.hub.policy import Action
from safehold.hub.support import support_templates
from safehold.hub.web.session import WebError, require_user, user_event
from safehold.hub.web.templating import render
from safehold.store import audit
from safehold.store.alerts import (
    STATUSES,
    ClaimError,
    QueueFilter,
    claim,
    member_alert,
    queue,
    release,
    rules_in_use,
    sender_history,
    status_counts,
)
from safehold.store.audit import Outcome
from safehold.store.decisions import (
    FALSE_POSITIVE_REASONS,
    KIND_LABELS,
    KINDS,
    PENDING,
    alert_decisions,
    opted_out,
)
from safehold.store.models import AlertRow, MemberRow, UserRow
from safehold.store.users import SignedInUser

router = APIRouter(include_in_schema=False)

Reviewer = Annotated[SignedInUser, Depends(require_user(Action.ALERTS_REVIEW))]

SEVERITY_NAMES = {1: "low", 2: "guarded", 3: "elevated", 4: "high", 5: "critical"}


def severity_name(severity: int) -> str:
    return SEVERITY_NAMES.get(severity, str(severity))


def member_id_of(user: SignedInUser) -> str:
    if user.member_id is None:
        raise WebError(403, "Alerts belong to a member; your account belongs to none.")
    return user.member_id


def reviewer_alert(session: Session, user: SignedInUser, alert_id: str) -> AlertRow:
    """The alert if it is the user's member's; otherwise the same 404 as a missing one."""
    row = member_alert(session, member_id_of(user), alert_id)
    if row is None:
        raise WebError(404, "There is no such alert in your member's queue.", "Not found")
    return row


def usernames(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {
        uid: name
        for uid, name in session.execute(
            select(UserRow.user_id, UserRow.username).where(UserRow.user_id.in_(ids))
        ).all()
    }


def _int_or_none(text: str | None) -> int | None:
    if text is None or text.strip() == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise WebError(422, f"severity must be a whole number, got '{text}'") from None


@router.get("/alerts")
def alert_queue(
    request: Request,
    user: Reviewer,
    status: Annotated[str, Query(max_length=16)] = "open",
    rule: Annotated[str, Query(max_length=64)] = "",
    severity: Annotated[str, Query(max_length=4)] = "",
) -> Response:
    member_id = member_id_of(user)
    chosen = QueueFilter(
        status=status if status in STATUSES else None,
        rule=rule or None,
        min_severity=_int_or_none(severity),
    )
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        rows = queue(session, member_id, chosen)
        counts = status_counts(session, member_id)
        rules = rules_in_use(session, member_id)
        names = usernames(session, {r.claimed_by for r in rows})
        audit.append(
            session,
            user_event(
                user,
                Action.ALERTS_REVIEW.value,
                Outcome.OK,
                detail={"page": "queue", "shown": len(rows), "status": chosen.status or "all"},
            ),
        )
    return render(
        request,
        "alerts.html",
        {
            "rows": rows,
            "counts": counts,
            "rules": rules,
            "filter": {"status": chosen.status or "", "rule": rule, "severity": severity},
            "statuses": STATUSES,
            "names": names,
            "severity_name": severity_name,
        },
    )


def alert_context(
    session: Session, user: SignedInUser, alert: AlertRow, *, revealed: bool = False
) -> dict[str, Any]:
    """Everything the alert page shows."""
    earlier = sender_history(session, alert)
    decisions = alert_decisions(session, [alert.alert_id, *[a.alert_id for a in earlier]])
    names = usernames(
        session,
        {alert.claimed_by} | {d.user_id for d in decisions} | {d.confirmed_by for d in decisions},
    )
    police = list(
        session.scalars(
            select(MemberRow)
            .where(MemberRow.kind == "police", MemberRow.active.is_(True))
            .order_by(MemberRow.name)
        )
    )
    payload = alert.payload
    rules = list(payload.get("rules", []))
    own = [d for d in decisions if d.alert_id == alert.alert_id]
    pending = next((d for d in own if d.status == PENDING), None)
    return {
        "alert": alert,
        "payload": payload,
        "rules": list(
            zip(
                rules,
                list(payload.get("rule_severities", [])) + [None] * len(rules),
                strict=False,
            )
        ),
        "reasons": list(payload.get("reasons", [])),
        "model": payload.get("model"),
        "registry_match": bool(payload.get("registry_match")) or "flagged_sender" in rules,
        "timeline": _timeline(payload),
        "evidence": list(payload.get("evidence", [])),
        "evidence_note": payload.get("evidence_note"),
        "revealed": revealed,
        "earlier": earlier,
        "decisions": own,
        "earlier_decisions": {
            a.alert_id: [d for d in decisions if d.alert_id == a.alert_id] for a in earlier
        },
        "pending": pending,
        "names": names,
        "mine": alert.claimed_by == user.user_id,
        "kinds": KINDS,
        "kind_labels": KIND_LABELS,
        "fp_reasons": FALSE_POSITIVE_REASONS,
        "police": police,
        "templates": support_templates(),
        "opted_out": opted_out(session, alert.member_id, str(payload.get("recipient", ""))),
        "severity_name": severity_name,
    }


def _timeline(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The contact timeline: the events the alert carries, or at least its first and last."""
    contacts = payload.get("timeline")
    if isinstance(contacts, list) and contacts:
        return [c for c in contacts if isinstance(c, dict)]
    found: list[dict[str, Any]] = []
    if payload.get("first_event_at"):
        found.append(
            {
                "at": payload["first_event_at"],
                "what": f"first contact in the window (event {payload.get('first_event_id', '?')})",
            }
        )
    if payload.get("last_event_at") and payload.get("last_event_at") != payload.get(
        "first_event_at"
    ):
        found.append({"at": payload["last_event_at"], "what": "latest contact in the window"})
    if payload.get("events"):
        found.append(
            {
                "at": payload.get("window_end"),
                "what": f"{payload['events']} contact event(s) from this sender to this child "
                "in the window",
            }
        )
    return found


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: str, user: Reviewer) -> Response:
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        alert = reviewer_alert(session, user, alert_id)
        context = alert_context(session, user, alert)
        audit.append(
            session,
            user_event(user, Action.ALERTS_REVIEW.value, Outcome.OK, [alert_id], {"page": "alert"}),
        )
    return render(request, "alert.html", context)


def _claim_response(
    request: Request, user: SignedInUser, alert_id: str, view: str, error: str | None
) -> Response:
    if view == "row" and request.headers.get("hx-request"):
        hub = hub_context(request)
        with hub.sessions() as session:
            alert = reviewer_alert(session, user, alert_id)
            names = usernames(session, {alert.claimed_by})
        return render(
            request,
            "_alert_row.html",
            {"a": alert, "names": names, "severity_name": severity_name, "row_error": error},
            status=409 if error else 200,
        )
    if error:
        raise WebError(409, error, "Claimed by someone else")
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/claim")
def claim_alert(
    request: Request,
    alert_id: str,
    user: Reviewer,
    view: Annotated[str, Form(max_length=8)] = "page",
) -> Response:
    hub = hub_context(request)
    error: str | None = None
    with hub.sessions() as session, session.begin():
        alert = reviewer_alert(session, user, alert_id)
        if alert.status not in {"open", "pending"}:
            error = f"this alert is {alert.status}; there is nothing left to claim"
        else:
            try:
                claim(session, alert, user.user_id)
            except ClaimError as exc:
                error = str(exc)
        audit.append(
            session,
            user_event(
                user,
                "alert.claim",
                Outcome.REJECTED if error else Outcome.OK,
                [alert_id],
                {"why": error} if error else {},
            ),
        )
    return _claim_response(request, user, alert_id, view, error)


@router.post("/alerts/{alert_id}/release")
def release_alert(
    request: Request,
    alert_id: str,
    user: Reviewer,
    view: Annotated[str, Form(max_length=8)] = "page",
) -> Response:
    hub = hub_context(request)
    error: str | None = None
    with hub.sessions() as session, session.begin():
        alert = reviewer_alert(session, user, alert_id)
        try:
            release(session, alert, user.user_id)
        except ClaimError as exc:
            error = str(exc)
        audit.append(
            session,
            user_event(
                user,
                "alert.release",
                Outcome.REJECTED if error else Outcome.OK,
                [alert_id],
                {"why": error} if error else {},
            ),
        )
    return _claim_response(request, user, alert_id, view, error)


@router.post("/alerts/{alert_id}/reveal")
def reveal_evidence(request: Request, alert_id: str, user: Reviewer) -> Response:
    """Show the conversation evidence, once the reviewer chooses to; audited every time."""
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        alert = reviewer_alert(session, user, alert_id)
        if alert.claimed_by != user.user_id:
            audit.append(
                session,
                user_event(
                    user, "evidence.reveal", Outcome.DENIED, [alert_id], {"why": "not claimed"}
                ),
            )
            denied = True
        else:
            denied = False
            evidence = list(alert.payload.get("evidence", []))
            note = alert.payload.get("evidence_note")
            audit.append(
                session,
                user_event(
                    user, "evidence.reveal", Outcome.OK, [alert_id], {"messages": len(evidence)}
                ),
            )
    if denied:
        raise WebError(409, "Claim the alert before revealing its evidence.", "Claim first")
    if request.headers.get("hx-request"):
        return render(
            request,
            "_evidence.html",
            {"evidence": evidence, "evidence_note": note, "revealed": True},
        )
    with hub.sessions() as session:
        alert = reviewer_alert(session, user, alert_id)
        context = alert_context(session, user, alert, revealed=True)
    return render(request, "alert.html", context)
