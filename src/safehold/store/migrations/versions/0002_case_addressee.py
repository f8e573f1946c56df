"""cases: the member a referral is addressed to

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("addressed_to", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_addressed_to"), ["addressed_to"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_addressed_to_members"), "members", ["addressed_to"], ["member_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_addressed_to_members"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cases_addressed_to"))
        batch_op.drop_column("addressed_to")
