"""The hash-chained audit log: who did what, to which objects, when, and with what outcome.

Each event's hash is SHA-256 over the previous event's hash and this event's canonical
JSON, so altering, removing or reordering any event breaks every link after it;
``verify_chain`` names the first bad event. Events about a write are appended in the same
transaction as the write. Events about a failure are appended in a transaction of their
own; if the database itself is unreachable they are spooled to a local file and appended
(in order) as soon as it is back, so that no event is lost."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from safehold.store.models import AuditEventRow, AuditHeadRow
from safehold.store.types import utcnow

GENESIS = "0" * 64


class Outcome:
    OK = "ok"
    DENIED = "denied"
    REJECTED = "rejected"
    ERROR = "error"


@dataclass(frozen=True)
class AuditEvent:
    """What to record. ``detail`` must never hold secrets or raw identifiers."""

    actor: str
    role: str
    action: str
    outcome: str
    member_id: str | None = None
    object_ids: Sequence[str] = ()
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "actor": self.actor,
                "role": self.role,
                "action": self.action,
                "outcome": self.outcome,
                "member_id": self.member_id,
                "object_ids": list(self.object_ids),
                "detail": self.detail,
                "at": (self.at or utcnow()).isoformat(),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> AuditEvent:
        data = json.loads(text)
        data["at"] = datetime.fromisoformat(data["at"])
        data["object_ids"] = tuple(data["object_ids"])
        return cls(**data)


def event_hash(prev_hash: str, row: AuditEventRow) -> str:
    """The chain link: SHA-256 of the previous hash and the event's canonical content."""
    content = json.dumps(
        {
            "seq": row.seq,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "role": row.role,
            "member_id": row.member_id,
            "action": row.action,
            "object_ids": list(row.object_ids),
            "outcome": row.outcome,
            "detail": row.detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def append(session: Session, event: AuditEvent) -> AuditEventRow:
    """Append inside the caller's transaction (it commits or rolls back with the write)."""
    head = _locked_head(session)
    at = event.at or utcnow()  # microseconds survive SQLite and PostgreSQL alike
    row = AuditEventRow(
        seq=head.seq + 1,
        at=at,
        actor=event.actor,
        role=event.role,
        member_id=event.member_id,
        action=event.action,
        object_ids=[str(o) for o in event.object_ids],
        outcome=event.outcome,
        detail=_plain(event.detail),
        prev_hash=head.hash,
        hash="",
    )
    row.hash = event_hash(head.hash, row)
    session.add(row)
    head.seq, head.hash = row.seq, row.hash
    session.flush()
    return row


def _locked_head(session: Session) -> AuditHeadRow:
    """The head row, locked until the transaction ends. On an empty chain it is created first
    with ON CONFLICT DO NOTHING: concurrent first writers (PostgreSQL) would otherwise both
    insert it and all but one fail; the loser waits, then reads and locks the winner's row."""
    query = select(AuditHeadRow).where(AuditHeadRow.head_id == 1).with_for_update()
    head = session.execute(query).scalar_one_or_none()
    if head is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(AuditHeadRow)
            .values(head_id=1, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["head_id"])
        )
        head = session.execute(query).scalar_one()
    return head


def _plain(detail: dict[str, Any]) -> dict[str, Any]:
    """JSON round trip, so what is hashed is exactly what the database gives back."""
    loaded: dict[str, Any] = json.loads(json.dumps(detail, sort_keys=True, default=str))
    return loaded


class AuditLog:
    """Appends events in transactions of their own, spooling them when the database is down."""

    def __init__(self, engine: Engine, spool: Path | None = None) -> None:
        self.engine = engine
        self.spool = spool
        self._lock = threading.Lock()

    def record(self, event: AuditEvent) -> None:
        if event.at is None:
            event = AuditEvent(**{**event.__dict__, "at": utcnow()})
        try:
            self.drain_spool()
            with Session(self.engine) as session, session.begin():
                append(session, event)
        except SQLAlchemyError:
            if self.spool is None:
                raise
            self._spool_write(event)

    def drain_spool(self) -> int:
        """Append spooled events in their original order; returns how many were appended."""
        if self.spool is None or not self.spool.exists():
            return 0
        with self._lock:
            lines = [ln for ln in self.spool.read_text().splitlines() if ln.strip()]
            if not lines:
                return 0
            with Session(self.engine) as session, session.begin():
                for line in lines:
                    append(session, AuditEvent.from_json(line))
            self.spool.unlink()
        return len(lines)

    def _spool_write(self, event: AuditEvent) -> None:
        assert self.spool is not None
        with self._lock:
            self.spool.parent.mkdir(parents=True, exist_ok=True)
            with self.spool.open("a") as handle:
                handle.write(event.to_json() + "\n")


@dataclass(frozen=True)
class ChainReport:
    events: int
    first_bad_seq: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(rows: Iterable[AuditEventRow], head: AuditHeadRow | None) -> ChainReport:
    """Walk the chain in sequence order and name the first event that does not fit."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return ChainReport(
                count,
                row.seq,
                f"event {row.seq}: expected event {expected_seq} here; "
                f"event {expected_seq} was removed or the events were reordered",
            )
        if row.prev_hash != prev_hash:
            return ChainReport(
                count,
                row.seq,
                f"event {row.seq}: its link to event {row.seq - 1} does not match; "
                "the event before it was altered, removed or reordered",
            )
        if event_hash(prev_hash, row) != row.hash:
            return ChainReport(
                count, row.seq, f"event {row.seq}: its content was altered after it was written"
            )
        prev_hash, expected_seq = row.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        return ChainReport(
            count,
            last_seq + 1,
            f"the chain ends at event {last_seq} but its head records event {head.seq}; "
            f"events from {last_seq + 1} on were removed",
        )
    if head is None and count:
        return ChainReport(count, 1, "the chain head is missing")
    return ChainReport(count, None, None)


def verify(session: Session, batch_size: int = 5_000) -> ChainReport:
    """Verify the whole chain in the database, streaming it in sequence order."""
    head = session.get(AuditHeadRow, 1)
    rows = session.execute(
        select(AuditEventRow).order_by(AuditEventRow.seq).execution_options(yield_per=batch_size)
    ).scalars()
    return verify_chain(rows, head)
