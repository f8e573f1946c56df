"""web review: sessions, alert claims and senders, decision status, support opt-outs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_web_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "support_opt_outs",
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.member_id"],
            name=op.f("fk_support_opt_outs_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_support_opt_outs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("member_id", "recipient", name=op.f("pk_support_opt_outs")),
    )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", _ID, nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_alerts_member_id_sender"), ["member_id", "sender"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_claimed_by_users"), "users", ["claimed_by"], ["user_id"]
        )
    _backfill_senders()

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="final")
        )
        batch_op.add_column(sa.Column("confirmed_by", _ID, nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirm_rationale", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_decisions_confirmed_by_users"), "users", ["confirmed_by"], ["user_id"]
        )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)


def _backfill_senders() -> None:
    """Alerts stored before 0003 get their sender from the payload."""
    alerts = sa.table(
        "alerts",
        sa.column("alert_id", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("sender", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(alerts.c.alert_id, alerts.c.payload)).all()
    for alert_id, payload in rows:
        sender = (payload or {}).get("sender")
        if sender is not None:
            bind.execute(
                alerts.update()
                .where(alerts.c.alert_id == alert_id)
                .values(sender=str(sender)[:200])
            )


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_decisions_confirmed_by_users"), type_="foreignkey")
        batch_op.drop_column("confirm_rationale")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("confirmed_by")
        batch_op.drop_column("status")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_alerts_claimed_by_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_alerts_member_id_sender"))
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("sender")
    op.drop_table("support_opt_outs")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
    op.drop_table("web_sessions")
