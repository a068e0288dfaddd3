"""The dialer's rig: the simulated PBX (AMI, and the answered-originate survey over a real FastAGI
socket to the IVR's server with the survey mounted), real Redis under a private prefix, the test
database session and an injected clock."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callback_dialer.dialer import Dialer
from callback_dialer.intake import TaskIntake
from callback_dialer.pacing import InboundLoad
from callback_dialer.schedule import DialerKeys
from callback_dialer.settings import DialerSettings
from callback_dialer.store import DialerStore
from callback_dialer.survey import SurveyConfig
from ivr.server import IvrServer
from ivr.survey import survey_routes
from minhu.db.dialer_models import RevisitAttemptRow, RevisitTaskRow
from minhu.db.models import Unit
from minhu.policy import load_profile
from minhu.services.calendar import CalendarProvider
from minhu.services.workorders import WorkOrderService
from pbx.manager import AmiConnection, AmiSettings
from pbx.simulator.scenarios import Behaviour, RingsOut, Scenario
from pbx.simulator.server import AmiSimulator, SimulatorSettings
from workorders.clock import SHANGHAI, FixedClock
from workorders.enums import Category, Channel, ContactPurpose, RequestKind, Role
from workorders.model import Actor, Citizen, WorkOrder
from workorders.policy import PolicyProfile

REDIS_URL = os.environ.get("MINHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SCALE = 0.005

AGENT = Actor("agent-1", Role.INTAKE_AGENT, name="王受理")
SUPERVISOR = Actor("sup-1", Role.SUPERVISOR, name="李班长")


def at(text: str) -> datetime:
    """A Shanghai time from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@asynccontextmanager
async def ivr_server(redis: aioredis.Redis, prefix: str) -> AsyncIterator[IvrServer]:
    """The IVR's FastAGI server with the survey mounted as in production (``survey?revisit=...``
    routed by its path)."""
    server = IvrServer(survey_routes(redis, prefix, SurveyConfig()))
    await server.start()
    try:
        yield server
    finally:
        await server.stop(drain_s=5.0)


