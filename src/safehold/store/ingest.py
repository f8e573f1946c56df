"""Storing one validated batch, all or nothing, idempotently.

``ingest_batch`` runs inside the caller's transaction: it records the batch, writes each
record to its tier (registry entries, signals, and everything else to the enclave through
the bulk writer) and returns the counts. A batch id the member has used before answers
from the stored batch: the same content is a replay (nothing is written twice), other
content is a conflict. Who may write which record type is the hub's decision, made before
it calls here; this module knows nothing of HTTP."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safehold.exchange import (
    Batch,
    BatchValidationError,
    BehaviourRecord,
    RecordError,
    RegistryEntry,
    Signal,
)
from safehold.store import enclave
from safehold.store.models import BatchRow
from safehold.store.registry import write_entries
from safehold.store.signals import upsert_signals
from safehold.store.tiers import RECORD_TIER


@dataclass(frozen=True)
class IngestResult:
    """What the hub answers for a batch, first time or on a replay."""

    batch_id: str
    member_id: str
    accepted: int
    by_type: dict[str, int]
    by_tier: dict[str, int]
    replayed: bool

    def body(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "member_id": self.member_id,
            "accepted": self.accepted,
            "by_type": self.by_type,
            "by_tier": self.by_tier,
            "replayed": self.replayed,
        }


class BatchConflictError(ValueError):
    """The member already sent a different batch under this id."""

    def __init__(self, member_id: str, batch_id: str) -> None:
        self.member_id = member_id
        self.batch_id = batch_id
        super().__init__(
            f"batch '{batch_id}' was already accepted from member '{member_id}' with different "
            "content; a batch id can be used once: send changed records under a new batch id"
        )


def content_hash(batch: Batch) -> str:
    """SHA-256 of the batch's exchange JSON without its creation time (a resend made later is
    the same batch) and without empty fields (an empty field and an absent one mean the
    same): ``batch.model_dump_json(exclude={"created_at"}, exclude_none=True)``."""
    text = batch.model_dump_json(exclude={"created_at"}, exclude_none=True)
    return hashlib.sha256(text.encode()).hexdigest()


class _ContentHasher:
    """``content_hash`` built from each record's payload JSON in turn (the same bytes, so
    the same digest): hashing costs no serialisation beyond the one the store needs, and
    runs while the database stores the rows already sent."""

    def __init__(self, batch: Batch) -> None:
        head = batch.model_dump_json(exclude={"created_at", "records"}, exclude_none=True)
        self._sha = hashlib.sha256(head[:-1].encode() + b',"records":[')
        self._separator = b""

    def add(self, record_json: str) -> None:
        self._sha.update(self._separator + record_json.encode())
        self._separator = b","

    def hexdigest(self) -> str:
        self._sha.update(b"]}")
        return self._sha.hexdigest()


# --- duplicate ids inside one batch ------------------------------------------------------

_ID_FIELD = {
    "registry_entry": "entry_id",
    "signal": "signal_id",
    "contact_event": "event_id",
    "cohort_label": "label_id",
    "conversation": "conversation_id",
}
"""Record type -> the sender's id field, unique among records of that type in one batch.
Behaviour records have no id: their subject and period must be unique instead."""


def duplicate_ids(batch: Batch) -> list[RecordError]:
    """Every record that repeats the id of an earlier record of its type (for behaviour: the
    same subject and period). Names the earlier record's index, never the value."""
    first: dict[Hashable, int] = {}
    problems: list[RecordError] = []
    for index, record in enumerate(batch.records):
        key: Hashable
        if isinstance(record, BehaviourRecord):
            s = record.subject
            field = "subject"
            key = (s.pseudonym, s.kind, s.key_version, record.period_start, record.period_days)
        elif record.record_type in _ID_FIELD:
            field = _ID_FIELD[record.record_type]
            key = (record.record_type, getattr(record, field))
        else:
            continue
        seen = first.setdefault(key, index)
        if seen != index:
            what = "the subject and period of" if field == "subject" else f"the {field} of"
            problems.append(
                RecordError(
                    index,
                    field,
                    f"repeats {what} record {seen}; each {record.record_type} record may appear "
                    "once per batch: remove or merge the repeat",
                )
            )
    return problems


