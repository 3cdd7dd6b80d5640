"""The audit log's per-entry MAC: ``mac`` holds ``<key id>:<HMAC-SHA256 hex>`` of the entry's hash under a
key kept outside the database (see :mod:`core.audit.anchors`). Entries written before this revision have
none; the chain carries them (a later entry's MAC covers every hash before it).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN fires no UPDATE trigger (SQLite and PostgreSQL): the append-only triggers stay as they are
    op.add_column("audit_log", sa.Column("mac", sa.String(96), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_log", "mac")
    else:  # SQLite >= 3.35 drops a column in place
        op.execute("ALTER TABLE audit_log DROP COLUMN mac")
