"""The case queue: many devices' reports ranked for examiners.

Why: a force holds thousands of devices; the queue says which to examine first and why,
from the reports alone (no evidence is re-read). Ties are broken by the more serious known
category, then by the more recent activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from safehold.triage.report import TriageReport, read_report


@dataclass(frozen=True)
class QueueEntry:
    rank: int
    directory: Path
    report: TriageReport


class QueueError(ValueError):
    """A results directory without a readable report; the message names it and the fix."""


def load_reports(directories: Sequence[Path]) -> list[tuple[Path, TriageReport]]:
    loaded = []
    for directory in directories:
        path = directory / "report.json"
        if not path.is_file():
            raise QueueError(f"{directory}: no report.json; run `safehold triage run` into it")
        try:
            loaded.append((directory, read_report(path)))
        except (ValidationError, ValueError) as error:
            raise QueueError(f"{path}: not a triage report ({error.__class__.__name__})") from None
    return loaded


def rank(reports: Sequence[tuple[Path, TriageReport]]) -> list[QueueEntry]:
    def key(item: tuple[Path, TriageReport]) -> tuple[float, float, str, str]:
        _, r = item
        return (-r.score, -r.score_parts.get("known", 0.0), r.latest_activity or "", r.device)

    ordered = sorted(reports, key=key)
    return [QueueEntry(i + 1, d, r) for i, (d, r) in enumerate(ordered)]


def average_precision(ranked_ids: Sequence[str], relevant: set[str]) -> float:
    """Average precision of a ranking for the ``relevant`` ids (1.0: all of them first)."""
    if not relevant:
        return 1.0
    hits, total = 0, 0.0
    for position, item in enumerate(ranked_ids, start=1):
        if item in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant)
