"""How a campaign's consolidated report is issued (Nghị định 30/2020/NĐ-CP): the ký hiệu and number, the signer's
authority, title and name, the Nơi nhận lines, the cơ quan chủ quản and the "Lưu:" line. All NULL: the decree's
usual defaults (exports/issuing.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("doc_code", sa.String(100)), ("doc_number", sa.String(20)), ("signer_authority", sa.String(100)),
           ("signer_title", sa.String(100)), ("signer_name", sa.String(200)), ("recipients", sa.JSON()),
           ("parent_body", sa.String(200)), ("filing_line", sa.String(200)))


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
