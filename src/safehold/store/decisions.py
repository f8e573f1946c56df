"""Human decisions on alerts: the one vocabulary, and how decisions are recorded.

Kinds (``DecisionRow.kind``):

- ``dismiss``  - not a concern; carries a false-positive reason (``FALSE_POSITIVE_REASONS``).
- ``warn``     - the platform warns the sender.
- ``restrict`` - the platform restricts the sender's contact with children.
- ``suspend``  - the platform suspends the sender's account.
- ``escalate`` - referred to a police member: a case in the cases tier addressed to it.
- ``support``  - a support message offered to the child (never to an opted-out child).

``warn``, ``restrict`` and ``suspend`` are interventions: Safehold never carries them out, it
records them and the member's own systems do (``GET /v1/decisions``, and a signed webhook).
Anything but ``dismiss`` counts as the alert having been right (precision, issue 8).

Statuses (``DecisionRow.status``): ``final`` (in force), ``pending`` (a kind that policy
names for four eyes, waiting for a second reviewer), ``confirmed`` (in force, confirmed by
a second reviewer) and ``rejected`` (the second reviewer disagreed; nothing is done).
Only ``final`` and ``confirmed`` decisions are in force and exported."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.exchange import MemberKind
from safehold.store.models import (
    AlertRow,
    CaseRow,
    DecisionRow,
    MemberRow,
    SupportOptOutRow,
)
from safehold.store.types import utcnow

DISMISS = "dismiss"
WARN = "warn"
RESTRICT = "restrict"
SUSPEND = "suspend"
ESCALATE = "escalate"
SUPPORT = "support"

KINDS: tuple[str, ...] = (DISMISS, WARN, RESTRICT, SUSPEND, ESCALATE, SUPPORT)
INTERVENTIONS: frozenset[str] = frozenset({WARN, RESTRICT, SUSPEND})
DEFAULT_FOUR_EYES: frozenset[str] = frozenset({SUSPEND, ESCALATE})
"""Kinds a second reviewer must confirm unless the hub is configured otherwise."""

KIND_LABELS: dict[str, str] = {
    DISMISS: "Dismiss (false positive)",
    WARN: "Warn the sender",
    RESTRICT: "Restrict the sender's contact",
    SUSPEND: "Suspend the sender",
    ESCALATE: "Escalate to police",
    SUPPORT: "Offer support to the child",
}

FALSE_POSITIVE_REASONS: dict[str, str] = {
    "known_relationship": "a known, appropriate relationship (family, school, club)",
    "age_wrong": "the recipient is not a child (age band wrong)",
    "sender_misidentified": "the sender was misidentified (registry or model)",
    "benign_content": "the contact was benign",
    "duplicate": "a duplicate of another alert",
    "other": "other (say why in the rationale)",
}

FINAL = "final"
PENDING = "pending"
CONFIRMED = "confirmed"
REJECTED = "rejected"
IN_FORCE: frozenset[str] = frozenset({FINAL, CONFIRMED})

MIN_RATIONALE = 10
ESCALATION_KIND = "escalation"


class DecisionError(ValueError):
    """A decision that cannot be recorded; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Proposal:
    """What a reviewer asks for."""

    kind: str
    rationale: str
    false_positive_reason: str | None = None
    police_member: str | None = None
    template: str | None = None


def check_proposal(
    session: Session, alert: AlertRow, proposal: Proposal, templates: Iterable[str]
) -> dict[str, Any]:
    """The decision's payload, or ``DecisionError`` naming what to fix."""
    if proposal.kind not in KINDS:
        raise DecisionError("kind", f"'{proposal.kind}' is not a decision; choose one of {KINDS}")
    if len(proposal.rationale.strip()) < MIN_RATIONALE:
        raise DecisionError(
            "rationale", f"every decision needs a rationale of at least {MIN_RATIONALE} characters"
        )
    payload: dict[str, Any] = {
        "sender": alert.payload.get("sender"),
        "recipient": alert.payload.get("recipient"),
        "severity": alert.severity,
        "rules": list(alert.payload.get("rules", [])),
    }
    if proposal.kind == DISMISS:
        if proposal.false_positive_reason not in FALSE_POSITIVE_REASONS:
            raise DecisionError(
                "false_positive_reason",
                "a dismissal needs a false-positive reason: one of "
                + ", ".join(FALSE_POSITIVE_REASONS),
            )
        payload["false_positive_reason"] = proposal.false_positive_reason
    if proposal.kind == ESCALATE:
        police = session.get(MemberRow, proposal.police_member or "")
        if police is None or not police.active or police.kind != MemberKind.POLICE.value:
            raise DecisionError(
                "police_member", "choose an active police member to escalate this alert to"
            )
        payload["police_member"] = police.member_id
    if proposal.kind == SUPPORT:
        if proposal.template not in set(templates):
            raise DecisionError("template", "choose one of the support-message templates")
        recipient = str(alert.payload.get("recipient", ""))
        if opted_out(session, alert.member_id, recipient):
            raise DecisionError(
                "template",
                "this child has opted out of support messages; no offer can be recorded",
            )
        payload["template"] = proposal.template
    return payload


