"""The tables, as SQLAlchemy 2 declarative models: the audit log and its chain head (one row)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

GENESIS = "0" * 64  # prev_hash of the first entry


class Base(DeclarativeBase):
    """Metadata of every table Equipoise keeps (Alembic's migrations create them)."""


class LogEntryRow(Base):
    """One audit-log entry. ``body`` is the canonical JSON that is hashed; the other columns repeat its
    fields for filtering (``log verify`` checks they agree). ``report`` is the zlib-compressed canonical
    JSON of what was shown, whose sha256 is in the body. ``mac`` is the entry's HMAC under a key held
    outside the database (:mod:`core.audit.anchors`); it is not part of the hashed body."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    user_name: Mapped[str] = mapped_column(String(256), index=True)
    role: Mapped[str] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(256))
    patient_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    bundle_id: Mapped[str | None] = mapped_column(String(128))
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    report: Mapped[bytes | None] = mapped_column(LargeBinary)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str | None] = mapped_column(String(96))  # "<key id>:<HMAC of hash>", key outside the database


class ChainHeadRow(Base):
    """The last entry's seq and hash (one row, id 1). Appends lock it, so the chain never forks; a
    deleted last entry shows as a head that points past the end."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="audit_chain_head_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
