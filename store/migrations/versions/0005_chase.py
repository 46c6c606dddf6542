"""chasing, call list, coordinators and weekly digests

Revision ID: 0005_chase
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0005_chase"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        for name, default in (
            ("reminder_days", "3"),
            ("ladder_days", "3"),
            ("expire_days", "10"),
            ("target_individual", "0"),
            ("target_family", "0"),
            ("target_women_percent", "0"),
        ):
            batch_op.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=default)
            )
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chase_stage", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_chased_at", store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("called_at", store.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table("greeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("social", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("social_at", store.models.UTCDateTime(), nullable=True))
    op.create_table(
        "coordinator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_coordinator_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinator")),
        sa.UniqueConstraint(
            "programme_id", "email", name=op.f("uq_coordinator_programme_id_email")
        ),
    )
    with op.batch_alter_table("coordinator", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coordinator_programme_id"), ["programme_id"], unique=False
        )
    op.create_table(
        "digest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coordinator_id", sa.Integer(), nullable=False),
        sa.Column("iso_year", sa.Integer(), nullable=False),
        sa.Column("iso_week", sa.Integer(), nullable=False),
        sa.Column("claimed_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("sent_at", store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coordinator_id"],
            ["coordinator.id"],
            name=op.f("fk_digest_run_coordinator_id_coordinator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_run")),
        sa.UniqueConstraint(
            "coordinator_id",
            "iso_year",
            "iso_week",
            name=op.f("uq_digest_run_coordinator_id_iso_year_iso_week"),
        ),
    )


def downgrade() -> None:
    op.drop_table("digest_run")
    with op.batch_alter_table("coordinator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coordinator_programme_id"))
    op.drop_table("coordinator")
    with op.batch_alter_table("greeting", schema=None) as batch_op:
        batch_op.drop_column("social_at")
        batch_op.drop_column("social")
    with op.batch_alter_table("followup", schema=None) as batch_op:
        for name in ("called_at", "last_chased_at", "chase_stage"):
            batch_op.drop_column(name)
    with op.batch_alter_table("programme", schema=None) as batch_op:
        for name in (
            "target_women_percent",
            "target_family",
            "target_individual",
            "expire_days",
            "ladder_days",
            "reminder_days",
        ):
            batch_op.drop_column(name)
