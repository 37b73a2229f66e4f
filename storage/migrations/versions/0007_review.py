"""The department's console: per-unit deadlines, review of reports, stored progress, one-time sign-in links.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_COLUMNS = ("deadline_at", "review", "review_comment", "reviewed_at", "reviewed_by", "progress",
                  "missing_short", "first_submitted_at")


def upgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review", sa.String(16), nullable=True))
        batch.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("progress", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("missing_short", sa.String(300), nullable=True))
        batch.add_column(sa.Column("first_submitted_at", sa.DateTime(timezone=True), nullable=True))
    # The first submission of each report so far: its oldest version.
    op.execute("UPDATE report SET first_submitted_at = (SELECT min(v.submitted_at) FROM report_version v "
               "WHERE v.report_id = report.id)")
    op.create_table(
        "web_login",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id", name="fk_web_login_contact_id_contact"),
                  nullable=True),
        sa.Column("officer", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_web_login"),
        sa.UniqueConstraint("token_hash", name="uq_web_login_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("web_login")
    with op.batch_alter_table("report") as batch:
        for column in REPORT_COLUMNS:
            batch.drop_column(column)
