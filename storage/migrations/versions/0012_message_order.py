"""The platform's time of the last message a conversation took as an answer (issue 22).

- conversation.last_sent_at: the platform's `date` of the latest message handled in the conversation. A message
  sent before it (a webhook delivery retried or held back by the platform, arriving after a later message was
  answered) is never taken as an answer: the person is told and asked the current question again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("last_sent_at")
