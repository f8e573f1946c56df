"""Registry checks: a platform sends keyed pseudonyms of its own accounts and learns, for
each, match or no match; never the list, never which member holds an entry, never counts.

The answer carries the offence typology only where coalition policy discloses it
(``registry_disclose_typology``). Checks are rate-limited per member in accounts checked
(hub.ratelimit) and every one is audited: the refs that matched (the accounts disclosed as
matches) and how many were checked, never a pseudonym.

Police triaging a seized device check its contacts through ``/v1/registry/check-contacts``:
the same match-or-no-match answer, pseudonymised on the police side, bound to a device
reference that the audit event records, on a tighter rate limit of its own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from safehold.exchange import SubjectRef
from safehold.exchange.base import Identifier
from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession, hub_context
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
from safehold.hub.ratelimit import (
    CONTACT_CHECKS_PER_MINUTE,
    RateLimiter,
    contact_check_limiter,
    registry_check_limiter,
    retry_after,
)
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.registry import check_accounts

router = APIRouter(prefix="/v1", tags=["registry"])

MAX_IDENTIFIERS = 20
"""Identifiers per account in one check."""
_UNCHECKED = "nothing was checked"


# --- the check ----------------------------------------------------------------------------


class AccountToCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: Identifier = Field(
        description="Your own opaque token for the account (a row number, say), echoed back; "
        "never the account id itself."
    )
    identifiers: list[SubjectRef] = Field(
        min_length=1,
        max_length=MAX_IDENTIFIERS,
        description="Keyed pseudonyms of the account's identifiers (email, phone, username).",
    )


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    accounts: list[AccountToCheck] = Field(
        min_length=1, description="The accounts to check, up to the hub's per-request limit."
    )


@router.post(
    "/registry/check",
    openapi_extra={
        "x-safehold-action": Action.REGISTRY_CHECK.value,
        **request_schema(CheckRequest),
    },
    responses={
        413: {"description": "More accounts than one request may hold."},
        422: {"description": "The body does not follow the schema; nothing was checked."},
        429: {"description": "The member's check rate is used up; see Retry-After."},
    },
)
def check(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.REGISTRY_CHECK))],
    raw: RawBody,
    session: DbSession,
) -> JSONResponse:
    """Match or no match for each account, in request order:
    ``{"results": [{"ref", "match", "typology"}], "checked": n}``. ``typology`` is null
    unless coalition policy discloses it."""
    detail: dict[str, Any] = {}
    with audit_refusals(request, principal, Action.REGISTRY_CHECK, detail):
        member_of(principal)
        body = parse_json(CheckRequest, raw, "check_rejected", "accounts", _UNCHECKED)
    return _answer(
        request,
        principal,
        session,
        Action.REGISTRY_CHECK,
        body.accounts,
        registry_check_limiter(request),
        hub_context(request).settings.registry_checks_per_minute,
        detail,
    )


def _answer(
    request: Request,
    principal: Principal,
    session: DbSession,
    action: Action,
    accounts: list[AccountToCheck],
    limiter: RateLimiter,
    per_minute: int,
    detail: dict[str, Any],
) -> JSONResponse:
    """Limit, check, audit and answer: the same for every kind of registry check."""
    settings = hub_context(request).settings
    with audit_refusals(request, principal, action, detail):
        member_id = member_of(principal)
        detail["accounts"] = len(accounts)
        most = min(settings.max_check_accounts, limiter.capacity)
        if len(accounts) > most:
            raise ApiError(
                413,
                "too_many_accounts",
                f"this request holds {len(accounts):,} accounts; this hub checks at most "
                f"{most:,} per request: split them into several requests",
            )
        _refuse_repeated_refs(accounts)
        wait = limiter.take(member_id, len(accounts))
        if wait > 0:
            after = retry_after(wait)
            raise ApiError(
                429,
                "rate_limited",
                f"this member may check {limiter.capacity:,} accounts at once and "
                f"{per_minute:,} per minute; this request of "
                f"{len(accounts):,} fits again in {after} s: retry then",
                headers={"Retry-After": after},
            )
    disclose = settings.registry_disclose_typology
    with session.begin():
        answers = check_accounts(session, accounts)
        matched = [a.ref for a in answers if a.match]
        audit.append(
            session,
            principal.event(
                action.value,
                Outcome.OK,
                object_ids=matched,
                detail={**detail, "accounts": len(accounts), "matches": len(matched)},
            ),
        )
    results = [
        {"ref": a.ref, "match": a.match, "typology": a.typology if disclose else None}
        for a in answers
    ]
    return JSONResponse({"results": results, "checked": len(results)})


# --- police checks of a seized device's contacts ------------------------------------------


class ContactCheckRequest(BaseModel):
    """Police checking the contacts found on one seized device. ``device_id`` binds the
    check to a case: the audit event records it, so every police look-up can be traced to
    the device that prompted it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    device_id: Identifier = Field(description="The triaged device's case reference.")
    accounts: list[AccountToCheck] = Field(
        min_length=1,
        description="One entry per contact: a contact token as ref and the pseudonyms of "
        "its phone numbers and emails, made on the police side with the coalition key.",
    )


@router.post(
    "/registry/check-contacts",
    openapi_extra={
        "x-safehold-action": Action.REGISTRY_CHECK_CONTACTS.value,
        **request_schema(ContactCheckRequest),
    },
    responses={
        413: {"description": "More contacts than one request may hold."},
        422: {"description": "The body does not follow the schema; nothing was checked."},
        429: {"description": "The member's contact-check rate is used up; see Retry-After."},
    },
)
def check_contacts(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.REGISTRY_CHECK_CONTACTS))],
    raw: RawBody,
    session: DbSession,
) -> JSONResponse:
    """Match or no match for each contact of a seized device, in request order; the same
    answer a platform's check gets (``{"results": [{"ref", "match", "typology"}],
    "checked": n}``), on the police contact-check rate limit."""
    detail: dict[str, Any] = {"purpose": "device triage"}
    with audit_refusals(request, principal, Action.REGISTRY_CHECK_CONTACTS, detail):
        member_of(principal)
        body = parse_json(ContactCheckRequest, raw, "check_rejected", "accounts", _UNCHECKED)
    detail["device_id"] = body.device_id
    return _answer(
        request,
        principal,
        session,
        Action.REGISTRY_CHECK_CONTACTS,
        body.accounts,
        contact_check_limiter(request),
        CONTACT_CHECKS_PER_MINUTE,
        detail,
    )


def _refuse_repeated_refs(accounts: list[AccountToCheck]) -> None:
    refuse_repeats(
        [a.ref for a in accounts],
        "ref",
        "account",
        "each account in a request needs its own ref",
        code="check_rejected",
        items="accounts",
        effect=_UNCHECKED,
    )
