"""When a unit was deactivated (issue 23): a campaign closed before then keeps it in its totals.

- unit.deactivated_at: set when the unit is deactivated (`hcc-bot units deactivate`, or an import with --replace
  that leaves it out), cleared when it is active again. NULL for the units deactivated before this revision: for
  them the rule stays "shown where it began a report".

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("deactivated_at")