def opted_out(session: Session, member_id: str, recipient: str) -> bool:
    return session.get(SupportOptOutRow, (member_id, recipient)) is not None


def record_opt_out(
    session: Session, member_id: str, recipient: str, user_id: int | None, note: str = ""
) -> bool:
    """Record an opt-out; False when it was already recorded."""
    if opted_out(session, member_id, recipient):
        return False
    session.add(
        SupportOptOutRow(
            member_id=member_id,
            recipient=recipient,
            user_id=user_id,
            note=note,
            created_at=utcnow(),
        )
    )
    session.flush()
    return True


def record_decision(
    session: Session,
    alert: AlertRow,
    user_id: int,
    proposal: Proposal,
    payload: dict[str, Any],
    four_eyes: frozenset[str],
) -> DecisionRow:
    """Store the decision (pending when its kind needs four eyes, else in force) and set the
    alert's status; effects of a decision in force are applied by ``take_effect``."""
    pending = proposal.kind in four_eyes
    row = DecisionRow(
        alert_id=alert.alert_id,
        member_id=alert.member_id,
        user_id=user_id,
        kind=proposal.kind,
        rationale=proposal.rationale.strip(),
        created_at=utcnow(),
        payload=payload,
        status=PENDING if pending else FINAL,
    )
    session.add(row)
    session.flush()
    if pending:
        alert.status = "pending"
        alert.claimed_by = None  # free for the second reviewer
        alert.claimed_at = None
    else:
        take_effect(session, alert, row)
    return row


def confirm_decision(
    session: Session,
    alert: AlertRow,
    decision: DecisionRow,
    user_id: int,
    agree: bool,
    rationale: str,
) -> None:
    """The second reviewer's answer. The first reviewer cannot confirm their own decision."""
    if decision.status != PENDING:
        raise DecisionError("decision", "this decision is not waiting for confirmation")
    if decision.user_id == user_id:
        raise DecisionError(
            "decision", "four eyes: a second reviewer, not the one who decided, must confirm"
        )
    if len(rationale.strip()) < MIN_RATIONALE:
        raise DecisionError(
            "rationale", f"confirming or rejecting needs a rationale of {MIN_RATIONALE}+ characters"
        )
    decision.confirmed_by = user_id
    decision.confirmed_at = utcnow()
    decision.confirm_rationale = rationale.strip()
    if agree:
        decision.status = CONFIRMED
        take_effect(session, alert, decision)
    else:
        decision.status = REJECTED
        alert.status = "open"


def take_effect(session: Session, alert: AlertRow, decision: DecisionRow) -> None:
    """What a decision in force changes at the hub: the alert is closed, and an escalation
    becomes a case addressed to the police member."""
    alert.status = "dismissed" if decision.kind == DISMISS else "decided"
    alert.claimed_by = None
    alert.claimed_at = None
    if decision.kind == ESCALATE:
        police = str(decision.payload["police_member"])
        case_id = hashlib.sha256(f"escalation\x00{decision.decision_pk}".encode()).hexdigest()
        session.add(
            CaseRow(
                case_id=case_id,
                member_id=alert.member_id,
                addressed_to=police,
                status="open",
                priority=float(alert.severity),
                created_at=utcnow(),
                payload={
                    "kind": ESCALATION_KIND,
                    "alert_id": alert.alert_id,
                    "decision_pk": decision.decision_pk,
                    "from_member": alert.member_id,
                    "sender": alert.payload.get("sender"),
                    "recipient": alert.payload.get("recipient"),
                    "severity": alert.severity,
                    "rules": list(alert.payload.get("rules", [])),
                    "reasons": list(alert.payload.get("reasons", [])),
                    "rationale": decision.rationale,
                },
            )
        )
        decision.payload = {**decision.payload, "case_id": case_id}
    session.flush()


def alert_decisions(session: Session, alert_ids: Iterable[str]) -> list[DecisionRow]:
    ids = list(alert_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(DecisionRow)
            .where(DecisionRow.alert_id.in_(ids))
            .order_by(DecisionRow.created_at, DecisionRow.decision_pk)
        )
    )


def in_force(
    session: Session, member_id: str, *, after: int | None, limit: int
) -> list[DecisionRow]:
    """The member's decisions in force, by decision number, ``limit`` after ``after``."""
    query = select(DecisionRow).where(
        DecisionRow.member_id == member_id, DecisionRow.status.in_(sorted(IN_FORCE))
    )
    if after is not None:
        query = query.where(DecisionRow.decision_pk > after)
    return list(session.scalars(query.order_by(DecisionRow.decision_pk).limit(limit)))


def export_record(row: DecisionRow) -> dict[str, Any]:
    """One decision as the member's systems receive it (API and webhook alike)."""
    return {
        "decision_id": row.decision_pk,
        "alert_id": row.alert_id,
        "kind": row.kind,
        "intervention": row.kind in INTERVENTIONS,
        "status": row.status,
        "sender": row.payload.get("sender"),
        "recipient": row.payload.get("recipient"),
        "template": row.payload.get("template"),
        "case_id": row.payload.get("case_id"),
        "rationale": row.rationale,
        "decided_at": row.created_at.isoformat(),
        "confirmed_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
    }
