"""initial tables: members, keys, batches, tiers, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column(
            "object_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_member_id"), ["member_id"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("head_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("head_id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("size_band", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_members")),
    )
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_alerts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_member_id"), ["member_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_api_keys_member_id_members")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_member_id"), ["member_id"], unique=False)

    op.create_table(
        "batches",
        sa.Column(
            "batch_pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.String(length=16), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_batches_member_id_members")
        ),
        sa.PrimaryKeyConstraint("batch_pk", name=op.f("pk_batches")),
        sa.UniqueConstraint("member_id", "batch_id", name=op.f("uq_batches_member_id_batch_id")),
    )
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_cases_member_id_members")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_member_id"), ["member_id"], unique=False)

    op.create_table(
        "signals",
        sa.Column("signal_key", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("signal_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_signals_member_id_members")
        ),
        sa.PrimaryKeyConstraint("signal_key", name=op.f("pk_signals")),
        sa.UniqueConstraint("member_id", "signal_id", name=op.f("uq_signals_member_id_signal_id")),
    )
    op.create_table(
        "users",
        sa.Column(
            "user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_users_member_id_members")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "decisions",
        sa.Column(
            "decision_pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("alert_id", sa.String(length=64), nullable=True),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name=op.f("fk_decisions_alert_id_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_decisions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_decisions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("decision_pk", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_member_id"), ["member_id"], unique=False)

    op.create_table(
        "enclave_records",
        sa.Column(
            "record_pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("batch_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("subject_pseudonym", sa.String(length=64), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["batch_pk"], ["batches.batch_pk"], name=op.f("fk_enclave_records_batch_pk_batches")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_enclave_records_member_id_members")
        ),
        sa.PrimaryKeyConstraint("record_pk", name=op.f("pk_enclave_records")),
    )
    with op.batch_alter_table("enclave_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enclave_records_batch_pk"), ["batch_pk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enclave_records_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enclave_records_subject_pseudonym"), ["subject_pseudonym"], unique=False
        )

    op.create_table(
        "registry_entries",
        sa.Column(
            "entry_pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("batch_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("typology", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("convicted_month", sa.String(length=7), nullable=False),
        sa.Column("registered_from", sa.String(length=7), nullable=False),
        sa.Column("registered_until", sa.String(length=7), nullable=True),
        sa.Column("clk", sa.String(length=172), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_pk"], ["batches.batch_pk"], name=op.f("fk_registry_entries_batch_pk_batches")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_registry_entries_member_id_members")
        ),
        sa.PrimaryKeyConstraint("entry_pk", name=op.f("pk_registry_entries")),
        sa.UniqueConstraint(
            "member_id", "entry_id", name=op.f("uq_registry_entries_member_id_entry_id")
        ),
    )
    op.create_table(
        "signal_changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("signal_key", sa.String(length=32), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_key"],
            ["signals.signal_key"],
            name=op.f("fk_signal_changes_signal_key_signals"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_signal_changes")),
    )
    with op.batch_alter_table("signal_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signal_changes_signal_key"), ["signal_key"], unique=False
        )

    op.create_table(
        "registry_identifiers",
        sa.Column(
            "identifier_pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_pk"],
            ["registry_entries.entry_pk"],
            name=op.f("fk_registry_identifiers_entry_pk_registry_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("identifier_pk", name=op.f("pk_registry_identifiers")),
    )
    with op.batch_alter_table("registry_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_identifiers_entry_pk"), ["entry_pk"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registry_identifiers_key_version_pseudonym"),
            ["key_version", "pseudonym"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("registry_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_identifiers_key_version_pseudonym"))
        batch_op.drop_index(batch_op.f("ix_registry_identifiers_entry_pk"))

    op.drop_table("registry_identifiers")
    with op.batch_alter_table("signal_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_changes_signal_key"))

    op.drop_table("signal_changes")
    op.drop_table("registry_entries")
    with op.batch_alter_table("enclave_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enclave_records_subject_pseudonym"))
        batch_op.drop_index(batch_op.f("ix_enclave_records_member_id"))
        batch_op.drop_index(batch_op.f("ix_enclave_records_batch_pk"))

    op.drop_table("enclave_records")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_member_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_alert_id"))

    op.drop_table("decisions")
    op.drop_table("users")
    op.drop_table("signals")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_member_id"))

    op.drop_table("cases")
    op.drop_table("batches")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_member_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_member_id"))

    op.drop_table("alerts")
    op.drop_table("members")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_member_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
