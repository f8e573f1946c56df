"""Member administration (operator): add and list members, issue and revoke API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from safehold.exchange import Member
from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession
from safehold.hub.errors import ApiError
from safehold.hub.policy import Action
from safehold.store.members import (
    Actor,
    MemberError,
    add_member,
    issue_key,
    list_members,
    revoke_key,
)
from safehold.store.models import MemberRow

router = APIRouter(prefix="/v1/admin", tags=["administration"])


class KeyRequest(BaseModel):
    member_id: str | None = Field(
        default=None, description="The member the key is for; empty for operator or auditor."
    )
    role: str | None = Field(
        default=None, description="'operator' or 'auditor' for keys without a member."
    )
    label: str = Field(default="", max_length=200)


def _actor(principal: Principal) -> Actor:
    return Actor(principal.actor, principal.role.value, principal.member_id)


def _member_json(row: MemberRow) -> dict[str, Any]:
    return {
        "member_id": row.member_id,
        "name": row.name,
        "kind": row.kind,
        "size_band": row.size_band,
        "active": row.active,
        "created_at": row.created_at.isoformat(),
    }


@router.post(
    "/members", status_code=201, openapi_extra={"x-safehold-action": Action.MEMBERS_WRITE.value}
)
def create_member(
    member: Member,
    principal: Annotated[Principal, Depends(authorize(Action.MEMBERS_WRITE))],
    session: DbSession,
) -> dict[str, Any]:
    try:
        with session.begin():
            row = add_member(session, member, _actor(principal))
    except MemberError as exc:
        raise ApiError(409, "member_exists", str(exc)) from None
    return _member_json(row)


@router.get("/members", openapi_extra={"x-safehold-action": Action.MEMBERS_READ.value})
def get_members(
    principal: Annotated[Principal, Depends(authorize(Action.MEMBERS_READ))],
    session: DbSession,
) -> dict[str, Any]:
    with session.begin():
        rows = list_members(session)
    return {"members": [_member_json(r) for r in rows]}


@router.post("/keys", status_code=201, openapi_extra={"x-safehold-action": Action.KEYS_WRITE.value})
def create_key(
    body: KeyRequest,
    principal: Annotated[Principal, Depends(authorize(Action.KEYS_WRITE))],
    session: DbSession,
) -> dict[str, Any]:
    """Issue a key. The key itself is in this response only; the hub keeps its hash."""
    try:
        with session.begin():
            issued = issue_key(
                session, _actor(principal), body.member_id, role=body.role, label=body.label
            )
    except MemberError as exc:
        raise ApiError(400, "cannot_issue_key", str(exc)) from None
    return {
        "key_id": issued.key_id,
        "member_id": issued.member_id,
        "role": issued.role,
        "api_key": issued.plaintext,
        "note": "Store this key now: the hub keeps only its hash and cannot show it again.",
    }


@router.delete("/keys/{key_id}", openapi_extra={"x-safehold-action": Action.KEYS_WRITE.value})
def delete_key(
    key_id: str,
    principal: Annotated[Principal, Depends(authorize(Action.KEYS_WRITE))],
    session: DbSession,
) -> dict[str, Any]:
    try:
        with session.begin():
            row = revoke_key(session, key_id, _actor(principal))
    except MemberError as exc:
        raise ApiError(404, "no_such_key", str(exc)) from None
    assert row.revoked_at is not None
    return {"key_id": key_id, "revoked_at": row.revoked_at.isoformat()}
