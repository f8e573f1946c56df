"""Exporting the enclave tier to the research enclave as exchange-format Parquet, with every
source blinded.

Each member's records go under a source token: an HMAC of the member id under a salt drawn
for this export and never stored, so a token cannot be traced back to a member nor matched
across two exports. Only the member's kind and size band travel with it. The identifiers a
sender chose itself (event, label, conversation, participant and message ids) often embed
its member id, so they are replaced the same way (consistently within a source, so that
references such as a message's sender still resolve); keyed pseudonyms and CLKs travel as
they are, because linkage needs them. Only the enclave tier is read: the registry and
signals tiers never leave the hub.

Rows are streamed from the database in chunks and written as Parquet parts that are then
merged file by file, so the export never holds the enclave in memory. Everything is written
to a staging folder that is renamed into place at the end: whole or nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safehold.exchange import SCHEMA_VERSION, BehaviourRecord, behaviour_features
from safehold.store import audit
from safehold.store.members import Actor
from safehold.store.models import EnclaveRecordRow, MemberRow
from safehold.store.tiers import RECORD_TIER, Tier
from safehold.store.types import utcnow

FILE_NAMES: dict[str, str] = {
    "behaviour": "behaviour",
    "account_keys": "account_keys",
    "contact_event": "contact_events",
    "conversation": "conversations",
    "cohort_label": "cohort_labels",
}
"""Record type -> Parquet file stem; the names ``identity.prepare`` writes."""

assert set(FILE_NAMES) == {t for t, tier in RECORD_TIER.items() if tier is Tier.ENCLAVE}

# --- the Parquet layout: the same columns and types as identity.prepare writes ----------

_SUBJECT = pl.Struct({"kind": pl.String, "pseudonym": pl.String, "key_version": pl.Int64})
_UTC = pl.Datetime("us", "UTC")


def _behaviour_schema() -> pl.Schema:
    integer = {f.name: f.is_integer for f in behaviour_features()}
    fixed: dict[str, pl.DataType] = {
        "record_type": pl.String(),
        "subject": _SUBJECT,
        "period_start": pl.String(),
        "period_days": pl.Int16(),
        "age_band": pl.String(),
        "sex": pl.String(),
        "deprivation_quintile": pl.Int8(),
    }
    columns: dict[str, pl.DataType] = {}
    for name in BehaviourRecord.model_fields:
        if name in fixed:
            columns[name] = fixed[name]
        else:
            columns[name] = pl.Int32() if integer[name] else pl.Float64()
    return pl.Schema(columns)


SCHEMAS: dict[str, pl.Schema] = {
    "behaviour": _behaviour_schema(),
    "account_keys": pl.Schema(
        {
            "record_type": pl.String(),
            "subject": _SUBJECT,
            "identifiers": pl.List(_SUBJECT),
            "clk": pl.String(),
        }
    ),
    "contact_event": pl.Schema(
        {
            "record_type": pl.String(),
            "event_id": pl.String(),
            "sender": _SUBJECT,
            "recipient": _SUBJECT,
            "occurred_at": _UTC,
            "channel": pl.String(),
            "first_contact": pl.Boolean(),
            "recipient_age_band": pl.String(),
            "sender_age_band": pl.String(),
        }
    ),
    "conversation": pl.Schema(
        {
            "record_type": pl.String(),
            "conversation_id": pl.String(),
            "channel": pl.String(),
            "participants": pl.List(
                pl.Struct(
                    {"participant_id": pl.String(), "subject": _SUBJECT, "age_band": pl.String()}
                )
            ),
            "messages": pl.List(
                pl.Struct(
                    {
                        "message_id": pl.String(),
                        "sender_id": pl.String(),
                        "sent_at": _UTC,
                        "text": pl.String(),
                    }
                )
            ),
        }
    ),
    "cohort_label": pl.Schema(
        {
            "record_type": pl.String(),
            "label_id": pl.String(),
            "subject": _SUBJECT,
            "identifiers": pl.List(_SUBJECT),
            "clk": pl.String(),
            "cohort": pl.String(),
            "source_kind": pl.String(),
            "labelled_month": pl.String(),
        }
    ),
}
"""Record type -> Parquet schema (column order as in ``identity.prepare``'s files)."""


class ExportError(ValueError):
    """An export that cannot be made; says why and what to do."""


class ExportDestinationError(ExportError):
    """The folder given for the export cannot take it (it exists and is not empty)."""


@dataclass(frozen=True)
class SourceSummary:
    token: str
    member_kind: str
    size_band: str | None
    records: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportSummary:
    export_id: str
    exported_at: datetime
    out_dir: Path
    sources: tuple[SourceSummary, ...]

    @property
    def records(self) -> int:
        return sum(n for source in self.sources for n in source.records.values())


# --- source blinding -----------------------------------------------------------------


class _Blinder:
    """Per-export keyed tokens. The salt lives only in this object, so once the export is
    written nobody can recompute a token from a member id."""

    def __init__(self) -> None:
        self._salt = secrets.token_bytes(32)

    def source_token(self, member_id: str) -> str:
        digest = hmac.new(self._salt, b"source\0" + member_id.encode(), hashlib.sha256)
        return "src-" + digest.hexdigest()[:20]

    def ids_for(self, member_id: str) -> Callable[[str | None], str | None]:
        """A function replacing the sender-chosen ids of one source."""
        base = hmac.new(self._salt, b"id\0" + member_id.encode() + b"\0", hashlib.sha256)

        def blind(value: str | None) -> str | None:
            if value is None:
                return None
            digest = base.copy()
            digest.update(value.encode())
            return digest.hexdigest()[:32]

        return blind


# --- payload (exchange JSON, empty fields left out) -> Parquet row --------------------

_Blind = Callable[[str | None], str | None]
_Row = dict[str, Any]


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def _as_is(payload: _Row, _blind: _Blind) -> _Row:
    return payload


def _with_identifiers(payload: _Row, _blind: _Blind) -> _Row:
    return {**payload, "identifiers": payload.get("identifiers") or []}


def _cohort_label(payload: _Row, blind: _Blind) -> _Row:
    return {
        **payload,
        "label_id": blind(payload.get("label_id")),
        "identifiers": payload.get("identifiers") or [],
    }


def _contact_event(payload: _Row, blind: _Blind) -> _Row:
    return {
        **payload,
        "event_id": blind(payload.get("event_id")),
        "occurred_at": _when(payload.get("occurred_at")),
    }


def _conversation(payload: _Row, blind: _Blind) -> _Row:
    return {
        **payload,
        "conversation_id": blind(payload.get("conversation_id")),
        "participants": [
            {**p, "participant_id": blind(p.get("participant_id"))}
            for p in payload.get("participants") or []
        ],
        "messages": [
            {
                **m,
                "message_id": blind(m.get("message_id")),
                "sender_id": blind(m.get("sender_id")),
                "sent_at": _when(m.get("sent_at")),
            }
            for m in payload.get("messages") or []
        ],
    }


_CONVERTERS: dict[str, Callable[[_Row, _Blind], _Row]] = {
    "behaviour": _as_is,
    "account_keys": _with_identifiers,
    "contact_event": _contact_event,
    "conversation": _conversation,
    "cohort_label": _cohort_label,
}


def _frame(record_type: str, rows: list[tuple[int, _Row]], blind: _Blind) -> pl.DataFrame:
    """One chunk as a typed frame; a record that does not fit is named by its key."""
    convert, schema = _CONVERTERS[record_type], SCHEMAS[record_type]
    try:
        return pl.from_dicts([convert(p, blind) for _pk, p in rows], schema=schema)
    except (ValueError, TypeError, AttributeError, pl.exceptions.PolarsError):
        for pk, payload in rows:
            try:
                pl.from_dicts([convert(payload, blind)], schema=schema)
            except (ValueError, TypeError, AttributeError, pl.exceptions.PolarsError):
                raise ExportError(
                    f"enclave record {pk} ({record_type}) does not fit the exchange format's "
                    "Parquet layout; it was stored by an older or faulty ingest, re-send its batch"
                ) from None
        raise


# --- the export ----------------------------------------------------------------------


def export_enclave(
    session: Session, out_dir: Path, actor: Actor, *, chunk_rows: int = 10_000
) -> ExportSummary:
    """Write the enclave tier under ``out_dir`` (new or empty) and append the
    ``enclave.export`` audit event inside the caller's transaction, which the caller commits.
    ``out_dir`` appears only once the export is complete."""
    _check_destination(out_dir)
    blinder = _Blinder()
    export_id = uuid.uuid4().hex
    exported_at = utcnow()
    last_pk = session.scalar(select(func.max(EnclaveRecordRow.record_pk))) or 0
    groups = _groups(session, last_pk)
    members = {
        row.member_id: row
        for row in session.scalars(select(MemberRow).where(MemberRow.member_id.in_(groups)))
    }
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    try:
        sources: list[SourceSummary] = []
        for member_id, record_types in groups.items():
            token = blinder.source_token(member_id)
            blind = blinder.ids_for(member_id)
            folder = staging / "exchange" / token
            folder.mkdir(parents=True)
            counts = {
                record_type: _write_file(
                    session, member_id, record_type, last_pk, folder, blind, chunk_rows
                )
                for record_type in record_types
            }
            member = members[member_id]
            sources.append(SourceSummary(token, member.kind, member.size_band, counts))
        sources.sort(key=lambda s: s.token)  # the order must say nothing about the members
        summary = ExportSummary(export_id, exported_at, out_dir, tuple(sources))
        _write_manifest(staging / "enclave.json", summary)
        _audit(session, actor, summary)
        if out_dir.exists():
            out_dir.rmdir()  # checked empty above
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def _check_destination(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportDestinationError(
            f"{out_dir} already exists and is not an empty folder; "
            "export to a new folder so that no earlier export is mixed in or overwritten"
        )


def _groups(session: Session, last_pk: int) -> dict[str, list[str]]:
    """Member id -> its enclave record types, refusing types this export does not know."""
    pairs = session.execute(
        select(EnclaveRecordRow.member_id, EnclaveRecordRow.record_type)
        .where(EnclaveRecordRow.record_pk <= last_pk)
        .group_by(EnclaveRecordRow.member_id, EnclaveRecordRow.record_type)
        .order_by(EnclaveRecordRow.member_id, EnclaveRecordRow.record_type)
    )
    groups: dict[str, list[str]] = {}
    for member_id, record_type in pairs:
        if record_type not in FILE_NAMES:
            raise ExportError(
                f"the enclave tier holds records of type '{record_type}', which the export "
                "does not know; add it to safehold.store.export before exporting"
            )
        groups.setdefault(member_id, []).append(record_type)
    return groups


def _write_file(
    session: Session,
    member_id: str,
    record_type: str,
    last_pk: int,
    folder: Path,
    blind: _Blind,
    chunk_rows: int,
) -> int:
    """Stream one source's records of one type into ``folder/<name>.parquet``."""
    result = session.execute(
        select(EnclaveRecordRow.record_pk, EnclaveRecordRow.payload)
        .where(
            EnclaveRecordRow.member_id == member_id,
            EnclaveRecordRow.record_type == record_type,
            EnclaveRecordRow.record_pk <= last_pk,
        )
        .order_by(EnclaveRecordRow.record_pk)
        .execution_options(yield_per=chunk_rows)
    )
    parts_dir = folder / f".{FILE_NAMES[record_type]}.parts"
    parts_dir.mkdir()
    parts: list[Path] = []
    count = 0
    for chunk in result.partitions():
        frame = _frame(record_type, [(pk, payload) for pk, payload in chunk], blind)
        part = parts_dir / f"{len(parts):06d}.parquet"
        frame.write_parquet(part, compression="zstd", statistics=True)
        parts.append(part)
        count += frame.height
    destination = folder / f"{FILE_NAMES[record_type]}.parquet"
    if len(parts) == 1:
        parts[0].rename(destination)
    elif parts:
        pl.scan_parquet(parts).sink_parquet(destination, compression="zstd", statistics=True)
    shutil.rmtree(parts_dir)
    return count


def _write_manifest(path: Path, summary: ExportSummary) -> None:
    manifest = {
        "export_id": summary.export_id,
        "exported_at": summary.exported_at.isoformat(),
        "exchange_format": SCHEMA_VERSION,
        "source_tokens": "per export: not comparable across exports, not traceable to a member",
        "records": record_counts(summary.sources),
        "sources": [
            {
                "token": s.token,
                "member_kind": s.member_kind,
                "size_band": s.size_band,
                "records": record_counts([s]),
            }
            for s in summary.sources
        ],
    }
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def _audit(session: Session, actor: Actor, summary: ExportSummary) -> None:
    audit.append(
        session,
        audit.AuditEvent(
            actor=actor.name,
            role=actor.role,
            action="enclave.export",
            outcome=audit.Outcome.OK,
            member_id=actor.member_id,
            object_ids=[summary.export_id],
            detail={"sources": len(summary.sources), "records": record_counts(summary.sources)},
        ),
    )


def record_counts(sources: Iterable[SourceSummary]) -> dict[str, int]:
    """Total records per file name over ``sources`` (for printing)."""
    totals: dict[str, int] = {}
    for source in sources:
        for record_type, n in source.records.items():
            totals[FILE_NAMES[record_type]] = totals.get(FILE_NAMES[record_type], 0) + n
    return dict(sorted(totals.items()))
