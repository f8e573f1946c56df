"""The enclave tier's bulk writer: research records (behaviour, linkage keys, cohort labels,
contacts, conversations) stored as the exchange-format JSON the member sent.

A batch may hold 100,000 records, so rows are never written one ORM object at a time: on
PostgreSQL they stream through ``COPY ... FROM STDIN`` on the session's own connection
(inside the caller's transaction, so they commit or roll back with the rest of the batch),
and a writer thread sends them while the next rows are being made; elsewhere (SQLite) they
go in as one ``executemany``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import psycopg
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from safehold.exchange import (
    AccountKeys,
    BehaviourRecord,
    CohortLabel,
    ContactEvent,
    Conversation,
    SubjectRef,
)

EnclaveRecord = BehaviourRecord | AccountKeys | CohortLabel | ContactEvent | Conversation
"""The exchange record types stored in the enclave tier (store.tiers.RECORD_TIER)."""

Serialised = tuple[EnclaveRecord, str]
"""A record and its payload: ``record.model_dump_json(exclude_none=True)``."""

Row = tuple[str, int, str, str | None, int | None, str]
"""member_id, batch_pk, record_type, subject_pseudonym, key_version, payload (JSON text)."""

COLUMNS = ("member_id", "batch_pk", "record_type", "subject_pseudonym", "key_version", "payload")
_COPY_SQL = (
    "COPY enclave_records"
    " (member_id, batch_pk, record_type, subject_pseudonym, key_version, payload) FROM STDIN"
)
_INSERT_SQL = text(
    "INSERT INTO enclave_records"
    " (member_id, batch_pk, record_type, subject_pseudonym, key_version, payload)"
    " VALUES (:member_id, :batch_pk, :record_type, :subject_pseudonym, :key_version, :payload)"
)
_LINES_PER_WRITE = 2_000
_NULL = "\\N"


def payload(record: EnclaveRecord) -> str:
    """The stored JSON: the same as ``model_dump(mode="json", exclude_none=True)``."""
    return record.model_dump_json(exclude_none=True)


def serialised(records: Iterable[EnclaveRecord]) -> Iterator[Serialised]:
    """Pairs for ``write_records`` from bare records."""
    return ((record, payload(record)) for record in records)


def main_subject(record: EnclaveRecord) -> SubjectRef | None:
    """Whom the record is mainly about; the enclave indexes this pseudonym for linkage."""
    if isinstance(record, BehaviourRecord | AccountKeys):
        return record.subject
    if isinstance(record, ContactEvent):
        return record.sender
    if isinstance(record, CohortLabel):
        return record.subject
    return None


def _key_version(record: EnclaveRecord, subject: SubjectRef | None) -> int | None:
    """The coalition key version the record's pseudonyms were made under (for re-keying)."""
    if subject is not None:
        return subject.key_version
    if isinstance(record, CohortLabel) and record.identifiers:
        return record.identifiers[0].key_version
    if isinstance(record, Conversation):
        for participant in record.participants:
            if participant.subject is not None:
                return participant.subject.key_version
    return None


def enclave_rows(member_id: str, batch_pk: int, items: Iterable[Serialised]) -> Iterator[Row]:
    """The rows for ``items``, made one at a time so that on PostgreSQL making them overlaps
    with the server storing the ones already sent."""
    for record, json_text in items:
        subject = main_subject(record)
        yield (
            member_id,
            batch_pk,
            record.record_type,
            subject.pseudonym if subject is not None else None,
            _key_version(record, subject),
            json_text,
        )


def write_records(
    session: Session, member_id: str, batch_pk: int, items: Iterable[Serialised]
) -> int:
    """Store ``items`` (see ``serialised``) inside the caller's transaction; returns how many
    rows were written. ``items`` may be a generator: it is consumed once, as rows are sent."""
    session.flush()  # anything pending (the batch row) goes first, on the same connection
    rows = enclave_rows(member_id, batch_pk, items)
    if session.get_bind().dialect.name == "postgresql":
        return _copy(session, rows)
    params = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    if params:
        session.connection().execute(_INSERT_SQL, params)
    return len(params)


def _text_field(value: str) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_line(row: Row) -> str:
    """One row as a line of COPY's text format (``\\N`` is NULL). Only the payload can hold
    characters COPY treats specially: ids, record types and pseudonyms are restricted by
    the exchange format to letters, digits and ``_.:-``."""
    member_id, batch_pk, record_type, subject, key_version, json_text = row
    return (
        f"{member_id}\t{batch_pk}\t{record_type}\t"
        f"{subject if subject is not None else _NULL}\t"
        f"{key_version if key_version is not None else _NULL}\t"
        f"{_text_field(json_text)}\n"
    )


def _copy(session: Session, rows: Iterable[Row]) -> int:
    """COPY on the session's psycopg connection, in text format made here a few thousand
    lines at a time; a writer thread sends them while the next ones are made. Errors raised
    by psycopg itself become SQLAlchemy's, and a connection that died is invalidated so
    that the pool drops it."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    written = 0
    try:
        with (
            driver.cursor() as cursor,
            cursor.copy(_COPY_SQL, writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            lines: list[str] = []
            for row in rows:
                lines.append(copy_line(row))
                if len(lines) == _LINES_PER_WRITE:
                    copy.write("".join(lines))
                    written += len(lines)
                    lines.clear()
            if lines:
                copy.write("".join(lines))
                written += len(lines)
    except psycopg.Error as exc:
        if driver.closed or driver.broken:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            _COPY_SQL,
            None,
            exc,
            psycopg.Error,
            connection_invalidated=connection.invalidated,
            dialect=connection.dialect,
        ) from exc
    return written
