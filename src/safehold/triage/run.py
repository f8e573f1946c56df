"""Triage of one device, end to end: index, parse, hash, match, score, report.

Why: one function the CLI, the demo and tests all call, so a report always comes from the
same steps in the same order; archives are unpacked into a scratch directory that is
removed afterwards, and the evidence is only read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from safehold.conversation.model import RiskModel
from safehold.hashing.hashsets import HashEntry, HashSetError, read_hash_set
from safehold.hashing.lookup import HashSetIndex
from safehold.triage.archives import open_extraction
from safehold.triage.artifacts import run_plugins
from safehold.triage.conversations import score_child_conversations
from safehold.triage.extraction import Limits
from safehold.triage.media import match_media
from safehold.triage.referrals import device_reference
from safehold.triage.registry_contacts import RegistryLookup, check_device_contacts
from safehold.triage.report import (
    ArtifactRow,
    ConversationRow,
    DiscoveredRow,
    HashMatchRow,
    IndicatorRow,
    NearDuplicateRow,
    NotProcessedRow,
    RegistryMatchRow,
    TriageReport,
)
from safehold.triage.scoring import score_device

STEPS = ("index", "artifacts", "hashes", "conversations", "registry", "score")


def load_hash_sets(paths: Sequence[Path], *, csv_profile: str = "US") -> HashSetIndex:
    """All hash sets into one index; a file that cannot be read stops here, naming it."""
    entries: list[HashEntry] = []
    for path in paths:
        try:
            entries.extend(read_hash_set(path, csv_profile=csv_profile))
        except HashSetError:
            raise
        except OSError as error:
            raise HashSetError(f"{path}: could not be read ({error.strerror or error})") from None
    return HashSetIndex(entries)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def triage_device(
    source: Path,
    *,
    hash_index: HashSetIndex | None,
    hash_set_names: Sequence[str] = (),
    model: RiskModel | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    step: Callable[[str], None] | None = None,
    registry: RegistryLookup | None = None,
) -> TriageReport:
    """Triage ``source``. With ``registry`` the device's contacts are checked against the
    offender registry (pseudonymised here; the check is the caller's callable)."""
    advance = step or (lambda _name: None)
    with tempfile.TemporaryDirectory(prefix="safehold-triage-") as scratch:
        advance("index")
        extraction = open_extraction(source, Path(scratch), limits)
        advance("artifacts")
        artifacts = run_plugins(extraction)
        advance("hashes")
        media = match_media(extraction, hash_index, workers=workers)
        advance("conversations")
        conversations = score_child_conversations(
            artifacts.messages, artifacts.contacts, model or RiskModel.default()
        )
        advance("registry")
        checked = None
        if registry is not None:
            checked = check_device_contacts(
                device_reference(source.name),
                artifacts.contacts,
                artifacts.messages,
                artifacts.calls,
                registry,
            )
        advance("score")
        times = [m.sent_at for m in artifacts.messages if m.sent_at is not None]
        times += [c.started_at for c in artifacts.calls if c.started_at is not None]
        latest = max(times) if times else None
        score = score_device(
            media.hash_matches, media.near_duplicates, conversations, latest, checked
        )
        not_processed = [*extraction.not_processed, *artifacts.not_processed]
        not_processed += media.not_processed
        return TriageReport(
            device=source.name,
            extraction=str(source),
            extraction_kind=extraction.kind,
            triaged_at=datetime.now(UTC).isoformat(timespec="seconds"),
            latest_activity=_iso(latest),
            files=media.files_hashed,
            bytes=media.bytes_hashed,
            images_pdq_hashed=media.images_hashed,
            hash_sets=list(hash_set_names),
            artifacts={
                name: ArtifactRow(rows=s.rows, source_files=s.source_files)
                for name, s in artifacts.summary.items()
            },
            messages=len(artifacts.messages),
            calls=len(artifacts.calls),
            contacts=len(artifacts.contacts),
            # The report rows read only their own fields (no severity points, records or times).
            hash_matches=[
                HashMatchRow.model_validate(m, from_attributes=True) for m in media.hash_matches
            ],
            near_duplicates=[
                NearDuplicateRow.model_validate(n, from_attributes=True)
                for n in media.near_duplicates
            ],
            conversations=[
                ConversationRow(
                    conversation_id=c.conversation_id,
                    app=c.app,
                    counterpart=c.counterpart,
                    messages=c.messages,
                    first_at=_iso(c.first_at),
                    last_at=_iso(c.last_at),
                    likely_child=c.child.reason,
                    child_age_band=c.child.age_band,
                    risk=round(c.result.risk, 4),
                    warned=c.result.label == "risk",
                    stages=list(c.result.stages_seen),
                    evidence_rows=list(c.evidence_rows),
                )
                for c in conversations
            ],
            score=score.score,
            score_parts=score.parts,
            reasons=score.reasons,
            indicators=[
                IndicatorRow(indicator=i.indicator, value=i.value, evidence=i.evidence)
                for i in score.indicators
            ],
            not_processed=[NotProcessedRow(path=n.path, reason=n.reason) for n in not_processed],
            discovered_chat_tables=[
                DiscoveredRow(
                    path=d.path,
                    table=d.table,
                    text_column=d.text_column,
                    time_column=d.time_column,
                    rows=d.rows,
                )
                for d in artifacts.discovered
            ],
            registry_checked=None if checked is None else checked.checked,
            registry_matches=[
                RegistryMatchRow(
                    address=m.address, kind=m.kind, seen_in=list(m.seen_in), typology=m.typology
                )
                for m in (checked.matches if checked is not None else ())
            ],
        )
