"""Streaming many demo messages into the database fast: COPY on PostgreSQL, executemany on
SQLite, with secondary indexes dropped during the load and rebuilt after, so a million rows
take seconds (the benchmarks seed ten million).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import case, insert, literal, select

from sms_core.domain.statuses import NOT_SENT, PENDING
from sms_core.domain.statuses import SmsStatus as S
from sms_core.storage import rollups
from sms_core.storage.database import Database
from sms_core.storage.models import DispatchState, SmsMessage, StatusEvent

MESSAGE_COLUMNS = (
    "id",
    "text",
    "phone",
    "contact_id",
    "org_unit_id",
    "sent_on",
    "status",
    "resent",
    "original_id",
    "segments",
    "sent_by_user_id",
    "gateway",
    "gateway_message_id",
    "gateway_error",
    "idempotency_key",
    "dispatch_state",
    "submitted_at",
    "dlr_token",
    "updated_at",
    "standard_text_id",
)


def history_statements(first_id: int) -> list:
    """The status events of the seeded messages, derived by the database from the rows:
    recorded → accepted by the gateway (when it took it) → the final word (when there is one)."""
    m = SmsMessage.__table__.c
    mine = m.id >= first_id
    went_out = m.dispatch_state != int(DispatchState.NOT_SENT)
    explanation = case({int(s): s.explanation for s in NOT_SENT}, value=m.status, else_="Recorded")
    recorded = select(m.id, case((went_out, int(S.UNKNOWN)), else_=m.status), m.sent_on, literal("send"), explanation)
    accepted = select(
        m.id,
        case((m.resent, int(S.RESENT)), else_=int(S.ACCEPTED)),
        m.sent_on,
        literal("gateway"),
        literal("Accepted for delivery"),
    ).where(mine, m.gateway_message_id.is_not(None))
    source = case(
        (m.status == int(S.STATUS_CHECK_TIMEOUT), "status-check"),
        (m.gateway_message_id.is_(None), "gateway"),
        else_="delivery-report",
    )
    final = select(m.id, m.status, m.updated_at, source, m.gateway_error).where(
        mine, went_out, m.status.not_in([int(s) for s in PENDING])
    )
    columns = ["message_id", "status", "at", "source", "detail"]
    return [insert(StatusEvent).from_select(columns, q) for q in (recorded.where(mine), accepted, final)]


def insert_sqlite(db: Database, rows, first_id: int) -> int:
    msg_sql = (
        f"INSERT INTO sms_messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
    )
    added = 0
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        batch = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= 5000:
                cur.executemany(msg_sql, batch)
                added += len(batch)
                batch = []
        cur.executemany(msg_sql, batch)
        added += len(batch)
        raw.commit()
    finally:
        raw.close()
    with db.engine.begin() as conn:
        for statement in history_statements(first_id):
            conn.execute(statement)
    return added


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    return value


def copy_postgres(db: Database, rows, first_id: int) -> int:
    """COPY with the secondary indexes dropped, then rebuild them on two connections at once.

    Building the text trigram index is most of the time, so it gets a connection of its own.
    """
    added = 0
    raw = db.engine.raw_connection()
    indexes: list[str] = []
    try:
        cur = raw.cursor()
        indexes = _drop_secondary_indexes(cur, ("sms_messages", "sms_status_events"))
        for table in ("sms_messages", "sms_status_events"):  # the roll-ups counted once, below
            cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        with cur.copy(f"COPY sms_messages ({', '.join(MESSAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                added += 1
        for statement in history_statements(first_id):
            compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
            cur.execute(str(compiled), compiled.params)
        for table in ("sms_messages", "sms_status_events"):
            cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cur.execute("SELECT setval(pg_get_serial_sequence('sms_messages', 'id'), (SELECT max(id) FROM sms_messages))")
        raw.commit()
    finally:
        raw.close()  # without the commit, the rollback brings the dropped indexes back
    with db.engine.begin() as conn:
        rollups.add_messages(conn, first_id)
    _build_indexes(db, indexes)
    return added


def _build_indexes(db: Database, definitions: list[str]) -> None:
    slow = [d for d in definitions if "gin_trgm_ops" in d and "(text " in d]
    groups = [slow, [d for d in definitions if d not in slow] + ["ANALYZE sms_messages", "ANALYZE sms_status_events"]]

    def run(statements: list[str]) -> None:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for statement in statements:
                conn.exec_driver_sql(statement)
            conn.commit()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(run, group) for group in groups if group]:
            future.result()


def _drop_secondary_indexes(cur, tables: tuple[str, ...]) -> list[str]:
    """Drop foreign keys and the indexes that back no constraint; return what rebuilds them.

    Checking foreign keys row by row and updating indexes during COPY costs several times more
    than validating and building them once afterwards.
    """
    cur.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
             FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'""",
        (list(tables),),
    )
    foreign_keys = cur.fetchall()
    for table, name, _ in foreign_keys:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cur.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        (list(tables),),
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign_keys
    ]
