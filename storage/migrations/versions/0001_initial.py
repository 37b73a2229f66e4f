"""Initial schema: campaigns, units, contacts, invites, reports and their answers.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a migration must not change when the models do.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("doc_ref", sa.String(200), nullable=True),
        sa.Column("deadline_at", UTC_DATETIME, nullable=False),
        sa.Column("form_id", sa.String(100), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaign"),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_unit"),
        sa.UniqueConstraint("code", name="uq_unit_code"),
    )
    op.create_table(
        "processed_event",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("processed_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("channel", "event_id", name="pk_processed_event"),
    )
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("platform_user_id", sa.String(128), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("invite_failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("invite_locked_until", UTC_DATETIME, nullable=True),
        sa.Column("blocked_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_contact_unit_id_unit"),
        sa.PrimaryKeyConstraint("id", name="pk_contact"),
        sa.UniqueConstraint(
            "channel", "platform_user_id", name="uq_contact_channel_platform_user_id"
        ),
    )
    op.create_index("ix_contact_unit_id", "contact", ["unit_id"])
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_invite_unit_id_unit"),
        sa.PrimaryKeyConstraint("id", name="pk_invite"),
        sa.UniqueConstraint("code", name="uq_invite_code"),
    )
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), server_default="not_started", nullable=False),
        sa.Column("submitted_at", UTC_DATETIME, nullable=True),
        sa.Column("reopened", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_activity_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_report_campaign_id_campaign"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_report_unit_id_unit"),
        sa.PrimaryKeyConstraint("id", name="pk_report"),
        sa.UniqueConstraint("campaign_id", "unit_id", name="uq_report_campaign_id_unit_id"),
    )
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name="fk_answer_report_id_report", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["contact.id"], name="fk_answer_updated_by_contact"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_answer"),
        sa.UniqueConstraint("report_id", "key", name="uq_answer_report_id_key"),
    )
    op.create_table(
        "report_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UTC_DATETIME, nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name="fk_report_version_report_id_report"
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["contact.id"], name="fk_report_version_submitted_by_contact"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_version"),
        sa.UniqueConstraint("report_id", "version", name="uq_report_version_report_id_version"),
    )
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name="fk_conversation_contact_id_contact"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_conversation_campaign_id_campaign"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversation"),
        sa.UniqueConstraint(
            "contact_id", "campaign_id", name="uq_conversation_contact_id_campaign_id"
        ),
    )
    op.create_table(
        "photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("original_path", sa.String(500), nullable=False),
        sa.Column("processed_path", sa.String(500), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name="fk_photo_report_id_report"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name="fk_photo_contact_id_contact"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_photo"),
    )
    op.create_index("ix_photo_report_id", "photo", ["report_id"])
    op.create_index("ix_photo_sha256", "photo", ["sha256"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name="fk_audit_log_contact_id_contact"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name="fk_audit_log_report_id_report"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_report_id", "audit_log", ["report_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("photo")
    op.drop_table("conversation")
    op.drop_table("report_version")
    op.drop_table("answer")
    op.drop_table("report")
    op.drop_table("invite")
    op.drop_table("contact")
    op.drop_table("processed_event")
    op.drop_table("unit")
    op.drop_table("campaign")
