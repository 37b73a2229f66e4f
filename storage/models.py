"""Database tables as SQLAlchemy 2 typed declarative models (plain foreign keys, no relationships)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Fixed constraint names, so the hand-written migrations can name (and later alter) the same objects.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive datetimes are refused, results are always aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset; everything it holds was written as UTC
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base: every datetime column is a UTCDateTime."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class Campaign(Base):
    """One reporting round: a request (official letter) with a deadline and the form to fill."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    doc_ref: Mapped[str | None] = mapped_column(sa.String(200))
    province: Mapped[str | None] = mapped_column(sa.String(100))  # "Đồng Nai"; HCC_PROVINCE overrides it
    deadline_at: Mapped[datetime]
    form_id: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime]
    # The form as it was when the campaign was created (our YAML vocabulary as JSON) and the SHA-256 of its
    # canonical JSON: editing the file later changes nothing already collected. NULL: the installation's form.
    form_snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    form_hash: Mapped[str | None] = mapped_column(sa.String(64))
    closed_at: Mapped[datetime | None]  # closed: read-only, no more reminders
    closed_by: Mapped[str | None] = mapped_column(sa.String(200))
    # How the consolidated report is issued (Nghị định 30/2020/NĐ-CP); NULL: the decree's usual default
    # (exports/issuing.py). doc_number: the number, usually left for the văn thư ("…/").
    doc_code: Mapped[str | None] = mapped_column(sa.String(100))  # ký hiệu, e.g. "BC-SNV"
    doc_number: Mapped[str | None] = mapped_column(sa.String(20))
    signer_authority: Mapped[str | None] = mapped_column(sa.String(100))  # "KT. GIÁM ĐỐC"
    signer_title: Mapped[str | None] = mapped_column(sa.String(100))  # "PHÓ GIÁM ĐỐC"
    signer_name: Mapped[str | None] = mapped_column(sa.String(200))
    recipients: Mapped[list[str] | None] = mapped_column(sa.JSON)  # the Nơi nhận lines, without "- "
    parent_body: Mapped[str | None] = mapped_column(sa.String(200))  # cơ quan chủ quản: "UBND TỈNH ĐỒNG NAI"
    filing_line: Mapped[str | None] = mapped_column(sa.String(200))  # "Lưu: VT, CCHC."


class CampaignUnit(Base):
    """A unit the campaign asks; a campaign with no rows here asks every active unit."""

    __tablename__ = "campaign_unit"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)


class Unit(Base):
    """An addressee of the request (a department or agency of the province)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime]
    group_name: Mapped[str | None] = mapped_column(sa.String(200))  # "Sở, ban, ngành", "UBND cấp xã"
    email: Mapped[str | None] = mapped_column(sa.String(254))
    # When it was last deactivated (NULL while active, and for units deactivated before migration 0013): a
    # campaign closed before then asked it, and keeps it in its totals (queries.shows_unit).
    deactivated_at: Mapped[datetime | None]


class Contact(Base):
    """A person on one channel; bound to a unit (or as admin) once they redeem an invite."""

    __tablename__ = "contact"
    __table_args__ = (sa.UniqueConstraint("channel", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    platform_user_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str] = mapped_column(sa.String(128))
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    role: Mapped[str | None] = mapped_column(sa.String(16))
    invite_failures: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    invite_locked_until: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    # The invite the contact is bound with and when: revoking that invite can unbind them (an admin's access
    # rests on it). NULL while not bound.
    invite_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invite.id"), index=True)
    bound_at: Mapped[datetime | None]
    # Another valid code the bound contact sent, waiting for them to confirm the change ("đồng ý").
    pending_invite_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invite.id"))
    # The open campaign the contact answers now, when more than one is open for their unit (they picked it).
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id"))


class Invite(Base):
    """A short code that binds a contact to a unit (or makes them an admin)."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    role: Mapped[str] = mapped_column(sa.String(16))
    expires_at: Mapped[datetime]
    max_uses: Mapped[int]
    uses: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Report(Base):
    """The report of one unit for one campaign."""

    __tablename__ = "report"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    status: Mapped[str] = mapped_column(
        sa.String(20), default="not_started", server_default="not_started"
    )
    submitted_at: Mapped[datetime | None]  # the latest submission
    first_submitted_at: Mapped[datetime | None]  # the first: on time or late is settled by it
    reopened: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_activity_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # A deadline for this unit only (an extension); NULL: the campaign's.
    deadline_at: Mapped[datetime | None]
    # The department's review (bot/review.py): "returned" (for correction, with a comment) or "accepted"; NULL
    # while it has not reviewed the last submission.
    review: Mapped[str | None] = mapped_column(sa.String(16))
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(200))  # the officer's name
    # Percent of the required answers given and a short list of what is missing, kept with the answers so the
    # board reads them without loading every answer; NULL: not computed yet (the board computes it then).
    progress: Mapped[int | None]
    missing_short: Mapped[str | None] = mapped_column(sa.String(300))


class Answer(Base):
    """One answered field of a report, keyed like "reporter.name" or "main_staff[3].phone"."""

    __tablename__ = "answer"
    __table_args__ = (sa.UniqueConstraint("report_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    value: Mapped[Any | None] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id"))


