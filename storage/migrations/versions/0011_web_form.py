"""The report's web page: personal links (web_form_link) and the channel of each answer in the audit log.

- web_form_link: a link to the page for one contact and one campaign, valid 24 h; only its token's SHA-256.
- audit_log.via: "web" for an answer saved on the page; NULL (every row before, and the chat's) for the chat.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_form_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id", name="fk_web_form_link_contact_id_contact"),
                  nullable=False),
        sa.Column("campaign_id", sa.Integer(),
                  sa.ForeignKey("campaign.id", name="fk_web_form_link_campaign_id_campaign"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id", name="fk_web_form_link_unit_id_unit"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_web_form_link_token_hash"),
    )
    op.create_index("ix_web_form_link_contact_id", "web_form_link", ["contact_id"])
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("via", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("via")
    op.drop_index("ix_web_form_link_contact_id", table_name="web_form_link")
    op.drop_table("web_form_link")
