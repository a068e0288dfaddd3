"""The supervisor's dialer controls over HTTP: pause/resume shared with every dialer process,
status from the Redis schedule and heartbeats, the manual-revisit list with masked numbers."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from callback_dialer.pacing import NoInboundLoad, Pacer
from callback_dialer.schedule import DialerKeys, RedisSchedule
from callback_dialer.settings import DialerSettings
from callback_dialer.store import DialerStore, ManualReason, TaskSource, flag_manual

from .city import City

pytestmark = pytest.mark.db

REDIS_URL = os.environ.get("MINHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROUTES = [
    ("get", "/dialer/status"),
    ("post", "/dialer/pause"),
    ("post", "/dialer/resume"),
    ("get", "/dialer/manual-revisits"),
]


@pytest.fixture
async def dialer(app: Any) -> AsyncIterator[tuple[aioredis.Redis, DialerSettings]]:
    """The app's dialer routes on a private Redis prefix."""
    client = aioredis.from_url(REDIS_URL)
    prefix = f"minhu-test:dialer-api:{uuid.uuid4().hex[:10]}"
    settings = DialerSettings(redis_prefix=prefix, calls_per_minute=60_000, bucket_burst=1_000)
    app.state.dialer_redis = client
    app.state.dialer_settings = settings
    try:
        yield client, settings
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.mark.parametrize("who", ["agent", "h_xinhua"])
async def test_other_roles_are_refused_every_dialer_route(
    city: City, dialer: tuple[aioredis.Redis, DialerSettings], who: str
) -> None:
    redis, settings = dialer
    for method, path in ROUTES:
        r = await getattr(city, method)(who, path)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"] == "not-a-supervisor"
    assert not await redis.exists(DialerKeys(settings.redis_prefix).paused)  # the pause was refused
    r = await city.client.get("/api/v1/dialer/status")
    assert r.status_code == 401


async def test_a_supervisor_pauses_and_resumes_every_dialer(
    city: City, dialer: tuple[aioredis.Redis, DialerSettings]
) -> None:
    redis, settings = dialer
    pacer = Pacer(redis, DialerKeys(settings.redis_prefix), settings, NoInboundLoad())
    assert await pacer.allowance(10) > 0

    r = await city.post("supervisor", "/dialer/pause")
    assert r.status_code == 200, r.text
    assert r.json()["paused"] is True and r.json()["paused_by"] == "supervisor"
    assert await pacer.allowance(10) == 0  # what a dialer process sees at its next tick
    assert (await city.get("admin", "/dialer/status")).json()["paused"] is True

    r = await city.post("supervisor", "/dialer/resume")
    assert r.status_code == 200 and r.json()["paused"] is False and r.json()["paused_by"] is None
    assert await pacer.allowance(10) > 0


async def test_the_status_counts_due_and_leased_tasks_and_reports_heartbeat_ages(
    city: City, dialer: tuple[aioredis.Redis, DialerSettings]
) -> None:
    redis, settings = dialer
    keys = DialerKeys(settings.redis_prefix)
    empty = (await city.get("supervisor", "/dialer/status")).json()
    assert empty == {
        "paused": False,
        "paused_by": None,
        "in_flight": 0,
        "due": 0,
        "scheduled": 0,
        "health_age_seconds": None,
        "dialers": [],
    }
    now = city.clock.now()
    schedule = RedisSchedule(redis, keys)
    await schedule.put(1, "13800000001", (now - timedelta(minutes=5)).timestamp())
    await schedule.put(2, "13800000002", now.timestamp())
    await schedule.put(3, "13800000003", (now + timedelta(hours=2)).timestamp())
    claimed = await schedule.claim(
        now=(now - timedelta(minutes=1)).timestamp(),
        lease_until=(now + timedelta(minutes=10)).timestamp(),
        limit=1,
        worker="dialer-a",
        lock_ms=60_000,
        busy_delay=300,
    )
    assert claimed == [1]
    beat = {"at": (now - timedelta(seconds=12)).isoformat(), "in_flight": 1, "dialled": 40}
    await redis.set(keys.health("dialer-a"), json.dumps(beat), ex=30)
    old = {"at": (now - timedelta(seconds=25)).isoformat(), "in_flight": 0, "dialled": 3}
    await redis.set(keys.health("dialer-b"), json.dumps(old), ex=30)

    status = (await city.get("supervisor", "/dialer/status")).json()
    assert (status["in_flight"], status["due"], status["scheduled"]) == (1, 1, 2)
    assert status["health_age_seconds"] == 12.0
    assert [(d["worker"], d["age_seconds"], d["in_flight"], d["dialled"]) for d in status["dialers"]] == [
        ("dialer-a", 12.0, 1, 40),
        ("dialer-b", 25.0, 0, 3),
    ]


async def test_the_manual_revisit_list_masks_the_citizens_numbers(
    city: City, db_session: AsyncSession, dialer: tuple[aioredis.Redis, DialerSettings]
) -> None:
    now = city.clock.now()
    store = DialerStore(db_session)
    flagged = []
    for phone, reason, minutes in (
        ("13812345678", ManualReason.WINDOW_CLOSED, 30),
        ("13698765432", ManualReason.CALLBACK_WITHOUT_ORDER, 10),
    ):
        task_id = await store.insert_task(
            order_id=None,
            order_number=None,
            round_=0,
            source=TaskSource.IVR_CALLBACK,
            phone=phone,
            created_at=now - timedelta(hours=1),
            window_end=now + timedelta(days=2),
        )
        assert task_id is not None
        task = await store.task(task_id)
        assert task is not None
        flag_manual(task, reason, now - timedelta(minutes=minutes))
        flagged.append(task_id)
    await db_session.commit()

    r = await city.get("supervisor", "/dialer/manual-revisits")
    assert r.status_code == 200, r.text
    assert [(m["task_id"], m["phone"], m["reason"], m["attempts"]) for m in r.json()] == [
        (flagged[0], "138****5678", "window_closed", 0),
        (flagged[1], "136****5432", "callback_without_order", 0),
    ]
    assert "13812345678" not in r.text and "13698765432" not in r.text
    assert len((await city.get("supervisor", "/dialer/manual-revisits", params={"limit": 1})).json()) == 1
    assert (await city.get("supervisor", "/dialer/manual-revisits", params={"limit": 0})).status_code == 422
