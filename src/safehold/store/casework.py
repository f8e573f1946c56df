"""Reading the cases tier for the people who work the cases, and recording the support a
local authority gave.

A case is a row of ``cases`` whose payload says its ``kind``: ``device`` (a triaged seized
device, made by the police member), ``referral`` (a safeguarding referral from police to a
local authority, store.referrals) or ``escalation`` (an alert a platform's reviewer
escalated to a police member). A member sees a case only if it made it or the case is
addressed to it; every other case is as if it did not exist.

Support is recorded into the referral itself: the case's status changes and an entry is
appended to ``payload["support_history"]``, never rewritten, so the history says who
recorded what and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safehold.store.models import CaseRow
from safehold.store.types import utcnow

DEVICE = "device"
REFERRAL = "referral"
ESCALATION = "escalation"

SUPPORT_STATUSES: dict[str, str] = {
    "acknowledged": "referral received and read",
    "in_progress": "support being arranged or under way",
    "support_given": "support given",
    "closed": "closed: no further action by the local authority",
}
"""The statuses a local authority may give a referral, with what each means."""

SUPPORT_KINDS: dict[str, str] = {
    "safety_plan": "safety plan made with the child",
    "family_support": "support for the family or carers",
    "school_liaison": "liaison with the child's school",
    "counselling": "counselling or therapeutic support",
    "health": "referral to health services",
    "strategy_meeting": "multi-agency strategy meeting",
    "other": "other support (described in the note)",
}
MAX_NOTE = 2000
HISTORY = "support_history"


class SupportError(ValueError):
    """Support that cannot be recorded; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def kind_of(row: CaseRow) -> str:
    return str(row.payload.get("kind", ""))


def _of_kind(kind: str) -> Any:
    return CaseRow.payload["kind"].as_string() == kind


def device_cases(session: Session, member_id: str) -> Sequence[CaseRow]:
    """The member's triaged devices, highest priority first (then the oldest)."""
    return session.scalars(
        select(CaseRow)
        .where(CaseRow.member_id == member_id, _of_kind(DEVICE))
        .order_by(CaseRow.priority.desc(), CaseRow.created_at, CaseRow.case_id)
    ).all()


def referrals_sent(session: Session, member_id: str) -> Sequence[CaseRow]:
    return session.scalars(
        select(CaseRow)
        .where(CaseRow.member_id == member_id, _of_kind(REFERRAL))
        .order_by(CaseRow.created_at.desc(), CaseRow.case_id)
    ).all()


def addressed_to(session: Session, member_id: str, kind: str) -> Sequence[CaseRow]:
    """Cases of ``kind`` addressed to the member, the open ones first, then newest."""
    rows = session.scalars(
        select(CaseRow)
        .where(CaseRow.addressed_to == member_id, _of_kind(kind))
        .order_by(CaseRow.created_at.desc(), CaseRow.case_id)
    ).all()
    return sorted(rows, key=lambda r: r.status in {"closed", "support_given"})


def case_for(session: Session, member_id: str, case_id: str) -> CaseRow | None:
    """The case if ``member_id`` made it or it is addressed to it; otherwise None."""
    return session.scalars(
        select(CaseRow).where(
            CaseRow.case_id == case_id,
            or_(CaseRow.member_id == member_id, CaseRow.addressed_to == member_id),
        )
    ).first()


@dataclass(frozen=True)
class SupportEntry:
    at: datetime
    by: str
    status: str
    support: tuple[str, ...]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "by": self.by,
            "status": self.status,
            "support": list(self.support),
            "note": self.note,
        }


def support_history(row: CaseRow) -> list[dict[str, Any]]:
    history = row.payload.get(HISTORY, [])
    return list(history) if isinstance(history, list) else []


def record_support(
    session: Session,
    row: CaseRow,
    member_id: str,
    *,
    by: str,
    status: str,
    support: Sequence[str],
    note: str,
    at: datetime | None = None,
) -> SupportEntry:
    """Append a support entry to a referral addressed to ``member_id`` and set its status,
    inside the caller's transaction. Refused (``SupportError``) for a case of another kind,
    one addressed elsewhere, or a status, support kind or note outside what is allowed."""
    if kind_of(row) != REFERRAL or row.addressed_to != member_id:
        raise SupportError(
            "case", "support is recorded only on a referral addressed to your local authority"
        )
    if status not in SUPPORT_STATUSES:
        raise SupportError(
            "status", f"status {status!r} is not one of {', '.join(SUPPORT_STATUSES)}"
        )
    unknown = [s for s in support if s not in SUPPORT_KINDS]
    if unknown:
        raise SupportError(
            "support",
            f"support {', '.join(map(repr, unknown))} is not one of {', '.join(SUPPORT_KINDS)}",
        )
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise SupportError("note", f"the note has {len(note)} characters; keep it to {MAX_NOTE}")
    if status == "support_given" and not support:
        raise SupportError("support", "say which support was given (tick at least one)")
    if "other" in support and not note:
        raise SupportError("note", "describe the 'other' support in the note")
    entry = SupportEntry(
        at=at or utcnow(), by=by, status=status, support=tuple(dict.fromkeys(support)), note=note
    )
    payload = dict(row.payload)
    payload[HISTORY] = [*support_history(row), entry.to_json()]
    row.payload = payload  # a new object, so the JSON column is written
    row.status = status
    session.flush()
    return entry
