"""The signals tier: platform-to-platform signals and their change log.

Each signal is keyed by (member, signal id); the hub gives it an opaque ``signal_key`` so
that readers never learn which platform sent it. Every change appends to
``signal_changes``, whose sequence number is the checkpoint a reader resumes from.
Re-sending an unchanged signal changes nothing (idempotent). A withdrawn signal stays as a
row marked deleted (its key must stay valid for the change log) and its withdrawal is a
``delete`` change: the tombstone readers apply.

Readers get the changes after their checkpoint with each signal's current state, under
its opaque key only: never the sending member, never the member's own signal id."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from safehold.exchange import Signal
from safehold.store.models import SignalChangeRow, SignalRow
from safehold.store.types import utcnow

_CHUNK = 5_000
_CHANGE_LOG_LOCK = 0x5AFE_0051_6A15
"""PostgreSQL advisory lock that orders writers of the change log (see ``_lock_change_log``)."""


@dataclass(frozen=True)
class SignalWrite:
    created: int
    updated: int
    unchanged: int


def _fields(signal: Signal) -> dict[str, object]:
    return {
        "kind": signal.kind.value,
        "value": signal.value,
        "key_version": signal.key_version,
        "category": signal.category.value,
        "confidence": signal.confidence,
        "pdq_quality": signal.pdq_quality,
        "observed_at": signal.observed_at,
        "deleted": False,
    }


def _lock_change_log(session: Session) -> None:
    """Hold the change log until this transaction ends. Change numbers come from a sequence,
    so without this a transaction could commit change 11 while another still holds change
    10 uncommitted; a reader would pass checkpoint 11 and never see 10. With writers taking
    turns, changes commit in number order. SQLite writers already take turns (BEGIN
    IMMEDIATE). Callers that also append audit events should write signals first, so that
    every transaction takes this lock before the audit head's."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_CHANGE_LOG_LOCK)))


def upsert_signals(session: Session, member_id: str, signals: Sequence[Signal]) -> SignalWrite:
    """Create or update ``signals`` for ``member_id`` inside the caller's transaction."""
    _lock_change_log(session)
    existing: dict[str, SignalRow] = {}
    ids = [s.signal_id for s in signals]
    for start in range(0, len(ids), _CHUNK):
        for found in session.scalars(
            select(SignalRow).where(
                SignalRow.member_id == member_id,
                SignalRow.signal_id.in_(ids[start : start + _CHUNK]),
            )
        ):
            existing[found.signal_id] = found
    now = utcnow()
    created: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    updated = unchanged = 0
    for signal in signals:
        fields = _fields(signal)
        row = existing.get(signal.signal_id)
        if row is None:
            key = secrets.token_hex(16)
            created.append(
                {
                    "signal_key": key,
                    "member_id": member_id,
                    "signal_id": signal.signal_id,
                    "updated_at": now,
                    **fields,
                }
            )
            changes.append({"signal_key": key, "op": "upsert", "changed_at": now})
        elif all(getattr(row, name) == value for name, value in fields.items()):
            unchanged += 1
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
            updated += 1
            changes.append({"signal_key": row.signal_key, "op": "upsert", "changed_at": now})
    if created:
        session.execute(insert(SignalRow), created)
    session.flush()
    if changes:
        session.execute(insert(SignalChangeRow), changes)
    return SignalWrite(created=len(created), updated=updated, unchanged=unchanged)


def withdraw_signal(session: Session, member_id: str, signal_id: str) -> bool:
    """Mark ``member_id``'s signal deleted and append its tombstone, inside the caller's
    transaction. False when the member has no such signal (another member's signal with the
    same id is not this member's); withdrawing twice appends one tombstone only."""
    _lock_change_log(session)
    row = session.execute(
        select(SignalRow)
        .where(SignalRow.member_id == member_id, SignalRow.signal_id == signal_id)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return False
    if not row.deleted:
        now = utcnow()
        row.deleted = True
        row.updated_at = now
        session.flush()
        session.execute(
            insert(SignalChangeRow),
            [{"signal_key": row.signal_key, "op": "delete", "changed_at": now}],
        )
    return True


# --- the feed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalChange:
    """One entry of the feed: a signal's state as of the read, or its tombstone."""

    op: str
    signal_key: str
    kind: str | None = None
    value: str | None = None
    key_version: int | None = None
    category: str | None = None
    confidence: float | None = None
    pdq_quality: int | None = None
    observed_at: datetime | None = None

    def body(self) -> dict[str, Any]:
        if self.op == "delete":
            return {"op": "delete", "signal_key": self.signal_key}
        assert self.observed_at is not None
        return {
            "op": "upsert",
            "signal_key": self.signal_key,
            "kind": self.kind,
            "value": self.value,
            "key_version": self.key_version,
            "category": self.category,
            "confidence": self.confidence,
            "pdq_quality": self.pdq_quality,
            "observed_at": self.observed_at.isoformat(),
        }


@dataclass(frozen=True)
class SignalPage:
    """Changes after a checkpoint; ``checkpoint`` is the last change included (the one the
    reader passed when there is nothing new) and ``more`` says whether a next page exists."""

    changes: list[SignalChange]
    checkpoint: int
    more: bool


class CheckpointAheadError(ValueError):
    """A checkpoint this feed never gave out: the reader's state belongs to another hub or
    to a database since restored from an older backup."""

    def __init__(self, since: int, last: int) -> None:
        self.since = since
        self.last = last
        super().__init__(
            f"checkpoint {since} is past the last change of this feed ({last}); the saved "
            "checkpoint belongs to another hub or an older copy of this one: discard the "
            "signals read so far and read again from since=0"
        )


def read_changes(session: Session, since: int, limit: int) -> SignalPage:
    """Up to ``limit`` changes after ``since``, in order. A signal changed several times
    within the page appears once, at its last change, with its current state; a reader that
    applies pages in order ends with the hub's current state. ``since=0`` is everything.
    Raises CheckpointAheadError for a checkpoint past the last change."""
    if since < 0 or limit < 1:
        raise ValueError("since must be 0 or more and limit 1 or more")
    rows = session.execute(
        select(
            SignalChangeRow.seq,
            SignalRow.signal_key,
            SignalRow.deleted,
            SignalRow.kind,
            SignalRow.value,
            SignalRow.key_version,
            SignalRow.category,
            SignalRow.confidence,
            SignalRow.pdq_quality,
            SignalRow.observed_at,
        )
        .join(SignalRow, SignalRow.signal_key == SignalChangeRow.signal_key)
        .where(SignalChangeRow.seq > since)
        .order_by(SignalChangeRow.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[str, SignalChange] = {}
    for row in rows:
        latest.pop(row.signal_key, None)  # re-inserted: ordered by its last change in the page
        latest[row.signal_key] = (
            SignalChange("delete", row.signal_key)
            if row.deleted
            else SignalChange(
                "upsert",
                row.signal_key,
                kind=row.kind,
                value=row.value,
                key_version=row.key_version,
                category=row.category,
                confidence=row.confidence,
                pdq_quality=row.pdq_quality,
                observed_at=row.observed_at,
            )
        )
    if not rows and since > 0:
        last = session.scalar(select(func.max(SignalChangeRow.seq))) or 0
        if since > last:
            raise CheckpointAheadError(since, last)
    checkpoint = rows[-1].seq if rows else since
    return SignalPage(list(latest.values()), checkpoint, more)
