"""Safeguarding referrals (cases tier): a police member sends one about a child found in a
risky conversation, addressed to a local authority member; each reads only its own.

A referral is created only by this explicit request, which an officer's command sends;
triage never sends one by itself. Referrals are validated strictly (no raw phone numbers,
no images: text pointers only), stored once per referral id (a resend answers
``replayed: true``; other content under the same id is a 409), and every write, read and
refusal is audited with the case ids concerned, never the referral's text."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError

from safehold.exchange import Referral
from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession
from safehold.hub.errors import ApiError
from safehold.hub.json_requests import (
    RawBody,
    audit_refusals,
    member_of,
    parse_json,
    refusal,
    request_schema,
)
from safehold.hub.policy import Action
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.referrals import (
    ReferralConflictError,
    ReferralError,
    referrals_for,
    store_referral,
)

router = APIRouter(prefix="/v1", tags=["referrals"])

_UNSTORED = "nothing was stored"


class ReferralRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    referral: Referral


@router.post(
    "/referrals",
    status_code=201,
    openapi_extra={
        "x-safehold-action": Action.REFERRALS_WRITE.value,
        **request_schema(ReferralRequest),
    },
    responses={
        200: {"description": "A replay: this referral was already stored with this content."},
        409: {"description": "The referral id was already used for other content."},
        422: {"description": "Rejected (referral_rejected), naming each field; nothing stored."},
    },
)
def post_referral(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.REFERRALS_WRITE))],
    raw: RawBody,
    session: DbSession,
) -> JSONResponse:
    """Store one referral: ``{"case_id", "referral_id", "to_member", "replayed"}``."""
    detail: dict[str, Any] = {}
    with audit_refusals(request, principal, Action.REFERRALS_WRITE, detail):
        member_id = member_of(principal)
        referral = parse_json(
            ReferralRequest, raw, "referral_rejected", "referral", _UNSTORED
        ).referral
        detail["referral_id"] = referral.referral_id
        try:
            with session.begin():
                stored = store_referral(session, member_id, referral)
                audit.append(
                    session,
                    principal.event(
                        Action.REFERRALS_WRITE.value,
                        Outcome.OK,
                        object_ids=[stored.case_id],
                        detail={
                            "referral_id": referral.referral_id,
                            "to_member": referral.to_member,
                            "replayed": stored.replayed,
                        },
                    ),
                )
        except ReferralError as exc:
            raise refusal(
                "referral_rejected",
                [{"index": None, "field": f"referral.{exc.field}", "reason": str(exc)}],
                "referral",
                _UNSTORED,
            ) from None
        except ReferralConflictError as exc:
            raise ApiError(409, "referral_conflict", str(exc)) from None
        except IntegrityError:
            raise ApiError(
                409,
                "concurrent_write",
                "another request stored this referral at the same moment; nothing of this "
                "request was stored: send it again with the same referral_id",
                headers={"Retry-After": "1"},
            ) from None
    body = {
        "case_id": stored.case_id,
        "referral_id": referral.referral_id,
        "to_member": referral.to_member,
        "replayed": stored.replayed,
    }
    return JSONResponse(body, status_code=200 if stored.replayed else 201)


@router.get("/referrals", openapi_extra={"x-safehold-action": Action.REFERRALS_READ.value})
def get_referrals(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.REFERRALS_READ))],
    session: DbSession,
) -> dict[str, Any]:
    """The referrals the caller made (police) or that are addressed to it (local authority)."""
    with audit_refusals(request, principal, Action.REFERRALS_READ, {}):
        member_id = member_of(principal)
    with session.begin():
        found = referrals_for(session, member_id)
        audit.append(
            session,
            principal.event(
                Action.REFERRALS_READ.value,
                Outcome.OK,
                object_ids=[r.case_id for r in found],
                detail={"referrals": len(found)},
            ),
        )
    return {
        "referrals": [
            {
                "case_id": r.case_id,
                "from_member": r.from_member,
                "status": r.status,
                "received_at": r.received_at,
                "referral": r.referral,
            }
            for r in found
        ]
    }
