"""Campaigns carry their own form and their own units, several may be open, a contact picks the one to answer.

- campaign.form_snapshot: the form as loaded when the campaign was created (our YAML vocabulary, as JSON), with
  form_hash, the SHA-256 of its canonical JSON. NULL (every campaign created before): the installation's form,
  as before (HCC_FORM, by default the shipped report).
- campaign.closed_at / closed_by: closed campaigns are read-only and get no more reminders.
- campaign_unit: the units a campaign asks; none listed: every active unit (every campaign created before).
- contact.campaign_id: the open campaign the contact answers now, when more than one is open for their unit.

Before, only the newest campaign was live: every older one is closed here (it stays readable and exportable),
and every unit contact is answering the newest, so a second campaign created later does not interrupt them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("form_snapshot", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("form_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(200), nullable=True))
    op.create_table(
        "campaign_unit",
        sa.Column("campaign_id", sa.Integer(),
                  sa.ForeignKey("campaign.id", name="fk_campaign_unit_campaign_id_campaign"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id", name="fk_campaign_unit_unit_id_unit"),
                  nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "unit_id", name="pk_campaign_unit"),
    )
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_contact_campaign_id_campaign", "campaign", ["campaign_id"], ["id"])
    now = datetime.now(timezone.utc)
    op.execute(sa.text("UPDATE campaign SET closed_at = :now, closed_by = 'migration 0008' "
                       "WHERE id <> (SELECT max(id) FROM campaign)").bindparams(
        sa.bindparam("now", now, type_=sa.DateTime(timezone=True))))
    op.execute("UPDATE contact SET campaign_id = (SELECT max(id) FROM campaign) WHERE role = 'unit'")


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.drop_constraint("fk_contact_campaign_id_campaign", type_="foreignkey")
        batch.drop_column("campaign_id")
    op.drop_table("campaign_unit")
    with op.batch_alter_table("campaign") as batch:
        for column in ("form_snapshot", "form_hash", "closed_at", "closed_by"):
            batch.drop_column(column)
