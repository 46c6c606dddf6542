"""coordinators' web app: sign-in links and sessions

Revision ID: 0006_coordinator_web
Revises: 0005_chase
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0006_coordinator_web"
down_revision: str | None = "0005_chase"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coordinator_login_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinator_login_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_coordinator_login_link_token_hash")),
    )
    op.create_index(
        op.f("ix_coordinator_login_link_email"), "coordinator_login_link", ["email"], unique=False
    )
    op.create_table(
        "coordinator_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("ended_at", store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinator_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_coordinator_session_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("coordinator_session")
    op.drop_index(op.f("ix_coordinator_login_link_email"), table_name="coordinator_login_link")
    op.drop_table("coordinator_login_link")
