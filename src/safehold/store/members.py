"""Members and their API keys: the operator's administrative actions, shared by the CLI
and the hub's admin routes. Each action appends its audit event in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.exchange import Member, MemberKind, SizeBand
from safehold.store import audit
from safehold.store.credentials import new_api_key
from safehold.store.models import ApiKeyRow, MemberRow
from safehold.store.types import utcnow

ROLE_OF_KIND: dict[MemberKind, str] = {
    MemberKind.PLATFORM: "platform",
    MemberKind.POLICE: "police",
    MemberKind.PROBATION: "probation",
    MemberKind.COURT: "court",
    MemberKind.LOCAL_AUTHORITY: "local_authority",
    MemberKind.RESEARCH: "researcher",
}
"""The role an API key of a member of each kind carries."""

COALITION_ROLES = ("operator", "auditor")
"""Roles of the coalition's own staff: their keys belong to no member."""


class MemberError(ValueError):
    """An administrative request that cannot be carried out; says why and what to do."""


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit trail."""

    name: str
    role: str
    member_id: str | None = None


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    member_id: str | None
    role: str
    plaintext: str


def member_of(row: MemberRow) -> Member:
    return Member(
        member_id=row.member_id,
        name=row.name,
        kind=MemberKind(row.kind),
        size_band=SizeBand(row.size_band) if row.size_band else None,
    )


def add_member(session: Session, member: Member, actor: Actor) -> MemberRow:
    if session.get(MemberRow, member.member_id) is not None:
        raise MemberError(f"member '{member.member_id}' already exists")
    row = MemberRow(
        member_id=member.member_id,
        name=member.name,
        kind=member.kind.value,
        size_band=member.size_band.value if member.size_band else None,
        active=True,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    _audit(session, actor, "member.add", [member.member_id], member.member_id)
    return row


def list_members(session: Session) -> list[MemberRow]:
    return list(session.scalars(select(MemberRow).order_by(MemberRow.member_id)))


def issue_key(
    session: Session,
    actor: Actor,
    member_id: str | None = None,
    role: str | None = None,
    label: str = "",
) -> IssuedKey:
    """A new key for a member (its role follows the member's kind) or, with no member, for
    the coalition's operator or auditor. The plaintext is returned once and never stored."""
    if member_id is not None:
        member = session.get(MemberRow, member_id)
        if member is None:
            raise MemberError(
                f"no member '{member_id}'; add it first with `safehold hub member add`"
            )
        if not member.active:
            raise MemberError(f"member '{member_id}' is inactive")
        member_role = ROLE_OF_KIND[MemberKind(member.kind)]
        if role is not None and role != member_role:
            raise MemberError(f"a {member.kind} member's keys carry the role '{member_role}'")
        role = member_role
    elif role not in COALITION_ROLES:
        raise MemberError("a key without a member must be for the role 'operator' or 'auditor'")
    assert role is not None
    key = new_api_key()
    session.add(
        ApiKeyRow(
            key_id=key.key_id,
            member_id=member_id,
            role=role,
            secret_hash=key.secret_hash,
            label=label,
            created_at=utcnow(),
        )
    )
    session.flush()
    _audit(session, actor, "key.issue", [key.key_id], member_id, {"role": role})
    return IssuedKey(key.key_id, member_id, role, key.plaintext)


def revoke_key(session: Session, key_id: str, actor: Actor) -> ApiKeyRow:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise MemberError(f"no API key with id '{key_id}'")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    _audit(session, actor, "key.revoke", [key_id], row.member_id)
    return row


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    objects: list[str],
    member_id: str | None,
    detail: dict[str, str] | None = None,
) -> None:
    audit.append(
        session,
        audit.AuditEvent(
            actor=actor.name,
            role=actor.role,
            action=action,
            outcome=audit.Outcome.OK,
            member_id=member_id or actor.member_id,
            object_ids=objects,
            detail=detail or {},
        ),
    )
