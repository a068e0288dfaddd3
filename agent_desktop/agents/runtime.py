"""The PBX side of an API process, wired into the app's lifespan (the composition root's part).

Each process holds one long-lived ``AmiConnection`` (its actions: sign-in, pauses, transfers,
three-party calls) and a ``DesktopHub`` (its websockets, fed from Redis). One process of the set
is the leader, elected with a Redis key that expires: it publishes its model on Redis
(``PbxNotifier``) and runs the wrap-up timers, so that N workers publish once and pause once.
Telephony is off when ``MINHU_AMI_HOST`` / ``MINHU_AMI_SECRET`` are unset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from minhu.settings import Settings
from pbx.manager import AmiConnection, AmiSettings
from pbx.notifier import PbxNotifier
from pbx.three_party import ThreePartyService

from .hub import DesktopHub, SessionScope
from .service import AgentService
from .wrapup import WrapUp

log = logging.getLogger(__name__)

LEADER_TTL = 6.0


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """Knobs tests turn (the defaults suit production)."""

    join_timeout: float = 10.0
    alone_grace: float = 1.0
    connect_within: float = 5.0


class PbxRuntime:
    def __init__(
        self,
        settings: Settings,
        session_scope: SessionScope,
        *,
        ami_settings: AmiSettings | None = None,
        options: RuntimeOptions = RuntimeOptions(),
    ) -> None:
        if ami_settings is None:
            assert settings.ami_host and settings.ami_secret is not None
            ami_settings = AmiSettings(
                host=settings.ami_host,
                port=settings.ami_port,
                username=settings.ami_username,
                secret=settings.ami_secret.get_secret_value(),
            )
        self.settings = settings
        self.options = options
        self.prefix = settings.pbx_redis_prefix
        self.redis: aioredis.Redis = aioredis.Redis.from_url(settings.redis_url)
        self.ami = AmiConnection(ami_settings)
        self.three_party = ThreePartyService(
            self.ami,
            join_timeout=options.join_timeout,
            unit_ring_timeout=settings.three_party_ring_seconds,
            alone_grace=options.alone_grace,
        )
        self.agents = AgentService(self.ami, self.three_party)
        self.hub = DesktopHub(
            self.redis,
            prefix=self.prefix,
            session_scope=session_scope,
            tz=settings.tz,
            service_level=settings.queue_service_level_seconds,
            snapshot_extra=self._snapshot_extra,
        )
        self.wrapup = WrapUp(self.ami, settings.agent_wrapup_seconds, self.hub.notify)
        self.notifier: PbxNotifier | None = None
        self.leader = False
        self._id = uuid.uuid4().hex
        self._lead_task: asyncio.Task[None] | None = None
        self._stopped = False
        self.ami.on_changes(self._publish)

    def _publish(self, changes: list[Any]) -> None:
        if self.leader and self.notifier is not None:
            self.notifier.publish_changes(changes)
            self.hub.apply(changes, time.time())  # the leader's desktop reads its own model

    def _snapshot_extra(self, username: str) -> dict[str, Any]:
        call = self.agents.three_party_call(username)
        return {
            "three_party": call.to_public_dict() if call is not None else None,
            "wrapup_seconds": self.settings.agent_wrapup_seconds,
        }

    @property
    def leader_key(self) -> str:
        return f"{self.prefix}:leader"

    async def start(self) -> None:
        await self.hub.start()
        await self.ami.start()
        with contextlib.suppress(TimeoutError):
            await self.ami.wait_connected(self.options.connect_within)
        if not self.ami.is_connected:
            log.warning("AMI not connected yet; the desktop will follow once it is")
        self._lead_task = asyncio.create_task(self._lead(), name="pbx-leader")

    async def stop(self) -> None:
        """Step down and close everything; a second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        if self._lead_task is not None:
            self._lead_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lead_task
        await self._step_down()
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            async with asyncio.timeout(1.0):
                if (await self.redis.get(self.leader_key)) == self._id.encode():
                    await self.redis.delete(self.leader_key)
        await self.wrapup.aclose()
        await self.three_party.aclose()
        await self.hub.stop()
        await self.ami.stop()
        await self.redis.aclose()

    async def _lead(self) -> None:
        """Hold (or try to take) the leader key; renew it every third of its lifetime."""
        ttl_ms = int(LEADER_TTL * 1000)
        while True:
            try:
                async with asyncio.timeout(2.0):
                    mine = await self.redis.set(self.leader_key, self._id, nx=True, px=ttl_ms)
                    if not mine:
                        holder = await self.redis.get(self.leader_key)
                        mine = holder == self._id.encode()
                        if mine:
                            await self.redis.pexpire(self.leader_key, ttl_ms)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("PBX leader key unreachable on Redis (%s)", exc)
                mine = False
            if mine and not self.leader:
                await self._take_lead()
            elif not mine and self.leader:
                await self._step_down()
            await asyncio.sleep(LEADER_TTL / 3)

    async def _take_lead(self) -> None:
        log.info("this process publishes the PBX state and runs wrap-up (leader)")
        self.notifier = PbxNotifier(self.redis, model=self.ami.model, prefix=self.prefix)
        self.leader = True
        await self.notifier.start()
        self.hub.follow_model(self.ami.model)
        self.wrapup.activate()

    async def _step_down(self) -> None:
        if not self.leader:
            return
        self.leader = False
        if not self._stopped:
            self.hub.follow_redis()
        self.wrapup.deactivate()
        if self.notifier is not None:
            await self.notifier.stop()
            self.notifier = None
