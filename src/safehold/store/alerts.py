"""The alerts tier: alerts raised for a member, stored once per alert id.

An alert id is a hash of (member, sender, child, window) made by the screening engine, so
storing the same alert again is a no-op: ``add_alerts`` inserts only the ids not yet
stored, inside the caller's transaction (all or nothing with its audit event). A member
reads only its own alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from safehold.store.models import AlertRow
from safehold.store.types import utcnow

_CHUNK = 900  # ids per IN look-up: one bind parameter each, under SQLite's old limit of 999


@dataclass(frozen=True)
class NewAlert:
    alert_id: str
    severity: int
    payload: dict[str, Any]
    created_at: datetime | None = None
    """When it was raised (default: when stored)."""


def add_alerts(session: Session, member_id: str, alerts: Sequence[NewAlert]) -> list[str]:
    """Store the alerts whose ids are not stored yet; returns the ids it added, in order."""
    ids = [a.alert_id for a in alerts]
    stored: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stored.update(
            session.scalars(select(AlertRow.alert_id).where(AlertRow.alert_id.in_(chunk)))
        )
    new = [a for a in alerts if a.alert_id not in stored]
    if new:
        session.execute(
            insert(AlertRow),
            [
                {
                    "alert_id": a.alert_id,
                    "member_id": member_id,
                    "severity": a.severity,
                    "status": "open",
                    "payload": a.payload,
                    "sender": _sender_of(a.payload),
                    "created_at": a.created_at or utcnow(),
                }
                for a in new
            ],
        )
    return [a.alert_id for a in new]


@dataclass(frozen=True)
class Delivered:
    """What ``deliver_alerts`` did, by alert id."""

    new: list[str]
    updated: list[str]
    unchanged: list[str]
    foreign: list[str]  # stored for another member: left alone, and the caller refuses


def deliver_alerts(session: Session, member_id: str, alerts: Sequence[NewAlert]) -> Delivered:
    """Store alerts a member's own worker raised: new ids are inserted; an id the member
    already has gets the newer payload and severity when they differ (a later message added
    a rule to the same alert); status and creation time stay. Sending the same alerts
    again changes nothing. Nothing is written when an id belongs to another member."""
    ids = [a.alert_id for a in alerts]
    stored: dict[str, AlertRow] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in session.scalars(select(AlertRow).where(AlertRow.alert_id.in_(chunk))):
            stored[row.alert_id] = row
    foreign = [i for i in ids if i in stored and stored[i].member_id != member_id]
    if foreign:
        return Delivered(new=[], updated=[], unchanged=[], foreign=foreign)
    new = [a for a in alerts if a.alert_id not in stored]
    changed = [
        a
        for a in alerts
        if a.alert_id in stored
        and (stored[a.alert_id].payload != a.payload or stored[a.alert_id].severity != a.severity)
    ]
    if new:
        add_alerts(session, member_id, new)
    for alert in changed:
        session.execute(
            update(AlertRow)
            .where(AlertRow.alert_id == alert.alert_id, AlertRow.member_id == member_id)
            .values(payload=alert.payload, severity=alert.severity)
        )
    touched = {a.alert_id for a in new} | {a.alert_id for a in changed}
    return Delivered(
        new=[a.alert_id for a in new],
        updated=[a.alert_id for a in changed],
        unchanged=[i for i in ids if i not in touched],
        foreign=[],
    )


def member_alerts(
    session: Session, member_id: str, *, limit: int, after: str | None
) -> list[AlertRow]:
    """The member's alerts by id, ``limit`` at a time after the id ``after`` (a cursor)."""
    query = select(AlertRow).where(AlertRow.member_id == member_id)
    if after is not None:
        query = query.where(AlertRow.alert_id > after)
    return list(session.scalars(query.order_by(AlertRow.alert_id).limit(limit)))


def _sender_of(payload: dict[str, Any]) -> str | None:
    sender = payload.get("sender")
    return str(sender)[:200] if sender is not None else None