@dataclass
class Rig:
    clock: FixedClock
    policy: PolicyProfile
    calendars: CalendarProvider
    session: AsyncSession
    redis: aioredis.Redis
    settings: DialerSettings
    simulator: AmiSimulator
    ami: AmiConnection
    ami_port: int
    agi: IvrServer
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    unit_id: int = 0
    connections: list[AmiConnection] = field(default_factory=list)

    @property
    def keys(self) -> DialerKeys:
        return DialerKeys(self.settings.redis_prefix)

    def sessions(self) -> AbstractAsyncContextManager[AsyncSession]:
        """Every unit of work on the test's one session, one at a time."""

        @asynccontextmanager
        async def scope() -> AsyncIterator[AsyncSession]:
            async with self.lock:
                yield self.session

        return scope()

    def dialer(
        self,
        worker: str = "dialer-a",
        *,
        ami: AmiConnection | None = None,
        inbound: InboundLoad | None = None,
        **overrides: object,
    ) -> Dialer:
        settings = replace(self.settings, **overrides) if overrides else self.settings  # type: ignore[arg-type]
        return Dialer(
            redis=self.redis,
            ami=ami or self.ami,
            sessions=self.sessions,
            clock=self.clock,
            policy=self.policy,
            calendars=self.calendars,
            settings=settings,
            inbound=inbound,
            worker=worker,
        )

    def intake(self) -> TaskIntake:
        return TaskIntake(
            redis=self.redis,
            sessions=self.sessions,
            clock=self.clock,
            policy=self.policy,
            calendars=self.calendars,
            settings=self.settings,
        )

    async def new_ami(self) -> AmiConnection:
        """Another process's AMI connection to the same PBX."""
        connection = AmiConnection(
            AmiSettings(
                "127.0.0.1", self.ami_port, "hotline", "hotline-secret", ping_interval=60, action_timeout=5
            )
        )
        await connection.start()
        await connection.wait_connected(5)
        self.connections.append(connection)
        return connection

    def behave(self, *rules: tuple[str, Behaviour]) -> None:
        """How each citizen's phone behaves from now on: (phone number, behaviour)."""
        destinations = tuple((f"Local/{phone}@minhu-dial-citizen*", b) for phone, b in rules)
        self.simulator.engine.scenario = replace(self.simulator.engine.scenario, destinations=destinations)

    def dials_to(self, phone: str) -> int:
        return sum(
            1
            for call in self.simulator.engine.calls
            if call.channel is not None and call.channel.name.startswith(f"Local/{phone}@")
        )

    # -- orders ----------------------------------------------------------------------------

    def service(self) -> WorkOrderService:
        return WorkOrderService(self.session, clock=self.clock, policy=self.policy, calendars=self.calendars)

    async def replied_order(self, phone: str, replied_at: datetime) -> str:
        """An order registered, assigned, handled and replied at ``replied_at``."""
        self.clock.set(replied_at)
        async with self.lock:
            if not self.unit_id:
                unit = Unit(
                    code=f"u-{uuid.uuid4().hex[:8]}",
                    name="新华区",
                    assessment_group="district",
                    phone="",
                    active=True,
                    created_at=replied_at,
                )
                self.session.add(unit)
                await self.session.flush()
                self.unit_id = unit.id
            service = self.service()
            view = await service.register(
                AGENT,
                channel=Channel.PHONE,
                kind=RequestKind.COMPLAINT,
                category=Category.B,
                content="建设路占道经营严重",
                citizen=Citizen(name="王女士", phone=phone),
                received_at=None,
            )
            number = view.order.number
            handler = Actor("h-1", Role.UNIT_HANDLER, unit_id=str(self.unit_id), name="张承办")
            await service.assign(number, SUPERVISOR, lead_unit_id=str(self.unit_id))
            await service.check_in(number, handler)
            await service.record_contact(
                number, handler, purpose=ContactPurpose.RESULT_FEEDBACK, method="phone", note="已联系"
            )
            await service.reply(
                number, handler, content="已处理完毕", handler_name="刘洋", handler_phone="13903752001"
            )
        return number

    async def order(self, number: str) -> WorkOrder:
        async with self.lock:
            return (await self.service().get(number, SUPERVISOR)).order

    async def task_of(self, number: str) -> RevisitTaskRow:
        async with self.lock:
            stmt = select(RevisitTaskRow).where(RevisitTaskRow.order_number == number)
            task = (
                (await self.session.execute(stmt.execution_options(populate_existing=True))).scalars().one()
            )
            return task

    async def attempts(self, number: str) -> list[RevisitAttemptRow]:
        task = await self.task_of(number)
        async with self.lock:
            rows = await DialerStore(self.session).attempts_of(task.id)
            for row in rows:
                await self.session.refresh(row)
            return rows

    async def due_at(self, number: str) -> datetime | None:
        task = await self.task_of(number)
        score = await self.redis.zscore(self.keys.due, str(task.id))
        return None if score is None else datetime.fromtimestamp(float(score), tz=SHANGHAI)

    async def step(self, dialer: Dialer) -> int:
        """One tick and every call it started, to the end."""
        started = await dialer.tick()
        await dialer.drain()
        return started

    async def run_until_settled(self, dialer: Dialer, number: str, limit: int = 80) -> None:
        """Move the clock to each due time and let the dialer work until the task leaves the schedule."""
        for _ in range(limit):
            due = await self.due_at(number)
            if due is None:
                return
            if due > self.clock.now():
                self.clock.set(due)
            await self.step(dialer)
        raise AssertionError("the task never settled")


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def rig(db_session: AsyncSession, redis_client: aioredis.Redis) -> AsyncIterator[Rig]:
    prefix = f"minhu-test:dialer:{uuid.uuid4().hex[:10]}"
    settings = DialerSettings(
        redis_prefix=prefix,
        callbacks_stream=f"{prefix}:callbacks",
        ring_timeout=45.0,
        survey_timeout=10.0,
        job_timeout=20.0,
        poll_interval=0.01,
        calls_per_minute=60_000,
        bucket_burst=200,
    )
    clock = FixedClock(at("2026-11-24 09:00"))
    async with ivr_server(redis_client, prefix) as agi:
        simulator = AmiSimulator(
            None,
            SimulatorSettings(time_scale=SCALE),
            scenario=Scenario(default_behaviour=RingsOut()),
            agi_server=agi.address,
        )
        port = await simulator.start()
        ami = AmiConnection(
            AmiSettings("127.0.0.1", port, "hotline", "hotline-secret", ping_interval=60, action_timeout=5)
        )
        await ami.start()
        rig = Rig(
            clock=clock,
            policy=load_profile("pingdingshan-2022"),
            calendars=CalendarProvider(),
            session=db_session,
            redis=redis_client,
            settings=settings,
            simulator=simulator,
            ami=ami,
            ami_port=port,
            agi=agi,
        )
        try:
            await ami.wait_connected(5)
            yield rig
        finally:
            for connection in [ami, *rig.connections]:
                await connection.stop()
            await simulator.stop()
            keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*", count=1000)]
            if keys:
                await redis_client.delete(*keys)
