"""Authentication by API key, and the one dependency that enforces the policy table.

Every route but health and version takes ``Depends(authorize(Action.X))``: it finds the
caller's key, checks it (constant time; the key is never logged), looks up the role in
``policy.POLICY`` and audits a denial. Routes receive the ``Principal`` and never test
roles themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends, Request

from safehold.hub.context import HubContext, hub_context
from safehold.hub.errors import ApiError
from safehold.hub.policy import Action, Role, allowed
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.credentials import MalformedKeyError, split_api_key
from safehold.store.models import ApiKeyRow, MemberRow

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="safehold"'}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    key_id: str
    role: Role
    member_id: str | None
    member_kind: str | None
    size_band: str | None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    def event(
        self,
        action: str,
        outcome: str,
        object_ids: list[str] | tuple[str, ...] = (),
        detail: dict[str, object] | None = None,
    ) -> AuditEvent:
        return AuditEvent(
            actor=self.actor,
            role=self.role.value,
            action=action,
            outcome=outcome,
            member_id=self.member_id,
            object_ids=tuple(object_ids),
            detail=dict(detail or {}),
        )


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return request.headers.get("x-api-key")


def _unauthenticated(hub: HubContext, request: Request, reason: str) -> ApiError:
    hub.audit.record(
        AuditEvent(
            actor="anonymous",
            role="none",
            action="auth",
            outcome=Outcome.DENIED,
            detail={"path": request.url.path, "method": request.method, "reason": reason},
        )
    )
    return ApiError(401, "unauthenticated", reason, headers=CHALLENGE)


def authenticate(request: Request) -> Principal:
    hub = hub_context(request)
    presented = _presented_key(request)
    if presented is None:
        raise _unauthenticated(
            hub, request, "an API key is required: send 'Authorization: Bearer <key>'"
        )
    try:
        key_id, secret = split_api_key(presented)
    except MalformedKeyError as exc:
        raise _unauthenticated(hub, request, str(exc)) from None
    with hub.sessions() as session:
        row = session.get(ApiKeyRow, key_id)
        member = session.get(MemberRow, row.member_id) if row and row.member_id else None
    if row is None or not hub.keys.check(key_id, row.secret_hash, secret):
        raise _unauthenticated(hub, request, "the API key is not valid")
    if row.revoked_at is not None:
        raise _unauthenticated(hub, request, "the API key has been revoked")
    if member is not None and not member.active:
        raise _unauthenticated(hub, request, "the key's member is inactive")
    return Principal(
        key_id=key_id,
        role=Role(row.role),
        member_id=row.member_id,
        member_kind=member.kind if member else None,
        size_band=member.size_band if member else None,
    )


@cache
def authorize(action: Action) -> Callable[..., Principal]:
    """The dependency for routes bound to ``action`` (one object per action, so tests can
    find which action each route declares)."""

    def dependency(
        request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
        if not allowed(principal.role, action):
            hub_context(request).audit.record(
                principal.event(action.value, Outcome.DENIED, detail={"path": request.url.path})
            )
            raise ApiError(
                403,
                "forbidden",
                f"the role '{principal.role.value}' may not perform '{action.value}'",
            )
        return principal

    dependency.safehold_action = action  # type: ignore[attr-defined]
    return dependency
