"""The signals tier: platform-to-platform signals and their change log.

Each signal is keyed by (member, signal id); the hub gives it an opaque ``signal_key`` so
that readers never learn which platform sent it. Every change appends to
``signal_changes``, whose sequence number is the checkpoint a reader resumes from.
Re-sending an unchanged signal changes nothing (idempotent)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from safehold.exchange import Signal
from safehold.store.models import SignalChangeRow, SignalRow
from safehold.store.types import utcnow

_CHUNK = 5_000


@dataclass(frozen=True)
class SignalWrite:
    created: int
    updated: int
    unchanged: int


def _fields(signal: Signal) -> dict[str, object]:
    return {
        "kind": signal.kind.value,
        "value": signal.value,
        "key_version": signal.key_version,
        "category": signal.category.value,
        "confidence": signal.confidence,
        "pdq_quality": signal.pdq_quality,
        "observed_at": signal.observed_at,
        "deleted": False,
    }


def upsert_signals(session: Session, member_id: str, signals: Sequence[Signal]) -> SignalWrite:
    """Create or update ``signals`` for ``member_id`` inside the caller's transaction."""
    existing: dict[str, SignalRow] = {}
    ids = [s.signal_id for s in signals]
    for start in range(0, len(ids), _CHUNK):
        for found in session.scalars(
            select(SignalRow).where(
                SignalRow.member_id == member_id,
                SignalRow.signal_id.in_(ids[start : start + _CHUNK]),
            )
        ):
            existing[found.signal_id] = found
    now = utcnow()
    created: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    updated = unchanged = 0
    for signal in signals:
        fields = _fields(signal)
        row = existing.get(signal.signal_id)
        if row is None:
            key = secrets.token_hex(16)
            created.append(
                {
                    "signal_key": key,
                    "member_id": member_id,
                    "signal_id": signal.signal_id,
                    "updated_at": now,
                    **fields,
                }
            )
            changes.append({"signal_key": key, "op": "upsert", "changed_at": now})
        elif all(getattr(row, name) == value for name, value in fields.items()):
            unchanged += 1
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
            updated += 1
            changes.append({"signal_key": row.signal_key, "op": "upsert", "changed_at": now})
    if created:
        session.execute(insert(SignalRow), created)
    session.flush()
    if changes:
        session.execute(insert(SignalChangeRow), changes)
    return SignalWrite(created=len(created), updated=updated, unchanged=unchanged)
