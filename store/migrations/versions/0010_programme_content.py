"""children's ages of a family's participant (for the activities suggested to the match), and
Ramadan evenings kept by the participant's language rather than for everyone

Revision ID: 0010_programme_content
Revises: 0008_activities_send_calendar
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_programme_content"
down_revision: str | None = "0008_activities_send_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("children_ages", sa.String(length=100), nullable=False, server_default="")
        )
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "ramadan_by_language", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_column("ramadan_by_language")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("children_ages")
