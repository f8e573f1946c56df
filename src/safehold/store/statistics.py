"""Counts and rows for oversight. The true counts behind a transparency release, for one
period: members by size band, registry checks and matches (from the audit trail), alerts,
decisions by kind and support offers; these are exact and never leave the hub as they are
(hub.transparency adds calibrated noise first). And the alerts and decisions that
monitoring (hub.monitoring) computes precision, time to decision and backlog from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from safehold.store.models import AlertRow, AuditEventRow, DecisionRow, MemberRow

REGISTRY_CHECK_ACTIONS = ("registry.check", "registry.check_contacts")
"""The audit actions of registry checks (hub.routes.registry): a platform's accounts, and
police checking a seized device's contacts; the detail holds ``accounts`` (how many were
checked) and ``matches``."""

SUPPORT_KIND = "support"
IN_FORCE = ("final", "confirmed")
"""Decision statuses in force (store.decisions.IN_FORCE): a decision waiting for a second
reviewer, or rejected by one, is not counted as made."""
NO_BAND = "not a platform"
"""The size band shown for members that are not platforms (only platforms have one)."""


@dataclass(frozen=True)
class PeriodCounts:
    members_by_band: dict[str, int]
    registry_checks: int
    registry_matches: int
    alerts: int
    decisions_by_kind: dict[str, int]
    support_offers: int


def members_by_band(session: Session, until: datetime) -> dict[str, int]:
    """Active members that had joined before ``until``, by size band."""
    rows = session.execute(
        select(MemberRow.size_band, func.count())
        .where(MemberRow.active.is_(True), MemberRow.created_at < until)
        .group_by(MemberRow.size_band)
    )
    return {(band or NO_BAND): int(n) for band, n in rows}


def registry_check_totals(session: Session, start: datetime, end: datetime) -> tuple[int, int]:
    """(accounts checked, accounts that matched) by successful checks in [start, end)."""
    checked = matched = 0
    details = session.scalars(
        select(AuditEventRow.detail).where(
            AuditEventRow.action.in_(REGISTRY_CHECK_ACTIONS),
            AuditEventRow.outcome == "ok",
            AuditEventRow.at >= start,
            AuditEventRow.at < end,
        )
    )
    for detail in details:
        checked += int(detail.get("accounts", 0))
        matched += int(detail.get("matches", 0))
    return checked, matched


def alerts_raised(session: Session, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AlertRow)
            .where(AlertRow.created_at >= start, AlertRow.created_at < end)
        )
        or 0
    )


def decisions_by_kind(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Decisions in force made in [start, end), by kind."""
    rows = session.execute(
        select(DecisionRow.kind, func.count())
        .where(
            DecisionRow.created_at >= start,
            DecisionRow.created_at < end,
            DecisionRow.status.in_(IN_FORCE),
        )
        .group_by(DecisionRow.kind)
    )
    return {str(kind): int(n) for kind, n in rows}


def support_offers(session: Session, start: datetime, end: datetime) -> int:
    """Support offers in force: support decisions (an opted-out child's is never recorded,
    store.decisions), less any whose payload says no offer went out (``offered: false``)."""
    payloads = session.scalars(
        select(DecisionRow.payload).where(
            DecisionRow.kind == SUPPORT_KIND,
            DecisionRow.status.in_(IN_FORCE),
            DecisionRow.created_at >= start,
            DecisionRow.created_at < end,
        )
    )
    return sum(
        1
        for p in payloads
        if (p or {}).get("offered", True) is not False and not (p or {}).get("opted_out")
    )


def period_counts(session: Session, start: datetime, end: datetime) -> PeriodCounts:
    checked, matched = registry_check_totals(session, start, end)
    return PeriodCounts(
        members_by_band=members_by_band(session, end),
        registry_checks=checked,
        registry_matches=matched,
        alerts=alerts_raised(session, start, end),
        decisions_by_kind=decisions_by_kind(session, start, end),
        support_offers=support_offers(session, start, end),
    )


# --- monitoring (hub.monitoring): alerts and the decisions on them --------------------------


def _of_member(query: Select[Any], column: Any, member_id: str | None) -> Select[Any]:
    return query if member_id is None else query.where(column == member_id)


def alerts_since(session: Session, member_id: str | None, since: datetime) -> list[AlertRow]:
    """Alerts raised since ``since`` (one member's, or everyone's for ``None``)."""
    query = _of_member(select(AlertRow), AlertRow.member_id, member_id)
    return list(session.scalars(query.where(AlertRow.created_at >= since)))


def waiting_alerts(
    session: Session, member_id: str | None, statuses: Iterable[str]
) -> list[AlertRow]:
    """Alerts still waiting for a decision, however old."""
    query = _of_member(select(AlertRow), AlertRow.member_id, member_id)
    return list(session.scalars(query.where(AlertRow.status.in_(sorted(statuses)))))


def decisions_on(session: Session, alert_ids: Iterable[str]) -> list[DecisionRow]:
    ids = sorted(set(alert_ids))
    found: list[DecisionRow] = []
    for start in range(0, len(ids), 900):  # one bind parameter per id, under SQLite's limit
        found.extend(
            session.scalars(
                select(DecisionRow).where(DecisionRow.alert_id.in_(ids[start : start + 900]))
            )
        )
    return found
