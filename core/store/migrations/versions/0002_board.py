"""Tumor-board tables (meetings, cases, snapshots, decision versions, follow-ups). Placeholder until issue 10 lands its tables.

Revision ID: 0002
Revises: 0001
"""

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
