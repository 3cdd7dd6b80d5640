"""The audit log and its chain head, with triggers that refuse UPDATE and DELETE on the log, refuse an
insert that does not extend the chain head, and let the head only move forward by one entry.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_refuse_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_refuse_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_log_extends_head BEFORE INSERT ON audit_log
       WHEN NOT EXISTS (SELECT 1 FROM audit_chain_head
                        WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash)
       BEGIN SELECT RAISE(ABORT, 'audit_log: an entry must extend the chain head'); END""",
    """CREATE TRIGGER audit_chain_head_refuse_delete BEFORE DELETE ON audit_chain_head
       BEGIN SELECT RAISE(ABORT, 'audit_chain_head: DELETE refused'); END""",
    """CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head
       WHEN NEW.id != OLD.id OR NEW.seq != OLD.seq + 1 OR NOT EXISTS (
            SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash AND prev_hash = OLD.hash)
       BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves to the entry appended after it'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER audit_log_refuse_update_delete BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()""",
    """CREATE TRIGGER audit_log_refuse_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()""",
    """CREATE FUNCTION audit_log_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NOT EXISTS (SELECT 1 FROM audit_chain_head
                        WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash) THEN
           RAISE EXCEPTION 'audit_log: entry % must extend the chain head', NEW.seq;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_log_extends_head BEFORE INSERT ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_extends_head()""",
    """CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'UPDATE' THEN RAISE EXCEPTION 'audit_chain_head: % refused', TG_OP; END IF;
         IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
              SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash AND prev_hash = OLD.hash) THEN
           RAISE EXCEPTION 'audit_chain_head only moves to the entry appended after it';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
       FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard()""",
    """CREATE TRIGGER audit_chain_head_refuse_truncate BEFORE TRUNCATE ON audit_chain_head
       FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()""",
]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(256), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("page", sa.String(256)),
        sa.Column("patient_ref", sa.String(64)),
        sa.Column("bundle_id", sa.String(128)),
        sa.Column("bundle_sha256", sa.String(64)),
        sa.Column("report_sha256", sa.String(64)),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("report", sa.LargeBinary()),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_log_kind", "audit_log", ["kind"])
    op.create_index("ix_audit_log_user_name", "audit_log", ["user_name"])
    op.create_index("ix_audit_log_patient_ref", "audit_log", ["patient_ref"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="audit_chain_head_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    for statement in POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_log, audit_chain_head")
        op.execute("DROP FUNCTION audit_log_refuse(), audit_log_extends_head(), audit_chain_head_guard()")
    else:
        op.drop_table("audit_log")
        op.drop_table("audit_chain_head")
