"""The monthly assessment over 1,000,000 orders in PostgreSQL, and the drill-down behind a figure.

What it does, end to end:

1. creates a private PostgreSQL database ``minhu_bench_assessment`` and migrates it, seeds the
   city of about 100 units in the four groups with :mod:`bench.api_bench`'s helpers, and loads
   1,000,000 work orders all **assigned in October 2026** with that bench's server-side SQL
   (every state of the lifecycle in realistic proportions for the order's age on 5 Nov 2026,
   the nested records as the JSON documents the mapping decodes), then ``VACUUM ANALYZE``;
2. times :func:`minhu.services.assessment.monthly_assessment` for October as a supervisor asks
   for it on Thu 5 Nov 2026 10:00, the month not yet stored: reading the orders' facts from the
   database, every indicator of every unit, scores, ranking, interviews and escalations, and
   storing the month (``assessment_month_1m_orders_s``);
3. times the drill-down (:func:`minhu.services.assessment.drill_down`, the service behind
   ``GET /api/v1/assessment/months/{month}/units/{unit}/indicators/{indicator}/orders``) for many
   unit × indicator × numerator/denominator × page requests, each in its own session as the API
   does, and reports the 99th percentile (``drilldown_p99_ms``); it checks on the way that the
   drill-down's totals equal the figures of the month;
4. drops the database (``MINHU_BENCH_KEEP_DB=1`` keeps it and a kept one is reused).

Environment knobs: ``MINHU_BENCH_ASSESSMENT_DATABASE_URL``, ``MINHU_BENCH_ASSESSMENT_ORDERS``
(default 1000000), ``MINHU_BENCH_DRILLDOWNS`` (default 2000), ``MINHU_BENCH_KEEP_DB``.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from datetime import date, datetime, timedelta

from sqlalchemy.engine import URL, make_url

from bench.api_bench import SH, _drop_database, _prepare, _say

DEFAULT_URL = "postgresql+asyncpg:///minhu_bench_assessment?host=/var/run/postgresql"
MONTH = (2026, 10)
NOW = datetime(2026, 11, 5, 10, 0, tzinfo=SH)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _url() -> URL:
    return make_url(os.environ.get("MINHU_BENCH_ASSESSMENT_DATABASE_URL") or DEFAULT_URL)


def month_counts(orders: int, year: int, month: int) -> list[tuple[date, int]]:
    """``orders`` registrations spread over the days of the month, weekdays busier."""
    first = date(year, month, 1)
    days = []
    d = first
    while d.month == month:
        days.append(d)
        d += timedelta(days=1)
    rng = random.Random(2026)
    weights = [(1.0 if d.weekday() < 5 else 0.6) * rng.uniform(0.8, 1.2) for d in days]
    total = sum(weights)
    counts = [int(orders * w / total) for w in weights]
    counts[len(counts) // 2] += orders - sum(counts)
    return list(zip(days, counts, strict=True))


async def _prepare_month(url: URL, orders: int) -> None:
    await _prepare(url, orders, NOW, month_counts(orders, *MONTH))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def run() -> dict[str, float]:
    url = _url()
    orders = _env_int("MINHU_BENCH_ASSESSMENT_ORDERS", 1_000_000)
    asyncio.run(_prepare_month(url, orders))
    try:
        return asyncio.run(_measure(url, _env_int("MINHU_BENCH_DRILLDOWNS", 2000)))
    finally:
        if not os.environ.get("MINHU_BENCH_KEEP_DB"):
            asyncio.run(_drop_database(url))


async def _measure(url: URL, drilldowns: int) -> dict[str, float]:
    from sqlalchemy import text

    from minhu.db.engine import create_engine, create_session_factory
    from minhu.services.assessment import drill_down, monthly_assessment
    from minhu.settings import Settings
    from workorders.assessment import IndicatorKey, Month
    from workorders.clock import FixedClock
    from workorders.enums import Role
    from workorders.model import Actor

    database_url = url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=database_url, log_level="WARNING")  # type: ignore[call-arg]
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    month = Month(*MONTH)
    clock = FixedClock(NOW)
    try:
        async with sessions() as session:  # a kept database: the month is not stored yet
            await session.execute(text("DELETE FROM assessment_months"))
            await session.commit()
        _say("computing October 2026 (not stored yet)")
        t0 = time.perf_counter()
        async with sessions() as session:
            result = await monthly_assessment(session, settings, month, clock=clock)
        month_s = time.perf_counter() - t0
        orders = sum(len(u.orders) for u in result.units.values())
        _say(
            f"  {orders:,} orders assessed and stored in {month_s:.2f}s; {len(result.interviews)} interviews"
        )

        supervisor = Actor("supervisor", Role.SUPERVISOR, name="值班长")
        rng = random.Random(7)
        scored = [u for u in result.units.values() if u.members]
        latencies: list[float] = []
        for i in range(drilldowns):
            unit = rng.choice(scored)
            key = rng.choice(list(IndicatorKey))
            part = "numerator" if rng.random() < 0.5 else "denominator"
            size = unit[key].count if part == "numerator" else unit[key].base
            offset = rng.randrange(0, max(size, 1), 50) if rng.random() < 0.5 else 0
            t0 = time.perf_counter()
            async with sessions() as session:
                page = await drill_down(
                    session,
                    settings,
                    month,
                    int(unit.unit.unit_id),
                    key,
                    part=part,  # type: ignore[arg-type]
                    offset=offset,
                    limit=50,
                    clock=clock,
                    actor=supervisor,
                )
            latencies.append((time.perf_counter() - t0) * 1000)
            if i < 50 and page.total != size:  # the drill-down lists exactly what the figure counts
                raise AssertionError(
                    f"drill-down total {page.total} != figure {size} ({unit.unit.name}, {key})"
                )
        p50, p99 = statistics.median(latencies), _percentile(latencies, 99)
        _say(f"  {drilldowns} drill-downs: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        return {
            "assessment_month_1m_orders_s": month_s,
            "drilldown_p99_ms": p99,
            "drilldown_p50_ms": p50,
        }
    finally:
        await engine.dispose()
