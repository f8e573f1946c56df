"""The alerts tier: alerts raised for a member, stored once per alert id.

An alert id is a hash of (member, sender, child, window) made by the screening engine, so
storing the same alert again is a no-op: ``add_alerts`` inserts only the ids not yet
stored, inside the caller's transaction (all or nothing with its audit event). A member
reads only its own alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from safehold.store.models import AlertRow

_CHUNK = 900  # ids per IN look-up: one bind parameter each, under SQLite's old limit of 999


@dataclass(frozen=True)
class NewAlert:
    alert_id: str
    severity: int
    payload: dict[str, Any]


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
