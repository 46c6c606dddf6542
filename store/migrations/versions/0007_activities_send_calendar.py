"""a programme's send calendar (Swedish holidays and eves, Friday midday; Ramadan evenings)

Revision ID: 0007_activities_send_calendar
Revises: 0006_coordinator_web
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_activities_send_calendar"
down_revision: str | None = "0006_coordinator_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        for name in ("send_calendar", "ramadan_evenings"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_column("ramadan_evenings")
        batch_op.drop_column("send_calendar")
