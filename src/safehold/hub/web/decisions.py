"""Deciding on an alert from its page: the decision, the four-eyes confirmation, and a
child's opt-out from support messages.

Every decision needs a rationale and is audited in the transaction that records it. Kinds
the hub's policy names (``HubSettings.four_eyes``) stay pending until a second reviewer of
the same member confirms or rejects them; the first reviewer cannot confirm their own.
Decisions in force reach the member's systems through ``GET /v1/decisions`` and, when one
is configured, the signed webhook (``hub.webhooks``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from safehold.hub.context import hub_context
from safehold.hub.policy import Action
from safehold.hub.support import support_templates
from safehold.hub.web.alerts import alert_context, reviewer_alert
from safehold.hub.web.session import WebError, require_user, user_event
from safehold.hub.web.templating import render
from safehold.hub.webhooks import push_decisions
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.decisions import (
    IN_FORCE,
    DecisionError,
    Proposal,
    check_proposal,
    confirm_decision,
    record_decision,
    record_opt_out,
)
from safehold.store.models import AlertRow, DecisionRow
from safehold.store.users import SignedInUser

router = APIRouter(include_in_schema=False)

Decider = Annotated[SignedInUser, Depends(require_user(Action.DECISIONS_WRITE))]


def _refused(
    request: Request, session: Session, user: SignedInUser, alert: AlertRow, exc: DecisionError
) -> Response:
    context = alert_context(session, user, alert)
    context["decision_error"] = f"{exc} (field: {exc.field})"
    return render(request, "alert.html", context, status=422)


@router.post("/alerts/{alert_id}/decide")
def decide(
    request: Request,
    background: BackgroundTasks,
    alert_id: str,
    user: Decider,
    kind: Annotated[str, Form(max_length=32)] = "",
    rationale: Annotated[str, Form(max_length=5000)] = "",
    false_positive_reason: Annotated[str, Form(max_length=64)] = "",
    police_member: Annotated[str, Form(max_length=64)] = "",
    template: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    hub = hub_context(request)
    proposal = Proposal(
        kind=kind,
        rationale=rationale,
        false_positive_reason=false_positive_reason or None,
        police_member=police_member or None,
        template=template or None,
    )
    with hub.sessions() as session, session.begin():
        alert = reviewer_alert(session, user, alert_id)
        try:
            if alert.status != "open":
                raise DecisionError("alert", f"this alert is {alert.status}, not open")
            if alert.claimed_by != user.user_id:
                raise DecisionError("alert", "claim the alert before deciding on it")
            payload = check_proposal(
                session, alert, proposal, [t.template_id for t in support_templates()]
            )
        except DecisionError as exc:
            audit.append(
                session,
                user_event(
                    user,
                    "decision.record",
                    Outcome.REJECTED,
                    [alert_id],
                    {"kind": kind, "why": str(exc), "field": exc.field},
                ),
            )
            return _refused(request, session, user, alert, exc)
        row = record_decision(
            session, alert, user.user_id, proposal, payload, hub.settings.four_eyes
        )
        audit.append(
            session,
            user_event(
                user,
                "decision.record",
                Outcome.OK,
                [alert_id, f"decision:{row.decision_pk}"],
                {
                    "kind": row.kind,
                    "status": row.status,
                    "rationale": row.rationale,
                    **{k: v for k, v in payload.items() if k in _AUDITED},
                },
            ),
        )
        in_force = row.status in IN_FORCE
    if in_force:
        background.add_task(push_decisions, hub, alert.member_id, [row.decision_pk])
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


_AUDITED = ("false_positive_reason", "police_member", "template", "case_id")


@router.post("/alerts/{alert_id}/decisions/{decision_pk}/confirm")
def confirm(
    request: Request,
    background: BackgroundTasks,
    alert_id: str,
    decision_pk: int,
    user: Decider,
    answer: Annotated[str, Form(max_length=8)] = "",
    rationale: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        alert = reviewer_alert(session, user, alert_id)
        decision = session.get(DecisionRow, decision_pk)
        if decision is None or decision.alert_id != alert.alert_id:
            raise WebError(404, "There is no such decision on this alert.", "Not found")
        try:
            if answer not in {"confirm", "reject"}:
                raise DecisionError("answer", "answer 'confirm' or 'reject'")
            confirm_decision(session, alert, decision, user.user_id, answer == "confirm", rationale)
        except DecisionError as exc:
            audit.append(
                session,
                user_event(
                    user,
                    "decision.confirm",
                    Outcome.REJECTED,
                    [alert_id, f"decision:{decision_pk}"],
                    {"why": str(exc)},
                ),
            )
            return _refused(request, session, user, alert, exc)
        audit.append(
            session,
            user_event(
                user,
                "decision.confirm",
                Outcome.OK,
                [alert_id, f"decision:{decision_pk}"],
                {
                    "kind": decision.kind,
                    "status": decision.status,
                    "rationale": decision.confirm_rationale,
                    "decided_by": decision.user_id,
                    **{k: v for k, v in decision.payload.items() if k in _AUDITED},
                },
            ),
        )
        in_force = decision.status in IN_FORCE
    if in_force:
        background.add_task(push_decisions, hub, alert.member_id, [decision_pk])
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/opt-out")
def opt_out(
    request: Request,
    alert_id: str,
    user: Decider,
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Record that the child of this alert asked not to receive support messages."""
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        alert = reviewer_alert(session, user, alert_id)
        recipient = str(alert.payload.get("recipient", ""))
        added = record_opt_out(session, alert.member_id, recipient, user.user_id, note.strip())
        audit.append(
            session,
            user_event(
                user,
                "support.opt_out",
                Outcome.OK,
                [alert_id],
                {"recipient": recipient, "new": added},
            ),
        )
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
