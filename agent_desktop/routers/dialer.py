"""The revisit dialer's controls for the supervisor (回访外呼): pause, resume, status, and the list
of revisits the dialer handed to an agent (转人工回访, numbers masked).

The dialer runs in its own process (``minhu dialer run``); these routes only touch what it shares:
the Redis schedule and pause key under ``MINHU_DIALER_REDIS_PREFIX`` and the task table. A pause
stops new calls of every dialer process at their next tick; calls in progress finish.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from callback_dialer.pacing import NoInboundLoad, Pacer
from callback_dialer.schedule import DialerKeys
from callback_dialer.settings import DialerSettings, dialer_settings
from callback_dialer.store import DialerStore
from minhu.services.errors import Forbidden
from workorders.enums import Role
from workorders.model import Actor

from ..agents.errors import DesktopError
from ..deps import ActorDep, SessionDep
from ..errors import responses

router = APIRouter(prefix="/dialer", tags=["dialer 回访外呼"])

SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})


class DialerUnavailable(DesktopError):
    """Redis, where the dialer's schedule lives, cannot be reached."""

    kind = "unavailable"


async def supervisor(actor: ActorDep) -> Actor:
    if actor.role not in SUPERVISING:
        raise Forbidden("not-a-supervisor", "只有班长或管理员可以控制回访外呼")
    return actor


SupervisorDep = Annotated[Actor, Depends(supervisor)]


def _settings(request: Request) -> DialerSettings:
    injected: DialerSettings | None = getattr(request.app.state, "dialer_settings", None)
    return injected or dialer_settings(request.app.state.settings)


async def dialer_redis(request: Request) -> AsyncIterator[aioredis.Redis]:
    """``app.state.dialer_redis`` when set (tests, a shared client); otherwise a client for this
    request (these routes are a supervisor's clicks, not traffic)."""
    shared: aioredis.Redis | None = getattr(request.app.state, "dialer_redis", None)
    if shared is not None:
        yield shared
        return
    client = aioredis.from_url(request.app.state.settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


RedisDep = Annotated[aioredis.Redis, Depends(dialer_redis)]


class DialerWorker(BaseModel):
    worker: str
    seen_at: datetime | None = Field(description="该进程最近一次心跳（业务时钟） / last heartbeat")
    age_seconds: float | None = Field(description="心跳距今秒数 / heartbeat age")
    in_flight: int
    dialled: int


class DialerStatus(BaseModel):
    paused: bool
    paused_by: str | None
    in_flight: int = Field(description="已领取、正在外呼或待恢复的任务 / leased tasks, all dialers")
    due: int = Field(description="已到期待呼叫 / tasks due now")
    scheduled: int = Field(description="排程中的任务 / tasks in the schedule")
    health_age_seconds: float | None = Field(
        description="最新心跳距今秒数；无存活进程时为空 / freshest heartbeat age; null: no dialer alive"
    )
    dialers: list[DialerWorker]


class ManualRevisitOut(BaseModel):
    task_id: int
    order_number: str | None
    phone: str = Field(description="已脱敏 / masked")
    reason: str
    flagged_at: datetime
    window_end: datetime
    attempts: int


async def _status(request: Request, redis: aioredis.Redis, settings: DialerSettings) -> DialerStatus:
    keys = DialerKeys(settings.redis_prefix)
    now = request.app.state.clock.now()
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.get(keys.paused)
        pipe.zcard(keys.leases)
        pipe.zcount(keys.due, "-inf", now.timestamp())
        pipe.zcard(keys.due)
        paused_by, leased, due, scheduled = await pipe.execute()
        names = [name async for name in redis.scan_iter(match=keys.health("*"), count=200)]
        payloads = await redis.mget(names) if names else []
    except (RedisError, OSError) as exc:
        raise DialerUnavailable("dialer-redis-unavailable", "回访外呼的调度（Redis）暂时无法访问") from exc
    dialers = [
        _worker(_text(name).removeprefix(keys.health("")), payload, now)
        for name, payload in zip(names, payloads, strict=True)
        if payload is not None
    ]
    dialers.sort(key=lambda d: d.worker)
    ages = [d.age_seconds for d in dialers if d.age_seconds is not None]
    return DialerStatus(
        paused=paused_by is not None,
        paused_by=None if paused_by is None else _text(paused_by),
        in_flight=int(leased),
        due=int(due),
        scheduled=int(scheduled),
        health_age_seconds=min(ages) if ages else None,
        dialers=dialers,
    )


def _worker(worker: str, payload: Any, now: datetime) -> DialerWorker:
    try:
        data = json.loads(payload)
        seen = datetime.fromisoformat(str(data["at"]))
    except (ValueError, KeyError, TypeError):
        return DialerWorker(worker=worker, seen_at=None, age_seconds=None, in_flight=0, dialled=0)
    return DialerWorker(
        worker=worker,
        seen_at=seen,
        age_seconds=max(0.0, (now - seen).total_seconds()),
        in_flight=int(data.get("in_flight", 0)),
        dialled=int(data.get("dialled", 0)),
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


ERR = responses(401, 403)


@router.get("/status", response_model=DialerStatus, responses=ERR)
async def dialer_status(request: Request, _user: SupervisorDep, redis: RedisDep) -> DialerStatus:
    """外呼状态：是否暂停、在呼数、到期待呼数、各外呼进程心跳。 Paused?, in flight, due, heartbeats."""
    return await _status(request, redis, _settings(request))


@router.post("/pause", response_model=DialerStatus, responses=ERR)
async def pause_dialer(request: Request, user: SupervisorDep, redis: RedisDep) -> DialerStatus:
    """暂停回访外呼（所有外呼进程；进行中的通话照常结束）。 Pause every dialer; calls in progress finish."""
    settings = _settings(request)
    try:
        await _pacer(redis, settings).pause(user.user_id)
    except (RedisError, OSError) as exc:
        raise DialerUnavailable("dialer-redis-unavailable", "回访外呼的调度（Redis）暂时无法访问") from exc
    return await _status(request, redis, settings)


@router.post("/resume", response_model=DialerStatus, responses=ERR)
async def resume_dialer(request: Request, _user: SupervisorDep, redis: RedisDep) -> DialerStatus:
    """恢复回访外呼。 Resume the dialers."""
    settings = _settings(request)
    try:
        await _pacer(redis, settings).resume()
    except (RedisError, OSError) as exc:
        raise DialerUnavailable("dialer-redis-unavailable", "回访外呼的调度（Redis）暂时无法访问") from exc
    return await _status(request, redis, settings)


@router.get("/manual-revisits", response_model=list[ManualRevisitOut], responses=responses(401, 403, 422))
async def manual_revisits(
    _user: SupervisorDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ManualRevisitOut]:
    """转人工回访清单：外呼未能完成的回访，最早标记在前（号码已脱敏）。

    Revisits the dialer handed to an agent (window closed, do-not-call, no number, a call-back
    request without an order), oldest first; citizens' numbers masked."""
    rows = await DialerStore(session).manual_revisits(limit=limit)
    return [
        ManualRevisitOut(
            task_id=r.task_id,
            order_number=r.order_number,
            phone=r.phone_masked,
            reason=r.reason,
            flagged_at=r.flagged_at,
            window_end=r.window_end,
            attempts=r.attempts,
        )
        for r in rows
    ]


def _pacer(redis: aioredis.Redis, settings: DialerSettings) -> Pacer:
    return Pacer(redis, DialerKeys(settings.redis_prefix), settings, NoInboundLoad())
