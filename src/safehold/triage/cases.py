"""A device's case summary for the hub's cases tier, built from its triage report.

Why: the force's queue can live at the hub (and in the web UI) only if what travels holds
no evidence; the summary is therefore built from the report's score, reasons and counts
alone: no messages, no addresses, no paths, no hashes."""

from __future__ import annotations

from datetime import datetime

from safehold.exchange.cases import DeviceCaseSummary
from safehold.exchange.referrals import withhold_numbers
from safehold.triage.referrals import device_reference
from safehold.triage.report import TriageReport


def case_counts(report: TriageReport) -> dict[str, int]:
    """The counts a case shows: sizes of what was found, never what it was."""
    known_items = {(m.list, m.hash) for m in report.hash_matches}
    counts = {
        "files": report.files,
        "messages": report.messages,
        "calls": report.calls,
        "contacts": report.contacts,
        "known_files": len(report.hash_matches),
        "known_items": len(known_items),
        "near_duplicates": len(report.near_duplicates),
        "child_conversations": len(report.conversations),
        "warned_conversations": sum(c.warned for c in report.conversations),
        "not_processed": len(report.not_processed),
    }
    if report.registry_checked is not None:
        counts["registry_checked"] = report.registry_checked
        counts["registry_matches"] = len(report.registry_matches)
    return counts


def case_summary(report: TriageReport, device_id: str | None = None) -> DeviceCaseSummary:
    """The summary of ``report``; ``device_id`` defaults to the device's case reference."""
    return DeviceCaseSummary(
        device_id=device_id or device_reference(report.device),
        score=report.score,
        # A count of seven or more digits would look like a phone number to the hub.
        reasons=[withhold_numbers(r)[:500] for r in report.reasons],
        counts=case_counts(report),
        triaged_at=datetime.fromisoformat(report.triaged_at),
    )
