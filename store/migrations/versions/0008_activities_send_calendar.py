"""a programme's activities to suggest, and its send calendar (Swedish holidays and eves,
Friday midday; Ramadan evenings)

Revision ID: 0008_activities_send_calendar
Revises: 0007_reach
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0008_activities_send_calendar"
down_revision: str | None = "0007_reach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("for_kind", sa.String(length=20), nullable=False),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("when", sa.String(length=200), nullable=False),
        sa.Column("where", sa.String(length=200), nullable=False),
        sa.Column("price", sa.String(length=100), nullable=False),
        sa.Column("languages", sa.String(length=100), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_activity_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
        sa.UniqueConstraint("programme_id", "name", name=op.f("uq_activity_programme_id_name")),
    )
    op.create_index(op.f("ix_activity_programme_id"), "activity", ["programme_id"], unique=False)
    with op.batch_alter_table("programme", schema=None) as batch_op:
        for name in ("send_calendar", "ramadan_evenings"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_activity_programme_id"), table_name="activity")
    op.drop_table("activity")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_column("ramadan_evenings")
        batch_op.drop_column("send_calendar")
