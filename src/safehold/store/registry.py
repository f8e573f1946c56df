"""The registry tier: storing justice members' entries and answering match / no match.

Entries are keyed by (member, entry id): a later batch with the same entry id replaces the
entry (a court withdrawing or ending a registration sends the entry again with its new
status). Only active entries match."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from safehold.exchange import RegistryEntry
from safehold.store.models import RegistryEntryRow, RegistryIdentifierRow
from safehold.store.types import utcnow

_CHUNK = 5_000


def write_entries(
    session: Session, member_id: str, batch_pk: int, entries: Sequence[RegistryEntry]
) -> int:
    """Insert or replace ``entries`` for ``member_id`` inside the caller's transaction."""
    if not entries:
        return 0
    now = utcnow()
    existing: dict[str, int] = {}
    ids = [e.entry_id for e in entries]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        existing.update(
            session.execute(
                select(RegistryEntryRow.entry_id, RegistryEntryRow.entry_pk).where(
                    RegistryEntryRow.member_id == member_id,
                    RegistryEntryRow.entry_id.in_(chunk),
                )
            ).tuples()
        )

    def fields(e: RegistryEntry) -> dict[str, object]:
        return {
            "batch_pk": batch_pk,
            "typology": e.typology.value,
            "status": e.status.value,
            "convicted_month": e.convicted_month,
            "registered_from": e.registered_from,
            "registered_until": e.registered_until,
            "clk": e.clk,
            "updated_at": now,
        }

    replaced = [e for e in entries if e.entry_id in existing]
    if replaced:
        pks = [existing[e.entry_id] for e in replaced]
        for start in range(0, len(pks), _CHUNK):
            session.execute(
                delete(RegistryIdentifierRow).where(
                    RegistryIdentifierRow.entry_pk.in_(pks[start : start + _CHUNK])
                )
            )
        session.execute(
            update(RegistryEntryRow),
            [{"entry_pk": existing[e.entry_id], **fields(e)} for e in replaced],
        )
    new = [e for e in entries if e.entry_id not in existing]
    if new:
        rows = session.execute(
            insert(RegistryEntryRow).returning(
                RegistryEntryRow.entry_id, RegistryEntryRow.entry_pk, sort_by_parameter_order=True
            ),
            [{"member_id": member_id, "entry_id": e.entry_id, **fields(e)} for e in new],
        ).tuples()
        existing.update(dict(rows))
    identifiers = [
        {
            "entry_pk": existing[e.entry_id],
            "kind": s.kind.value,
            "pseudonym": s.pseudonym,
            "key_version": s.key_version,
        }
        for e in entries
        for s in e.subjects
    ]
    if identifiers:
        session.execute(insert(RegistryIdentifierRow), identifiers)
    return len(entries)