class ReportVersion(Base):
    """A frozen copy of all answers, taken at each submission."""

    __tablename__ = "report_version"
    __table_args__ = (sa.UniqueConstraint("report_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"))
    version: Mapped[int]
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id"))
    late: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class Conversation(Base):
    """Where one contact is in the form of one campaign: the engine's cursor."""

    __tablename__ = "conversation"
    __table_args__ = (sa.UniqueConstraint("contact_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contact.id"))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    cursor: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime]
    # The replies to the contact's last message, kept from the commit until the channel has sent them: if the
    # process dies in between, the person's re-sent message gets these replies again instead of being taken as
    # the answer to the next question. pending_key fingerprints the message they answer; pending_replies is NULL
    # once sent, and pending_at then says when they were sent (before: when they were committed).
    pending_key: Mapped[str | None] = mapped_column(sa.String(64))
    pending_replies: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    pending_at: Mapped[datetime | None]
    # The platform's time (`date`) of the latest message handled here: one sent before it, handed over late by
    # the platform, is never taken as an answer (bot/repeats.py, out_of_order).
    last_sent_at: Mapped[datetime | None]


class Photo(Base):
    """A received photo: the original as sent and the processed copy used in exports."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id"))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    original_path: Mapped[str] = mapped_column(sa.String(500))
    processed_path: Mapped[str] = mapped_column(sa.String(500))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """A platform event already handled, so a repeated delivery is skipped."""

    __tablename__ = "processed_event"

    channel: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    processed_at: Mapped[datetime]


class AuditLog(Base):
    """Who changed what and when: one row per changed answer or administrative action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id"))
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str | None] = mapped_column(sa.String(200))
    old: Mapped[Any | None] = mapped_column(sa.JSON)
    new: Mapped[Any | None] = mapped_column(sa.JSON)
    via: Mapped[str | None] = mapped_column(sa.String(8))  # an answer's channel: "web" (the page); NULL: the chat


class WebLogin(Base):
    """A one-time sign-in link to the web console: only the SHA-256 of its token is kept."""

    __tablename__ = "web_login"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id"))  # None: made with the CLI
    officer: Mapped[str] = mapped_column(sa.String(200))  # the name shown in the console and the audit log
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]  # signed out: the session it opened ends at its next request


class WebFormLink(Base):
    """A personal link to the report's web page (bot/webform/): one contact, one campaign, 24 h; only the SHA-256 of
    its token is kept. Opening it (the button on its page) starts a session that lives while the row is not revoked,
    the contact is still the unit's and the campaign is open."""

    __tablename__ = "web_form_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contact.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# --- Reminders ---------------------------------------------------------------------------------


class ReminderPlan(Base):
    """A campaign's reminder plan, when the admins changed the default one (bot/reminders/plan.py DEFAULT_PLAN)."""

    __tablename__ = "reminder_plan"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    slots: Mapped[list[Any]] = mapped_column(sa.JSON)  # [{"day": -1, "time": "08:00"}, ...]; day 0 = the due day
    overdue_after_minutes: Mapped[int]
    quiet_start: Mapped[str] = mapped_column(sa.String(5))  # "21:00", Asia/Ho_Chi_Minh
    quiet_end: Mapped[str] = mapped_column(sa.String(5))  # "07:00"
    catch_up_minutes: Mapped[int]  # a slot missed while the bot was down still fires this long after its time
    updated_at: Mapped[datetime]


class ReminderSlot(Base):
    """A slot that fired: its messages were planned then, once (unique per campaign and time)."""

    __tablename__ = "reminder_slot"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    at: Mapped[datetime]  # the slot's time (after any quiet-hours move); "now" for a manual send
    kind: Mapped[str] = mapped_column(sa.String(16))  # reminder | overdue | manual
    deadline_at: Mapped[datetime]  # the deadline the slot was planned for
    fired_at: Mapped[datetime]
    fired_by: Mapped[str | None] = mapped_column(sa.String(64))


class ReminderSend(Base):
    """One message of a slot to one contact: pending -> sending -> sent | failed (or skipped, expired)."""

    __tablename__ = "reminder_send"
    __table_args__ = (
        sa.UniqueConstraint("slot_id", "contact_id"),
        sa.Index("ix_reminder_send_state_channel", "state", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("reminder_slot.id"))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))  # None for an admin's digest
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contact.id"))
    channel: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(16))  # unit | admin
    state: Mapped[str] = mapped_column(sa.String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    text: Mapped[str | None] = mapped_column(sa.Text)  # what was (or is being) sent
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- Inbox ------------------------------------------------------------------------------------


class InboxItem(Base):
    """A platform update as received, written before it is acknowledged (webhook 200, polled offset) and
    marked done in the transaction of the event it became; undone rows are processed at start."""

    __tablename__ = "inbox"
    __table_args__ = (
        sa.UniqueConstraint("channel", "platform_id"),
        sa.Index("ix_inbox_chat", "channel", "chat", "id"),
        sa.Index("ix_inbox_done_at", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    platform_id: Mapped[str] = mapped_column(sa.String(200))  # Telegram update_id, Zalo message_id
    chat: Mapped[str] = mapped_column(sa.String(128))  # updates of one chat are processed in id order
    payload: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # emptied once done: no second copy kept
    received_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))  # the worker processing the chat
    claimed_until: Mapped[datetime | None]  # its lease, renewed while it runs
    error: Mapped[str | None] = mapped_column(sa.String(200))  # why a row was given up, if it was
    done_at: Mapped[datetime | None]
