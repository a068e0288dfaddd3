"""Order numbers (``20261122-000123``): each local day counts from 1.

PostgreSQL: one sequence per day, ``order_number_20261122``, created on the day's first order.
``nextval`` takes no row lock and is never rolled back, so registrations do not queue behind each
other. The earlier design, one counter row per day updated by every registration, held that row
locked until the registering transaction had committed: with 32 registrations in flight every one
waited for the one before, and PostgreSQL spent 1.24 ms of CPU per registration instead of 0.40.
A number whose order is then not stored is skipped (a rare gap); numbers stay unique per day (the
unique constraint on ``work_orders.number`` holds them to it) and increasing.

A day's sequence starts after the highest number of that day already handed out, by the counter
table or in ``work_orders``, so a database that numbered orders with the counter table goes on
without a clash. Sequences of days more than :data:`KEEP_DAYS` old are dropped when a new day's
is created.

SQLite (the embedded demo) keeps the counter table: one writer at a time anyway.
"""

from __future__ import annotations

import weakref
from datetime import date, timedelta

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.logging import get_logger

log = get_logger(__name__)

SEQUENCE_PREFIX = "order_number_"
KEEP_DAYS = 3  # yesterday's sequence is still needed by a request that started before midnight

# Days whose sequence this process has seen committed, per database (engine dialect).
_known: weakref.WeakKeyDictionary[Dialect, set[date]] = weakref.WeakKeyDictionary()

_DUPLICATE = frozenset({"23505", "42P07"})  # a concurrent CREATE SEQUENCE IF NOT EXISTS of the same name
UNDEFINED_TABLE = "42P01"


def sequence_name(day: date) -> str:
    return f"{SEQUENCE_PREFIX}{day:%Y%m%d}"


def sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def forget(dialect: Dialect, day: date) -> None:
    """The day's sequence turned out missing (dropped by hand): look again next time."""
    _known.get(dialect, set()).discard(day)


async def ensure_day_sequence(session: AsyncSession, day: date, *, autocommit: bool) -> str:
    """The name of ``day``'s sequence, created if it does not exist yet.

    ``autocommit``: the session's statements commit one by one (a server request). Then a sequence
    this process has seen before is trusted without asking the database. In a transaction (the
    test suite's, a seeding script's) the database is always asked, because the transaction that
    created the sequence may have been rolled back since.
    """
    name = sequence_name(day)
    connection = await session.connection()
    known = _known.setdefault(connection.dialect, set())
    if autocommit and day in known:
        return name
    exists = await session.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name})
    if not exists:
        await _create(session, day, name, autocommit=autocommit)
    if autocommit:
        known.add(day)
    return name


async def _create(session: AsyncSession, day: date, name: str, *, autocommit: bool) -> None:
    prefix = f"{day:%Y%m%d}-"
    highest = await session.scalar(
        text(
            "SELECT greatest("
            " (SELECT last_value FROM order_number_counters WHERE day = :day),"
            " (SELECT substr(number, 10)::bigint FROM work_orders"
            "   WHERE number >= :low AND number < :high ORDER BY number DESC LIMIT 1),"
            " 0)"
        ),
        {"day": day, "low": prefix, "high": f"{day:%Y%m%d}."},  # '.' sorts right after '-'
    )
    start = int(highest or 0) + 1
    # DDL takes no bind parameters: the name is built from a date, the start is an integer.
    create = text(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {start:d}")
    await _ddl(session, create, autocommit=autocommit, tolerated=_DUPLICATE)
    log.info("order_numbers.day_sequence_created", sequence=name, start=start)
    await _drop_old(session, day, autocommit=autocommit)


async def _drop_old(session: AsyncSession, day: date, *, autocommit: bool) -> None:
    oldest_kept = sequence_name(day - timedelta(days=KEEP_DAYS))
    rows = await session.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            " AND c.relname ~ '^order_number_[0-9]{8}$' AND c.relname < :oldest"
        ),
        {"oldest": oldest_kept},
    )
    for (old,) in rows.all():
        await _ddl(session, text(f'DROP SEQUENCE IF EXISTS "{old}"'), autocommit=autocommit)
        log.info("order_numbers.day_sequence_dropped", sequence=old)


async def _ddl(
    session: AsyncSession, statement: TextClause, *, autocommit: bool, tolerated: frozenset[str] = frozenset()
) -> None:
    """Run ``statement``; an error whose SQLSTATE is ``tolerated`` is ignored. Inside a caller's
    transaction it runs in a savepoint, so such an error does not abort that transaction."""
    try:
        if autocommit:
            await session.execute(statement)
        else:
            async with session.begin_nested():
                await session.execute(statement)
    except DBAPIError as exc:
        if sqlstate(exc) not in tolerated:
            raise
