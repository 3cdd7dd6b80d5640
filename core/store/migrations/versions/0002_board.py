"""Tumor-board tables (meetings, cases, snapshots, decision versions, sign-offs, follow-ups,
comments), with
triggers that refuse UPDATE and DELETE on snapshots, decisions, sign-offs, follow-ups and comments.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("board_snapshots", "board_decisions", "board_signoffs", "board_followups", "board_comments")
TABLES = ("board_comments", "board_followups", "board_signoffs", "board_decisions", "board_snapshots", "board_cases", "board_meetings")


def _sqlite_triggers(table: str) -> list[str]:
    return [f"""CREATE TRIGGER {table}_refuse_{op_} BEFORE {op_.upper()} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_.upper()} refused'); END"""
            for op_ in ("update", "delete")]


POSTGRES_FUNCTION = """CREATE FUNCTION board_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$"""


def _postgres_triggers(table: str) -> list[str]:
    return [f"""CREATE TRIGGER {table}_refuse_update_delete BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION board_refuse()""",
            f"""CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION board_refuse()"""]


def upgrade() -> None:
    text, s = sa.Text(), sa.String
    op.create_table(
        "board_meetings",
        sa.Column("id", s(36), primary_key=True),
        sa.Column("title", s(200), nullable=False),
        sa.Column("date", s(10), nullable=False),
        sa.Column("type", s(100), nullable=False),
        sa.Column("chair", s(200), nullable=False),
        sa.Column("attendees", text, nullable=False),
        sa.Column("quorum", text, nullable=False),
        sa.Column("created_by", s(256), nullable=False),
        sa.Column("created_at", s(32), nullable=False),
    )
    op.create_index("ix_board_meetings_date", "board_meetings", ["date"])
    op.create_table(
        "board_cases",
        sa.Column("id", s(36), primary_key=True),
        sa.Column("meeting_id", s(36), sa.ForeignKey("board_meetings.id"), nullable=False),
        sa.Column("label", s(200), nullable=False),
        sa.Column("cohort", s(100), nullable=False),
        sa.Column("source", s(32), nullable=False),
        sa.Column("source_ref", s(300), nullable=False),
        sa.Column("record", text, nullable=False),
        sa.Column("question", text, nullable=False),
        sa.Column("context", text, nullable=False),
        sa.Column("triage", s(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", s(256), nullable=False),
        sa.Column("created_at", s(32), nullable=False),
        sa.UniqueConstraint("meeting_id", "label", name="board_cases_label_once"),
    )
    op.create_index("ix_board_cases_meeting_id", "board_cases", ["meeting_id"])
    op.create_table(
        "board_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", s(36), sa.ForeignKey("board_cases.id"), nullable=False, unique=True),
        sa.Column("report", text, nullable=False),
        sa.Column("report_sha256", s(64), nullable=False),
        sa.Column("bundle_id", s(128), nullable=False),
        sa.Column("bundle_sha256", s(64), nullable=False),
        sa.Column("app_version", s(32), nullable=False),
        sa.Column("created_by", s(256), nullable=False),
        sa.Column("created_at", s(32), nullable=False),
    )
    op.create_table(
        "board_decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", s(36), sa.ForeignKey("board_cases.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", text, nullable=False),
        sa.Column("body_sha256", s(64), nullable=False),
        sa.Column("snapshot_sha256", s(64)),
        sa.Column("created_by", s(256), nullable=False),
        sa.Column("created_at", s(32), nullable=False),
        sa.UniqueConstraint("case_id", "version", name="board_decisions_version_once"),
    )
    op.create_index("ix_board_decisions_case_id", "board_decisions", ["case_id"])
    op.create_table(
        "board_signoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("board_decisions.id"), nullable=False, unique=True),
        sa.Column("signed_by", s(256), nullable=False),
        sa.Column("signed_at", s(32), nullable=False),
    )
    op.create_table(
        "board_followups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("board_decisions.id"), nullable=False),
        sa.Column("implemented", sa.Boolean(), nullable=False),
        sa.Column("reason", text, nullable=False),
        sa.Column("created_by", s(256), nullable=False),
        sa.Column("created_at", s(32), nullable=False),
    )
    op.create_index("ix_board_followups_decision_id", "board_followups", ["decision_id"])
    op.create_table(
        "board_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", s(36), sa.ForeignKey("board_cases.id"), nullable=False),
        sa.Column("text", text, nullable=False),
        sa.Column("created_by", s(256), nullable=False),
        sa.Column("created_at", s(32), nullable=False),
    )
    op.create_index("ix_board_comments_case_id", "board_comments", ["case_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        statements = [t for table in APPEND_ONLY for t in _postgres_triggers(table)]
    else:
        statements = [t for table in APPEND_ONLY for t in _sqlite_triggers(table)]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        op.drop_table(table)  # a table's triggers go with it
    if postgres:
        op.execute("DROP FUNCTION board_refuse()")
