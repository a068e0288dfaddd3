"""Pacing: how many new calls the dialer may place right now.

Four brakes, checked before every claim: a supervisor's pause (a Redis key), inbound priority
(citizens waiting in the inbound queue beyond a threshold), the cap of simultaneous channels (the
dialer's own count) and the calls-per-minute cap (a token bucket in Redis, on Redis's own clock,
shared by every dialer process).
"""

from __future__ import annotations

import logging
from typing import Protocol

import redis.asyncio as aioredis

from pbx import dialplan_names as names
from pbx.call_model import CallModel

from .schedule import DialerKeys
from .settings import DialerSettings

log = logging.getLogger(__name__)


class InboundLoad(Protocol):
    """How many citizens wait in the inbound queue right now (来电排队人数)."""

    async def waiting(self) -> int: ...


class QueueCallersLoad:
    """Reads the live call model that the AMI connection keeps (QueueCallerJoin/Leave events,
    rebuilt from QueueStatus after every reconnect)."""

    def __init__(self, model: CallModel, queue: str = names.INBOUND_QUEUE) -> None:
        self._model = model
        self._queue = queue

    async def waiting(self) -> int:
        return len(self._model.callers_in(self._queue))


class NoInboundLoad:
    async def waiting(self) -> int:
        return 0


_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local take = math.min(math.floor(tokens), want)
if take < 0 then take = 0 end
tokens = tokens - take
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return take
"""

_REFUND = """
local burst = tonumber(ARGV[2])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or ARGV[2])
tokens = math.min(burst, tokens + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens))
return 1
"""


class Pacer:
    def __init__(
        self, redis: aioredis.Redis, keys: DialerKeys, settings: DialerSettings, inbound: InboundLoad
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self._inbound = inbound
        self._take = redis.register_script(_TAKE)
        self._refund = redis.register_script(_REFUND)
        self._backing_off = False
        self._was_paused = False

    async def pause(self, by: str) -> None:
        """A supervisor pauses every dialer (暂停外呼); calls in progress finish."""
        await self._redis.set(self._keys.paused, by)

    async def resume(self) -> None:
        await self._redis.delete(self._keys.paused)

    async def paused(self) -> bool:
        return bool(await self._redis.exists(self._keys.paused))

    async def allowance(self, free_channels: int) -> int:
        """How many calls may start now (tokens taken; give back unused ones with ``refund``)."""
        if free_channels <= 0:
            return 0
        if await self.paused():
            if not self._was_paused:
                log.info("revisit dialer paused by a supervisor")
            self._was_paused = True
            return 0
        if self._was_paused:
            log.info("revisit dialer resumed")
            self._was_paused = False
        waiting = await self._inbound.waiting()
        if waiting > self._settings.inbound_waiting_threshold:
            if not self._backing_off:
                log.info("revisit dialer backs off: %d citizens waiting in the inbound queue", waiting)
            self._backing_off = True
            return 0
        self._backing_off = False
        want = min(free_channels, self._settings.batch_size)
        rate = self._settings.calls_per_minute / 60.0
        granted = await self._take(keys=[self._keys.bucket], args=[rate, self._settings.bucket_burst, want])
        return int(granted)

    async def refund(self, tokens: int) -> None:
        if tokens > 0:
            await self._refund(keys=[self._keys.bucket], args=[tokens, self._settings.bucket_burst])
