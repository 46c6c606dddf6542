"""telegram deep links

Revision ID: 0002_telegram
Revises: 0001
Create Date: 2026-11-23 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0002_telegram"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_telegram_link_participant_id_participant"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_telegram_link_token_hash")),
    )
    op.create_index(
        op.f("ix_telegram_link_participant_id"), "telegram_link", ["participant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_telegram_link_participant_id"), table_name="telegram_link")
    op.drop_table("telegram_link")
