"""Device cases in the cases tier: one per (police member, device), read only by that member.

The case id is a digest of the member and the device id, so pushing the same device again
finds its case (idempotent). The same summary again is a replay; a newer triage of the
device (a later ``triaged_at``) replaces the summary and the priority and keeps the case's
status; an older one is refused, so a late resend never overwrites a fresh result."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.exchange.cases import DEVICE_CASE_KIND, DeviceCaseSummary
from safehold.store.models import CaseRow


class StaleCaseError(Exception):
    """The hub holds a newer triage of this device than the one sent."""


@dataclass(frozen=True)
class StoredCase:
    case_id: str
    outcome: str
    """``created``, ``updated`` or ``replayed``."""


def device_case_id(member_id: str, device_id: str) -> str:
    return hashlib.sha256(f"{member_id}\x00{DEVICE_CASE_KIND}\x00{device_id}".encode()).hexdigest()


def store_device_case(session: Session, member_id: str, summary: DeviceCaseSummary) -> StoredCase:
    """Store or refresh ``summary`` for ``member_id`` inside the caller's transaction."""
    case_id = device_case_id(member_id, summary.device_id)
    payload = summary.payload()
    existing = session.get(CaseRow, case_id)
    if existing is None:
        session.add(
            CaseRow(
                case_id=case_id,
                member_id=member_id,
                addressed_to=None,
                status="open",
                priority=summary.score,
                payload=payload,
            )
        )
        session.flush()
        return StoredCase(case_id, "created")
    if existing.payload == payload:
        return StoredCase(case_id, "replayed")
    held = datetime.fromisoformat(existing.payload["summary"]["triaged_at"])
    if summary.triaged_at < held:
        raise StaleCaseError(
            f"the hub holds a newer triage of device '{summary.device_id}' (triaged "
            f"{held.isoformat()}); this one is from {summary.triaged_at.isoformat()}: "
            "triage the device again to replace it"
        )
    existing.payload = payload
    existing.priority = summary.score
    session.flush()
    return StoredCase(case_id, "updated")


@dataclass(frozen=True)
class ReadCase:
    case_id: str
    status: str
    priority: float
    created_at: str
    payload: dict[str, Any]


def device_cases_for(session: Session, member_id: str) -> Sequence[ReadCase]:
    """``member_id``'s device cases, highest priority first (then oldest, then by id)."""
    rows = session.scalars(
        select(CaseRow)
        .where(CaseRow.member_id == member_id, CaseRow.addressed_to.is_(None))
        .order_by(CaseRow.priority.desc(), CaseRow.created_at, CaseRow.case_id)
    )
    return [
        ReadCase(
            case_id=row.case_id,
            status=row.status,
            priority=row.priority,
            created_at=row.created_at.isoformat(),
            payload=row.payload,
        )
        for row in rows
        if row.payload.get("kind") == DEVICE_CASE_KIND
    ]
