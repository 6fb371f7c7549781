"""The roll-ups' own tables beside the daily counts: time to delivery, the breakdowns, and the time
zone's offsets.

Kept out of models.py so that stays readable whole; the migrations' environment imports this
module too, so Alembic's metadata has every table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, PrimaryKeyConstraint, SmallInteger, Table
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.orm import Mapped, mapped_column

from sms_core.domain.statuses import SmsStatus
from sms_core.storage import rollup_breakdowns, rollup_daily, rollup_histogram
from sms_core.storage.models import Base

# Whole seconds in SQLite's text, so "starts_at <= sent_on" compares as times whatever follows the
# seconds in the message's text (the bulk path writes no fraction, the ORM writes six digits).
OffsetStart = DateTime().with_variant(
    SQLITE_DATETIME(storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"),
    "sqlite",
)


class DailyStatusCount(Base):
    """Messages and SMS segments per local day of Sent on and org unit, a column of each per status
    (storage/rollup_daily.py, migration 0017); kept by triggers on the messages."""

    __table__ = Table(
        rollup_daily.TABLE,
        Base.metadata,
        Column("org_unit_id", Integer, primary_key=True),
        Column("day", Date, primary_key=True),
        *(Column(name, Integer, nullable=False, server_default="0") for name in rollup_daily.COLUMNS),
    )

    def by_status(self) -> dict[SmsStatus, tuple[int, int]]:
        """(messages, segments) of each status the row counts any message of."""
        counts = {
            s: (getattr(self, rollup_daily.MESSAGES[s]), getattr(self, rollup_daily.SEGMENTS[s])) for s in SmsStatus
        }
        return {status: both for status, both in counts.items() if both != (0, 0)}


class DeliveryHistogram(Base):
    """Messages received per local day of Sent on and org unit, one column per time-to-delivery
    bucket (domain/delivery_times.py); kept by a trigger on the status history
    (storage/rollup_histogram.py, migration 0016).  The key leads with the unit: a lead reads
    her units' days."""

    __table__ = Table(
        rollup_histogram.TABLE,
        Base.metadata,
        Column("org_unit_id", Integer, primary_key=True),
        Column("day", Date, primary_key=True),
        *(Column(name, Integer, nullable=False, server_default="0") for name in rollup_histogram.COLUMNS),
    )

    def buckets(self) -> dict[int, int]:
        """The row's non-empty buckets, as ``DeliveryTimes`` takes them."""
        counts = (getattr(self, name) for name in rollup_histogram.COLUMNS)
        return {bucket: n for bucket, n in zip(rollup_histogram.BUCKETS, counts, strict=True) if n}


class DailyBreakdown(Base):
    """Messages per local day, org unit and sender or standard text (``dimension``; ``key`` 0:
    none), a column per status (storage/rollup_breakdowns.py, migration 0018); kept by triggers on
    the messages.  On PostgreSQL the key carries the counts, so the page reads the index alone."""

    __table__ = Table(
        rollup_breakdowns.TABLE,
        Base.metadata,
        Column("org_unit_id", Integer, nullable=False),
        Column("day", Date, nullable=False),
        Column("dimension", SmallInteger, nullable=False),
        Column("key", BigInteger, nullable=False),
        *(Column(name, Integer, nullable=False, server_default="0") for name in rollup_breakdowns.COUNTS.values()),
        PrimaryKeyConstraint(*rollup_breakdowns.KEY, postgresql_include=list(rollup_breakdowns.COUNTS.values())),
    )

    def by_status(self) -> dict[SmsStatus, int]:
        """The messages of each status the row counts any of."""
        counts = {status: getattr(self, name) for status, name in rollup_breakdowns.COUNTS.items()}
        return {status: n for status, n in counts.items() if n}


class ZoneOffset(Base):
    """The organisation's time zone as offsets from UTC, each from ``starts_at`` (naive UTC) on.

    The triggers read the local day from this table on both databases (SQLite knows no time zones),
    and a database copied with its data keeps counting in the zone its roll-ups were built for.
    """

    __tablename__ = "sms_zone_offsets"
    starts_at: Mapped[datetime] = mapped_column(OffsetStart, primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer)
