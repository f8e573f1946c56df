"""``/cases``: the cases tier for the people who work it.

Police users see their triaged devices (highest priority first), the escalations platforms
addressed to them and the safeguarding referrals they sent; local-authority users see the
referrals addressed to them and record the support given (a CSRF-protected form; the entry
is appended to the referral's history, store.casework). A user sees only their own member's
cases: any other case id answers 404, as if it did not exist. Every list, every view of a
case and every support entry writes an audit event."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from safehold.hub.context import hub_context
from safehold.hub.policy import Action
from safehold.hub.web.session import WebError, require_user, user_event
from safehold.hub.web.templating import NAV, render
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.casework import (
    DEVICE,
    ESCALATION,
    MAX_NOTE,
    REFERRAL,
    SUPPORT_KINDS,
    SUPPORT_STATUSES,
    SupportError,
    addressed_to,
    case_for,
    device_cases,
    kind_of,
    record_support,
    referrals_sent,
    support_history,
)
from safehold.store.models import CaseRow
from safehold.store.users import SignedInUser

router = APIRouter(include_in_schema=False)

Reader = Annotated[SignedInUser, Depends(require_user(Action.CASES_REVIEW))]
Supporter = Annotated[SignedInUser, Depends(require_user(Action.CASES_SUPPORT))]

for _role in ("police", "local_authority"):
    NAV.setdefault(_role, []).append(("/cases", "Cases"))

_NOT_FOUND = "No such case for your organisation."


def _member(user: SignedInUser) -> str:
    if user.member_id is None:
        raise WebError(403, "Cases belong to members; coalition staff have no cases.", "Forbidden")
    return user.member_id


def _summary(row: CaseRow) -> dict[str, Any]:
    """What a list shows of a case, by kind (never the evidence itself)."""
    kind = kind_of(row)
    payload = row.payload
    if kind == DEVICE:
        summary = payload.get("summary", {})
        return {
            "title": str(summary.get("device_id", row.case_id)),
            "score": summary.get("score"),
            "reasons": list(summary.get("reasons", []))[:3],
            "when": summary.get("triaged_at") or row.created_at,
        }
    if kind == REFERRAL:
        referral = payload.get("referral", {})
        return {
            "title": str(referral.get("case_reference", row.case_id)),
            "score": None,
            "reasons": list(referral.get("reasons", []))[:3],
            "when": row.created_at,
            "age_band": referral.get("child_age_band"),
            "to": row.addressed_to,
            "from": row.member_id,
        }
    return {
        "title": f"alert {str(payload.get('alert_id', ''))[:12]}",
        "score": payload.get("severity"),
        "reasons": list(payload.get("reasons", []))[:3],
        "when": row.created_at,
        "from": payload.get("from_member", row.member_id),
    }


def _rows(rows: Any) -> list[dict[str, Any]]:
    return [{"row": r, **_summary(r)} for r in rows]


@router.get("/cases")
def cases(request: Request, user: Reader) -> Response:
    member_id = _member(user)
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        if user.role == "local_authority":
            sections = [
                (
                    "Safeguarding referrals to you",
                    REFERRAL,
                    addressed_to(session, member_id, REFERRAL),
                )
            ]
        else:
            sections = [
                ("Triaged devices", DEVICE, device_cases(session, member_id)),
                ("Escalations to you", ESCALATION, addressed_to(session, member_id, ESCALATION)),
                ("Referrals you sent", REFERRAL, referrals_sent(session, member_id)),
            ]
        shown = [(title, kind, _rows(rows)) for title, kind, rows in sections]
        audit.append(
            session,
            user_event(
                user,
                "cases.list",
                Outcome.OK,
                [entry["row"].case_id for _, _, rows in shown for entry in rows],
                {kind: len(rows) for _, kind, rows in shown},
            ),
        )
        return render(request, "cases.html", {"sections": shown})


def _visible(request: Request, user: SignedInUser, case_id: str, action: str) -> CaseRow:
    """The case, or 404 (audited) when the user's member neither made it nor receives it."""
    member_id = _member(user)
    hub = hub_context(request)
    with hub.sessions() as session:
        row = case_for(session, member_id, case_id[:64])
        if row is not None:
            session.expunge(row)
            return row
    hub.audit.record(
        user_event(user, action, Outcome.DENIED, [case_id[:64]], {"why": "not this member's case"})
    )
    raise WebError(404, _NOT_FOUND, "Not found")


def _page(
    request: Request,
    user: SignedInUser,
    row: CaseRow,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    kind = kind_of(row)
    can_support = (
        kind == REFERRAL and user.role == "local_authority" and row.addressed_to == user.member_id
    )
    return render(
        request,
        "case.html",
        {
            "case": row,
            "kind": kind,
            "summary": _summary(row),
            "history": list(reversed(support_history(row))),
            "can_support": can_support,
            "statuses": SUPPORT_STATUSES,
            "support_kinds": SUPPORT_KINDS,
            "max_note": MAX_NOTE,
            "error": error,
            "form": form or {"status": row.status},
        },
        status=status,
    )


@router.get("/cases/{case_id}")
def case_page(request: Request, user: Reader, case_id: str) -> Response:
    row = _visible(request, user, case_id, "cases.view")
    hub_context(request).audit.record(
        user_event(user, "cases.view", Outcome.OK, [row.case_id], {"kind": kind_of(row)})
    )
    return _page(request, user, row)


@router.post("/cases/{case_id}/support")
def record_support_page(
    request: Request,
    user: Supporter,
    case_id: str,
    status: Annotated[str, Form(max_length=32)] = "",
    support: Annotated[list[str] | None, Form(max_length=64)] = None,
    note: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
) -> Response:
    member_id = _member(user)
    hub = hub_context(request)
    chosen = list(support or [])
    wanted = case_id[:64]
    try:
        with hub.sessions() as session, session.begin():
            row = case_for(session, member_id, wanted)
            if row is None:
                raise _NotThisMembersError
            entry = record_support(
                session, row, member_id, by=user.actor, status=status, support=chosen, note=note
            )
            audit.append(
                session,
                user_event(
                    user,
                    "cases.support",
                    Outcome.OK,
                    [row.case_id],
                    {"status": entry.status, "support": list(entry.support)},
                ),
            )
    except _NotThisMembersError:
        hub.audit.record(
            user_event(
                user, "cases.support", Outcome.DENIED, [wanted], {"why": "not this member's case"}
            )
        )
        raise WebError(404, _NOT_FOUND, "Not found") from None
    except SupportError as exc:
        hub.audit.record(
            user_event(
                user,
                "cases.support",
                Outcome.REJECTED,
                [wanted],
                {"field": exc.field, "reason": str(exc)},
            )
        )
        fresh = _visible(request, user, wanted, "cases.support")
        return _page(
            request,
            user,
            fresh,
            error=str(exc),
            form={"status": status, "support": chosen, "note": note, "field": exc.field},
            status=422,
        )
    return RedirectResponse(f"/cases/{wanted}?recorded=1", status_code=303)


class _NotThisMembersError(Exception):
    """The case id is not one of the user's member's cases."""
