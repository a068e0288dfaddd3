"""The schedule in Redis: a sorted set of due tasks (score = due time, epoch seconds), a sorted
set of leased tasks (score = lease expiry), a small hash per task and a lock per citizen.

Claiming is one Lua script: due tasks move to the lease set with this worker as owner and their
citizen's lock taken, atomically, so two dialers never get the same task nor the same citizen at
once. A task whose citizen is locked by another task stays due, a little later. Releasing and
renewing check the owner, so a worker that lost its lease (it was presumed dead and another one
recovered the task) changes nothing.

Keys (``p`` = the prefix): ``p:due``, ``p:leases``, ``p:t:<task id>`` (``p`` phone, ``w`` owner),
``p:c:<citizen key>`` (the lock; value = task id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis


@dataclass(frozen=True, slots=True)
class DialerKeys:
    prefix: str

    @property
    def due(self) -> str:
        return f"{self.prefix}:due"

    @property
    def leases(self) -> str:
        return f"{self.prefix}:leases"

    @property
    def paused(self) -> str:
        return f"{self.prefix}:paused"

    @property
    def bucket(self) -> str:
        return f"{self.prefix}:bucket"

    def task(self, task_id: int | str) -> str:
        return f"{self.prefix}:t:{task_id}"

    def citizen(self, citizen_key: str) -> str:
        return f"{self.prefix}:c:{citizen_key}"

    def health(self, worker: str) -> str:
        return f"{self.prefix}:health:{worker}"

    def attempt(self, attempt_id: str) -> str:
        """What the survey needs to know about a call (order number, task), set before dialling."""
        return f"{self.prefix}:a:{attempt_id}"

    def survey_result(self, attempt_id: str) -> str:
        return f"{self.prefix}:s:{attempt_id}"

    def survey_wake(self, attempt_id: str) -> str:
        return f"{self.prefix}:sw:{attempt_id}"


_LOCK_KEY = "local lock = ARGV[1] .. ':c:' .. string.sub(redis.sha1hex(phone), 1, 20)"

_CLAIM = f"""
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {{}}
for _, id in ipairs(ids) do
  local tkey = ARGV[1] .. ':t:' .. id
  local phone = redis.call('HGET', tkey, 'p')
  if not phone then
    redis.call('ZREM', KEYS[1], id)
  else
    {_LOCK_KEY}
    local holder = redis.call('GET', lock)
    if holder and holder ~= id then
      redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[7]), id)
    else
      redis.call('SET', lock, id, 'PX', ARGV[6])
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZADD', KEYS[2], ARGV[3], id)
      redis.call('HSET', tkey, 'w', ARGV[5])
      out[#out + 1] = id
    end
  end
end
return out
"""

_TAKE_OVER = f"""
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not score or tonumber(score) > tonumber(ARGV[3]) then return 0 end
local tkey = ARGV[1] .. ':t:' .. ARGV[2]
local phone = redis.call('HGET', tkey, 'p')
if not phone then redis.call('ZREM', KEYS[2], ARGV[2]) return 0 end
{_LOCK_KEY}
redis.call('SET', lock, ARGV[2], 'PX', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('HSET', tkey, 'w', ARGV[5])
return 1
"""

_RELEASE = f"""
local tkey = ARGV[1] .. ':t:' .. ARGV[2]
if redis.call('HGET', tkey, 'w') ~= ARGV[3] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', tkey, 'w')
local phone = redis.call('HGET', tkey, 'p')
if phone then
  {_LOCK_KEY}
  if redis.call('GET', lock) == ARGV[2] then redis.call('DEL', lock) end
end
if ARGV[4] == '' then
  redis.call('DEL', tkey)
else
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
end
return 1
"""

_RENEW = """
local n = 0
for i = 4, #ARGV do
  local tkey = ARGV[1] .. ':t:' .. ARGV[i]
  if redis.call('HGET', tkey, 'w') == ARGV[2] then
    redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[i])
    n = n + 1
  end
end
return n
"""

_PUT = """
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end
redis.call('HSET', ARGV[1] .. ':t:' .. ARGV[2], 'p', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
return 1
"""

_DROP = """
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('DEL', ARGV[1] .. ':t:' .. ARGV[2])
return 1
"""


class RedisSchedule:
    """The due/lease sets. Times are epoch seconds of the injected business clock."""

    def __init__(self, redis: aioredis.Redis, keys: DialerKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._claim = redis.register_script(_CLAIM)
        self._take_over = redis.register_script(_TAKE_OVER)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)
        self._put = redis.register_script(_PUT)
        self._drop = redis.register_script(_DROP)

    @property
    def _sets(self) -> list[str]:
        return [self.keys.due, self.keys.leases]

    async def put(self, task_id: int, phone: str, due: float) -> bool:
        """Schedule (or move) a task that is not leased; False when it is leased right now."""
        result = await self._put(keys=self._sets, args=[self.keys.prefix, task_id, phone.strip(), due])
        return bool(result)

    async def put_many(self, items: Sequence[tuple[int, str, float]]) -> None:
        """Bulk load (reconcile, benchmarks): no lease check."""
        pipe = self.redis.pipeline(transaction=False)
        for task_id, phone, _ in items:
            pipe.hset(self.keys.task(task_id), "p", phone.strip())
        pipe.zadd(self.keys.due, {str(task_id): due for task_id, _, due in items})
        await pipe.execute()

    async def drop(self, task_id: int) -> bool:
        return bool(await self._drop(keys=self._sets, args=[self.keys.prefix, task_id]))

    async def claim(
        self,
        *,
        now: float,
        lease_until: float,
        limit: int,
        worker: str,
        lock_ms: int,
        busy_delay: float,
    ) -> list[int]:
        """Take up to ``limit`` due tasks for ``worker``, atomically."""
        if limit <= 0:
            return []
        ids = await self._claim(
            keys=self._sets,
            args=[self.keys.prefix, now, lease_until, limit, worker, lock_ms, busy_delay],
        )
        return [int(i) for i in ids]

    async def expired(self, now: float, limit: int = 100) -> list[int]:
        ids: Any = await self.redis.zrangebyscore(self.keys.leases, "-inf", now, start=0, num=limit)
        return [int(i) for i in ids]

    async def take_over(
        self, task_id: int, *, worker: str, now: float, lease_until: float, lock_ms: int
    ) -> bool:
        """Recover a task whose lease expired (its worker presumed dead)."""
        result = await self._take_over(
            keys=self._sets, args=[self.keys.prefix, task_id, now, lease_until, worker, lock_ms]
        )
        return bool(result)

    async def release(self, task_id: int, *, worker: str, due: float | None) -> bool:
        """End this worker's lease: back to the due set at ``due``, or out of the schedule."""
        result = await self._release(
            keys=self._sets, args=[self.keys.prefix, task_id, worker, "" if due is None else due]
        )
        return bool(result)

    async def renew(self, task_ids: Sequence[int], *, worker: str, lease_until: float) -> int:
        if not task_ids:
            return 0
        result: Any = await self._renew(
            keys=self._sets, args=[self.keys.prefix, worker, lease_until, *task_ids]
        )
        return int(result)

    async def score(self, task_id: int) -> float | None:  # for tests and tools
        value: Any = await self.redis.zscore(self.keys.due, str(task_id))
        return None if value is None else float(value)

    async def leased(self, task_id: int) -> bool:
        return await self.redis.zscore(self.keys.leases, str(task_id)) is not None

    async def owner(self, task_id: int) -> str | None:
        value: Any = await self.redis.hget(self.keys.task(task_id), "w")
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def pending(self) -> int:
        return int(await self.redis.zcard(self.keys.due))
