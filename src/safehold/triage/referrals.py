"""Safeguarding referrals drafted from a triage report: one per warned conversation whose
other party is likely a child, for an officer to review and send (``safehold triage
refer``). Triage itself never sends anything; this only drafts.

The child is named by the coalition-keyed pseudonym of their phone number when a key is
given and the number is one, otherwise by a case-local reference ("child-1"); numbers are
withheld from every pointer. Drafting the same report again gives the same referrals (ids
and times come from the report), so a resend is a replay at the hub, not a duplicate."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from safehold.exchange import AgeBand, IdentifierKind, Referral
from safehold.exchange.referrals import ChildRef, EvidencePointer, withhold_numbers
from safehold.identity.pseudonyms import Pseudonymiser
from safehold.triage.likely_child import address_key
from safehold.triage.report import ConversationRow, TriageReport

_NOT_ID = re.compile(r"[^A-Za-z0-9_.:-]+")


def case_reference_of(report: TriageReport) -> str:
    """The device name as an exchange identifier (the default case reference)."""
    return device_reference(report.device)


def device_reference(device: str) -> str:
    """A device name as an exchange identifier: no spaces, no phone-number-shaped runs."""
    cleaned = withhold_numbers(device).replace("[number withheld]", "n")
    return (_NOT_ID.sub("-", cleaned).strip("-._:") or "device")[:64]


def referral_candidates(report: TriageReport) -> list[ConversationRow]:
    """Warned conversations with a likely child, in report order."""
    return [
        c
        for c in report.conversations
        if c.warned and c.child_age_band in {b.value for b in AgeBand if b.is_minor}
    ]


def _child(row: ConversationRow, number: int, pseudonymiser: Pseudonymiser | None) -> ChildRef:
    phone = address_key(row.counterpart) if pseudonymiser is not None else None
    if pseudonymiser is not None and phone is not None:
        return ChildRef(pseudonym=pseudonymiser.pseudonymise(IdentifierKind.PHONE, phone))
    return ChildRef(case_ref=f"child-{number}")


def _reasons(row: ConversationRow) -> list[str]:
    stages = ", ".join(row.stages) or "no stage named"
    reasons = [
        f"{row.app} conversation warned by the conversation model (risk {row.risk:.2f}); "
        f"stages: {stages}",
        withhold_numbers(f"likely a child ({row.child_age_band}): {row.likely_child}")[:500],
        f"{row.messages} messages from {row.first_at or 'unknown'} to {row.last_at or 'unknown'}",
    ]
    return [withhold_numbers(r)[:500] for r in reasons]


def draft_referrals(
    report: TriageReport,
    to_member: str,
    *,
    case_reference: str | None = None,
    pseudonymiser: Pseudonymiser | None = None,
) -> list[Referral]:
    """One referral per candidate conversation of ``report``, addressed to ``to_member``."""
    case = case_reference or case_reference_of(report)
    made_at = datetime.fromisoformat(report.triaged_at)
    drafts = []
    for number, row in enumerate(referral_candidates(report), start=1):
        digest = hashlib.sha256(
            f"{case}\x00{row.conversation_id}\x00{to_member}".encode()
        ).hexdigest()
        drafts.append(
            Referral(
                referral_id=f"ref-{digest[:24]}",
                case_reference=case,
                to_member=to_member,
                child=_child(row, number, pseudonymiser),
                child_age_band=AgeBand(row.child_age_band),
                reasons=_reasons(row),
                evidence=[
                    EvidencePointer(
                        conversation_id=withhold_numbers(row.conversation_id)[:300],
                        message_refs=[withhold_numbers(e)[:300] for e in row.evidence_rows[:200]],
                        stages=row.stages[:20],
                    )
                ],
                made_at=made_at,
            )
        )
    return drafts