# --- counting and storing --------------------------------------------------------------


def _counts(batch: Batch) -> tuple[dict[str, int], dict[str, int]]:
    by_type = Counter(record.record_type for record in batch.records)
    by_tier: Counter[str] = Counter()
    for record_type, n in by_type.items():
        by_tier[RECORD_TIER[record_type].value] += n
    return dict(sorted(by_type.items())), dict(sorted(by_tier.items()))


def _find(session: Session, member_id: str, batch_id: str) -> BatchRow | None:
    return session.execute(
        select(BatchRow).where(BatchRow.member_id == member_id, BatchRow.batch_id == batch_id)
    ).scalar_one_or_none()


def _replay(row: BatchRow, digest: str) -> IngestResult:
    if row.content_hash != digest:
        raise BatchConflictError(row.member_id, row.batch_id)
    return IngestResult(
        batch_id=row.batch_id,
        member_id=row.member_id,
        accepted=row.record_count,
        by_type=dict(sorted(row.counts.get("by_type", {}).items())),
        by_tier=dict(sorted(row.counts.get("by_tier", {}).items())),
        replayed=True,
    )


def ingest_batch(session: Session, member_id: str, batch: Batch) -> IngestResult:
    """Store ``batch`` for ``member_id`` inside the caller's transaction (the caller commits,
    or rolls back on any error so that nothing of the batch is stored).

    Raises BatchConflictError when the batch id was used for other content, and
    BatchValidationError for ids repeated inside the batch (the hub checks both first)."""
    if batch.member_id != member_id:
        raise ValueError(
            f"batch '{batch.batch_id}' names member '{batch.member_id}' but is being stored "
            f"for member '{member_id}'"
        )
    duplicates = duplicate_ids(batch)
    if duplicates:
        raise BatchValidationError(duplicates)
    existing = _find(session, member_id, batch.batch_id)
    if existing is not None:
        return _replay(existing, content_hash(batch))

    by_type, by_tier = _counts(batch)
    row = BatchRow(
        member_id=member_id,
        batch_id=batch.batch_id,
        content_hash="",  # set below, once every record has been hashed
        schema_version=batch.schema_version,
        record_count=len(batch.records),
        counts={"by_type": by_type, "by_tier": by_tier},
    )
    try:
        # A concurrent submission of the same id waits here on the unique constraint and
        # fails once the first commits; it then answers from the first one's row.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = _find(session, member_id, batch.batch_id)
        if existing is None:
            raise
        return _replay(existing, content_hash(batch))

    hasher = _ContentHasher(batch)
    registry: list[RegistryEntry] = []
    signals: list[Signal] = []

    def enclave_records() -> Iterator[enclave.Serialised]:
        """Every record serialised once and hashed, in batch order; enclave ones streamed
        to the bulk writer, the others kept for their own tiers."""
        for record in batch.records:
            json_text = record.model_dump_json(exclude_none=True)
            hasher.add(json_text)
            if isinstance(record, RegistryEntry):
                registry.append(record)
            elif isinstance(record, Signal):
                signals.append(record)
            else:
                yield record, json_text

    stream = enclave_records()
    enclave.write_records(session, member_id, row.batch_pk, stream)
    if next(stream, None) is not None:  # the hash and the other tiers need every record
        raise RuntimeError("the enclave writer stopped before the end of the batch")
    write_entries(session, member_id, row.batch_pk, registry)
    if signals:
        upsert_signals(session, member_id, signals)
    row.content_hash = hasher.hexdigest()
    session.flush()
    return IngestResult(
        batch_id=batch.batch_id,
        member_id=member_id,
        accepted=len(batch.records),
        by_type=by_type,
        by_tier=by_tier,
        replayed=False,
    )
