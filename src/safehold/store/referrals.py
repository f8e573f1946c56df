"""Safeguarding referrals in the cases tier: stored once per (sender, referral id), read only
by the member that made them and the member they are addressed to.

The case id is a digest of the sender and its referral id, so that a resend finds the
first copy (idempotent) and two members' ids never collide. A resend with other content is
refused: a referral, once sent, is corrected by a new one, never silently rewritten."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safehold.exchange import MemberKind, Referral
from safehold.store.models import CaseRow, MemberRow

KIND = "referral"


class ReferralError(Exception):
    """A referral that cannot be stored; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ReferralConflictError(Exception):
    """The referral id was already used by this member for other content."""


@dataclass(frozen=True)
class StoredReferral:
    case_id: str
    replayed: bool


def case_id_of(member_id: str, referral_id: str) -> str:
    return hashlib.sha256(f"{member_id}\x00{referral_id}".encode()).hexdigest()


def _payload(referral: Referral) -> dict[str, Any]:
    return {"kind": KIND, "referral": referral.model_dump(mode="json")}


def store_referral(session: Session, member_id: str, referral: Referral) -> StoredReferral:
    """Store ``referral`` from ``member_id`` inside the caller's transaction."""
    addressee = session.get(MemberRow, referral.to_member)
    if addressee is None or not addressee.active:
        raise ReferralError("to_member", f"no active member '{referral.to_member}' at this hub")
    if addressee.kind != MemberKind.LOCAL_AUTHORITY.value:
        raise ReferralError(
            "to_member",
            f"member '{referral.to_member}' is not a local authority; a safeguarding referral "
            "is addressed to the local authority that will act on it",
        )
    case_id = case_id_of(member_id, referral.referral_id)
    payload = _payload(referral)
    existing = session.get(CaseRow, case_id)
    if existing is not None:
        # Compare the referral only: the payload also gathers the local authority's
        # support history (store.casework), which a resend must not be refused for.
        if existing.payload.get("referral") != payload["referral"]:
            raise ReferralConflictError(
                f"referral '{referral.referral_id}' was already sent with other content; "
                "send a correction under a new referral_id"
            )
        return StoredReferral(case_id, replayed=True)
    session.add(
        CaseRow(
            case_id=case_id,
            member_id=member_id,
            addressed_to=referral.to_member,
            status="open",
            priority=0.0,
            payload=payload,
        )
    )
    session.flush()
    return StoredReferral(case_id, replayed=False)


@dataclass(frozen=True)
class ReadReferral:
    case_id: str
    from_member: str
    status: str
    received_at: str
    referral: dict[str, Any]


def referrals_for(session: Session, member_id: str) -> Sequence[ReadReferral]:
    """The referrals ``member_id`` made or is addressed to, oldest first."""
    rows = session.scalars(
        select(CaseRow)
        .where(
            CaseRow.addressed_to.is_not(None),
            or_(CaseRow.member_id == member_id, CaseRow.addressed_to == member_id),
        )
        .order_by(CaseRow.created_at, CaseRow.case_id)
    )
    return [
        ReadReferral(
            case_id=row.case_id,
            from_member=row.member_id,
            status=row.status,
            received_at=row.created_at.isoformat(),
            referral=row.payload["referral"],
        )
        for row in rows
        if row.payload.get("kind") == KIND
    ]
