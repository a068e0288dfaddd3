"""The knowledge base's part of the app's lifespan: the search index built from the database at
start-up, and (with ``MINHU_KB_CHANGES_CHANNEL`` set) the Redis pub/sub link through which the
server's worker processes tell each other of changed articles.

A worker that loses Redis keeps serving from its own index and, once reconnected, rebuilds the
index from the database so that no change announced meanwhile is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import redis.asyncio as aioredis
from fastapi import FastAPI
from redis.exceptions import RedisError

from minhu.logging import get_logger
from minhu.services.knowledge_base import KbIndex, SessionScope, redis_announcer
from minhu.settings import Settings

log = get_logger(__name__)

RECONNECT_SECONDS = 2.0
STOP_SECONDS = 5.0
"""At shutdown, how long a dead Redis link may delay the process (then it is abandoned)."""


@dataclass
class KbFollower:
    redis: aioredis.Redis | None
    task: asyncio.Task[None] | None


def _scope(app: FastAPI) -> SessionScope:
    def scope() -> contextlib.AbstractAsyncContextManager[object]:
        return app.state.session_factory()  # type: ignore[no-any-return]

    return scope  # type: ignore[return-value]


async def _follow_forever(index: KbIndex, redis: aioredis.Redis, scope: SessionScope) -> None:
    first = True
    while True:
        try:
            if not first:
                await index.load(scope)  # changes may have been announced while we were away
            first = False
            await index.follow(redis, scope)
        except RedisError as exc:
            log.warning("kb.follow_lost", error=str(exc), retry_seconds=RECONNECT_SECONDS)
            index.followed.clear()
            await asyncio.sleep(RECONNECT_SECONDS)


async def start(app: FastAPI, settings: Settings) -> KbFollower:
    index = KbIndex(clock=app.state.clock, policy=app.state.policy, channel=settings.kb_changes_channel)
    scope = _scope(app)
    await index.load(scope)
    app.state.kb = index
    if not settings.kb_changes_channel:
        return KbFollower(None, None)
    redis: aioredis.Redis = aioredis.Redis.from_url(settings.redis_url)
    app.state.kb_announce = redis_announcer(redis, settings.kb_changes_channel)
    task = asyncio.create_task(_follow_forever(index, redis, scope), name="kb-follow")
    return KbFollower(redis, task)


async def stop(app: FastAPI, follower: KbFollower) -> None:
    app.state.kb_announce = None
    if follower.task is not None:
        follower.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(follower.task, STOP_SECONDS)
    if follower.redis is not None:
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(follower.redis.aclose(), STOP_SECONDS)
