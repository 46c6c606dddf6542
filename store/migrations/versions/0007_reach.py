"""reach: clocks from delivery, outbox validity, daily cap, notes, late answers

Revision ID: 0007_reach
Revises: 0006_coordinator_web
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0007_reach"
down_revision: str | None = "0006_coordinator_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("daily_cap", sa.Integer(), nullable=False, server_default="1000")
        )
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asked_at", store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("last_delivered_at", store.models.UTCDateTime(), nullable=True)
        )
    # follow-ups already asking were asked when they started: keep their clocks running
    op.execute(
        "UPDATE followup SET asked_at = started_at, last_delivered_at = "
        "COALESCE(last_chased_at, started_at) WHERE started_at IS NOT NULL"
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unprompted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("valid_until", store.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=True),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("followup_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("read_at", store.models.UTCDateTime(), nullable=True),
        sa.Column("resolved_as", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_note_programme_id_programme")
        ),
        sa.ForeignKeyConstraint(["inbox_id"], ["inbox.id"], name=op.f("fk_note_inbox_id_inbox")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_note_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["followup_id"], ["followup.id"], name=op.f("fk_note_followup_id_followup")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
        sa.UniqueConstraint("inbox_id", name=op.f("uq_note_inbox_id")),
    )
    op.create_index(op.f("ix_note_participant_id"), "note", ["participant_id"], unique=False)
    op.create_index("ix_note_programme_read", "note", ["programme_id", "read_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_note_programme_read", table_name="note")
    op.drop_index(op.f("ix_note_participant_id"), table_name="note")
    op.drop_table("note")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("late")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("valid_until")
        batch_op.drop_column("unprompted")
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_column("last_delivered_at")
        batch_op.drop_column("asked_at")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_column("daily_cap")
