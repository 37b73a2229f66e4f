"""Units carry the group of the province's list they belong to ("Sở, ban, ngành", "UBND cấp xã") and an email.

Both optional, read from the list the province imports (`hcc-bot units import`); NULL for every unit before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("group_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("email")
        batch.drop_column("group_name")
