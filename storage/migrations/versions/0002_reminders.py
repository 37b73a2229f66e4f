"""Reminders: a campaign's reminder plan, the slots that fired, and one row per message sent for a slot.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reminder_plan",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("overdue_after_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.String(5), nullable=False),
        sa.Column("quiet_end", sa.String(5), nullable=False),
        sa.Column("catch_up_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_reminder_plan_campaign_id_campaign"
        ),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_reminder_plan"),
    )
    op.create_table(
        "reminder_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("deadline_at", UTC_DATETIME, nullable=False),
        sa.Column("fired_at", UTC_DATETIME, nullable=False),
        sa.Column("fired_by", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_reminder_slot_campaign_id_campaign"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_slot"),
        sa.UniqueConstraint("campaign_id", "at", name="uq_reminder_slot_campaign_id_at"),
    )
    op.create_table(
        "reminder_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", UTC_DATETIME, nullable=True),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["reminder_slot.id"], name="fk_reminder_send_slot_id_reminder_slot"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_reminder_send_campaign_id_campaign"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_reminder_send_unit_id_unit"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name="fk_reminder_send_contact_id_contact"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_send"),
        sa.UniqueConstraint("slot_id", "contact_id", name="uq_reminder_send_slot_id_contact_id"),
    )
    op.create_index("ix_reminder_send_state_channel", "reminder_send", ["state", "channel"])


def downgrade() -> None:
    op.drop_index("ix_reminder_send_state_channel", table_name="reminder_send")
    op.drop_table("reminder_send")
    op.drop_table("reminder_slot")
    op.drop_table("reminder_plan")
