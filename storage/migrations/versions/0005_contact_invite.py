"""Contacts remember the invite they are bound with (and when), and a code waiting for their confirmation.

Backfilled from the audit log: each bound contact's last "bind" row names its invite (new={"invite": id}).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
FOREIGN_KEYS = {"invite_id": "fk_contact_invite_id_invite", "pending_invite_id": "fk_contact_pending_invite_id_invite"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, name in FOREIGN_KEYS.items():
        if sqlite:
            # SQLite cannot add a constraint to a table, and rebuilding contact (batch mode) would drop a table
            # other tables reference while foreign keys are enforced; ADD COLUMN with REFERENCES is allowed.
            op.execute(f"ALTER TABLE contact ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES invite (id)")
        else:
            op.add_column("contact", sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, "contact", "invite", [column], ["id"])
    op.add_column("contact", sa.Column("bound_at", UTC_DATETIME, nullable=True))
    op.create_index("ix_contact_invite_id", "contact", ["invite_id"])
    _backfill()


def _backfill() -> None:
    audit = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("at", UTC_DATETIME),
                     sa.column("contact_id", sa.Integer), sa.column("action", sa.String), sa.column("new", sa.JSON))
    contact = sa.table("contact", sa.column("id", sa.Integer), sa.column("role", sa.String),
                       sa.column("unit_id", sa.Integer), sa.column("invite_id", sa.Integer),
                       sa.column("bound_at", UTC_DATETIME))
    invite = sa.table("invite", sa.column("id", sa.Integer), sa.column("role", sa.String),
                      sa.column("unit_id", sa.Integer))
    conn = op.get_bind()
    last: dict[int, tuple] = {}
    rows = conn.execute(sa.select(audit.c.contact_id, audit.c.at, audit.c.new)
                        .where(audit.c.action == "bind", audit.c.contact_id.is_not(None)).order_by(audit.c.id))
    for contact_id, at, new in rows:
        if isinstance(new, dict) and isinstance(new.get("invite"), int):
            last[contact_id] = (new["invite"], at)
    invites = {i: (role, unit) for i, role, unit in conn.execute(sa.select(invite.c.id, invite.c.role, invite.c.unit_id))}
    bound = conn.execute(sa.select(contact.c.id, contact.c.role, contact.c.unit_id).where(contact.c.role.is_not(None)))
    for contact_id, role, unit_id in list(bound):
        invite_id, at = last.get(contact_id, (None, None))
        if invites.get(invite_id) == (role, unit_id):  # only an invite that matches the binding as it is now
            conn.execute(sa.update(contact).where(contact.c.id == contact_id).values(invite_id=invite_id, bound_at=at))


def downgrade() -> None:
    op.drop_index("ix_contact_invite_id", table_name="contact")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("bound_at")
        for column, name in FOREIGN_KEYS.items():
            if op.get_bind().dialect.name != "sqlite":
                batch.drop_constraint(name, type_="foreignkey")
            batch.drop_column(column)
