"""The hub's tables. Tier tables hold pseudonymised records only; no raw identifier is ever
stored here (members pseudonymise before sending). Alembic migrations create these tables;
tests check that the migrations and these models agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from safehold.store.types import BigId, Json, UtcDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- members, people who sign in, and machine keys -------------------------------------


class MemberRow(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    size_band: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class UserRow(Base):
    """A person who signs in to the web UI (issue 8 fills this)."""

    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.member_id"))
    username: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiKeyRow(Base):
    """A machine credential. Only the Argon2 hash of the secret part is kept; the key id is
    public (it appears in audit events) and lets the hub find the row without the secret."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.member_id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- batches and the tiers -------------------------------------------------------------


class BatchRow(Base):
    """An accepted batch. Its content hash makes a resend with the same id idempotent."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("member_id", "batch_id"),)

    batch_pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    batch_id: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[str] = mapped_column(String(16))
    record_count: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(Json)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegistryEntryRow(Base):
    __tablename__ = "registry_entries"
    __table_args__ = (UniqueConstraint("member_id", "entry_id"),)

    entry_pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    entry_id: Mapped[str] = mapped_column(String(64))
    batch_pk: Mapped[int] = mapped_column(ForeignKey("batches.batch_pk"))
    typology: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    convicted_month: Mapped[str] = mapped_column(String(7))
    registered_from: Mapped[str] = mapped_column(String(7))
    registered_until: Mapped[str | None] = mapped_column(String(7))
    clk: Mapped[str | None] = mapped_column(String(172))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RegistryIdentifierRow(Base):
    """One keyed pseudonym of a registry entry; the look-up index for registry checks."""

    __tablename__ = "registry_identifiers"
    __table_args__ = (Index(None, "key_version", "pseudonym"),)

    identifier_pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_pk: Mapped[int] = mapped_column(
        ForeignKey("registry_entries.entry_pk", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    pseudonym: Mapped[str] = mapped_column(String(64))
    key_version: Mapped[int] = mapped_column(Integer)


class SignalRow(Base):
    """The current state of one platform signal. ``signal_key`` is the hub's opaque id, so
    that other platforms never learn which member sent it."""

    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("member_id", "signal_id"),)

    signal_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    signal_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    key_version: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SignalChangeRow(Base):
    """Append-only change log; its sequence number is the checkpoint clients resume from."""

    __tablename__ = "signal_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    signal_key: Mapped[str] = mapped_column(ForeignKey("signals.signal_key"), index=True)
    op: Mapped[str] = mapped_column(String(8))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EnclaveRecordRow(Base):
    """A pooled research record (behaviour, linkage keys, cohort labels, contacts,
    conversations) as the exchange-format JSON the member sent."""

    __tablename__ = "enclave_records"

    record_pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    batch_pk: Mapped[int] = mapped_column(ForeignKey("batches.batch_pk"), index=True)
    record_type: Mapped[str] = mapped_column(String(32))
    subject_pseudonym: Mapped[str | None] = mapped_column(String(64), index=True)
    key_version: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)


# --- alerts, decisions and cases (filled by the klaxon, the web UI and triage) -----------


class AlertRow(Base):
    """An alert in a member's review queue. ``sender`` (copied from the payload) finds the
    sender's earlier alerts; ``claimed_by`` is the reviewer working it, so two do not."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "member_id", "sender"),)

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    severity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    sender: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DecisionRow(Base):
    """A human decision on an alert (kinds and statuses: ``store.decisions``). Kinds that
    need four eyes stay ``pending`` until a second reviewer confirms or rejects them."""

    __tablename__ = "decisions"

    decision_pk: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[str | None] = mapped_column(ForeignKey("alerts.alert_id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    kind: Mapped[str] = mapped_column(String(32))
    rationale: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(16), default="final")
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirm_rationale: Mapped[str | None] = mapped_column(Text)


class WebSessionRow(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept, so a
    copy of the database signs nobody in. Deleting or revoking the row signs out at once."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SupportOptOutRow(Base):
    """A child (recipient account, pseudonymised) who asked not to be sent support messages."""

    __tablename__ = "support_opt_outs"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.user_id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseRow(Base):
    """The cases tier. A safeguarding referral is a case made by ``member_id`` (police) and
    addressed to ``addressed_to`` (a local authority), the only two members that read it."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    addressed_to: Mapped[str | None] = mapped_column(
        ForeignKey("members.member_id"), index=True, nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)


# --- the audit trail ------------------------------------------------------------------


class AuditEventRow(Base):
    """One audited action. ``hash`` covers this event's fields and the previous hash, so
    that altering, removing or reordering any event breaks the chain from there on."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_ids: Mapped[list[str]] = mapped_column(Json)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(Json)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's latest sequence number and hash, in a single row. Appends lock it, which
    orders concurrent writers; verify compares it with the last event, so that removing
    events from the end is detected too."""

    __tablename__ = "audit_head"

    head_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))
