"""Pending replies: the replies to a contact's last message, kept on the conversation until they are sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversation", sa.Column("pending_key", sa.String(64), nullable=True))
    op.add_column("conversation", sa.Column("pending_replies", sa.JSON(), nullable=True))
    op.add_column("conversation", sa.Column("pending_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("pending_at")
        batch.drop_column("pending_replies")
        batch.drop_column("pending_key")
