"""Trainee-mode tables (sessions, cases, answers), append-only: triggers refuse UPDATE and DELETE (and
TRUNCATE on PostgreSQL); an answer is given once per (session, trainee, case, stage).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("training_sessions", "training_cases", "training_answers")


def _sqlite_triggers():
    for table in TABLES:
        for op_name in ("UPDATE", "DELETE"):
            yield (f"CREATE TRIGGER {table}_refuse_{op_name.lower()} BEFORE {op_name} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_name} refused'); END")


def _postgres_triggers():
    yield ("CREATE FUNCTION training_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
           "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$")
    for table in TABLES:
        yield (f"CREATE TRIGGER {table}_refuse_update_delete BEFORE UPDATE OR DELETE ON {table} "
               "FOR EACH ROW EXECUTE FUNCTION training_refuse()")
        yield (f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
               "FOR EACH STATEMENT EXECUTE FUNCTION training_refuse()")


def upgrade() -> None:
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("cohort", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("bundle_id", sa.String(128), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
    )
    op.create_table(
        "training_cases",
        sa.Column("session_id", sa.String(32), sa.ForeignKey("training_sessions.id"), primary_key=True),
        sa.Column("case_no", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_table(
        "training_answers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("training_sessions.id"), nullable=False),
        sa.Column("trainee", sa.String(256), nullable=False),
        sa.Column("case_no", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("confidence", sa.Float()),
        sa.Column("time", sa.String(32), nullable=False),
        sa.UniqueConstraint("session_id", "trainee", "case_no", "stage", name="training_answer_once"),
    )
    op.create_index("ix_training_answers_session_id", "training_answers", ["session_id"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _postgres_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE training_answers, training_cases, training_sessions")
        op.execute("DROP FUNCTION training_refuse()")
    else:
        for table in reversed(TABLES):
            op.drop_table(table)