# --- the review queue ------------------------------------------------------------------

STATUSES = ("open", "pending", "decided", "dismissed")
"""An alert's life: ``open`` (to review), ``pending`` (a decision waits for a second
reviewer), ``decided`` (a decision other than dismiss is in force), ``dismissed``."""


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = "open"
    rule: str | None = None
    min_severity: int | None = None


def member_alert(session: Session, member_id: str, alert_id: str) -> AlertRow | None:
    """The alert, only if it belongs to ``member_id`` (another member's id reads as absent)."""
    row = session.get(AlertRow, alert_id)
    return row if row is not None and row.member_id == member_id else None


def queue(
    session: Session, member_id: str, where: QueueFilter, *, limit: int = 200
) -> list[AlertRow]:
    """The member's alerts, most severe first, oldest first within a severity."""
    query = select(AlertRow).where(AlertRow.member_id == member_id)
    if where.status:
        query = query.where(AlertRow.status == where.status)
    if where.min_severity is not None:
        query = query.where(AlertRow.severity >= where.min_severity)
    query = query.order_by(AlertRow.severity.desc(), AlertRow.created_at, AlertRow.alert_id)
    if where.rule is None:
        return list(session.scalars(query.limit(limit)))
    # Rules live in the JSON payload; filter them here (a queue page is small).
    found: list[AlertRow] = []
    for row in session.scalars(query.execution_options(yield_per=500)):
        if where.rule in row.payload.get("rules", []):
            found.append(row)
            if len(found) >= limit:
                break
    return found


def status_counts(session: Session, member_id: str) -> dict[str, int]:
    rows = session.execute(
        select(AlertRow.status, func.count())
        .where(AlertRow.member_id == member_id)
        .group_by(AlertRow.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({str(status): int(n) for status, n in rows})
    return counts


def rules_in_use(session: Session, member_id: str, *, scan: int = 5_000) -> list[str]:
    """Rule ids seen in the member's most recent alerts (for the filter menu)."""
    seen: set[str] = set()
    query = (
        select(AlertRow.payload)
        .where(AlertRow.member_id == member_id)
        .order_by(AlertRow.created_at.desc())
        .limit(scan)
    )
    for payload in session.scalars(query):
        seen.update(str(r) for r in payload.get("rules", []))
    return sorted(seen)


class ClaimError(Exception):
    """The alert is claimed by someone else (or not claimable any more)."""


CLAIM_TTL = timedelta(hours=2)
"""A claim older than this may be taken over: a reviewer who left must not block an alert."""


def claim(session: Session, alert: AlertRow, user_id: int, now: datetime | None = None) -> None:
    """Claim an open or pending alert for ``user_id``; atomic against a second reviewer.
    A claim by someone else is respected unless it is older than ``CLAIM_TTL``."""
    if alert.claimed_by == user_id:
        return
    moment = now or utcnow()
    result = session.execute(
        update(AlertRow)
        .where(
            AlertRow.alert_id == alert.alert_id,
            or_(AlertRow.claimed_by.is_(None), AlertRow.claimed_at < moment - CLAIM_TTL),
        )
        .values(claimed_by=user_id, claimed_at=moment)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ClaimError("another reviewer has claimed this alert")
    session.refresh(alert)


def release(session: Session, alert: AlertRow, user_id: int) -> None:
    if alert.claimed_by != user_id:
        raise ClaimError("only the reviewer who claimed this alert can release it")
    alert.claimed_by = None
    alert.claimed_at = None
    session.flush()


def sender_history(session: Session, alert: AlertRow, *, limit: int = 50) -> list[AlertRow]:
    """The same sender's other alerts at this member, newest first."""
    if alert.sender is None:
        return []
    return list(
        session.scalars(
            select(AlertRow)
            .where(
                AlertRow.member_id == alert.member_id,
                AlertRow.sender == alert.sender,
                AlertRow.alert_id != alert.alert_id,
            )
            .order_by(AlertRow.created_at.desc())
            .limit(limit)
        )
    )
