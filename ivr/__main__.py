"""``python -m ivr``: the IVR's FastAGI server, built from settings (the composition root).

Boot fails (exit status 2, the problems listed) when a flow or the prompt catalogue is wrong.
Orders are read from Minhu's database, call-back requests appended to Redis, the working-day
calendar is the package's plus the years an administrator loaded; the revisit survey
(``survey?revisit=<id>``) publishes its results under ``MINHU_DIALER_REDIS_PREFIX``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import redis.asyncio as aioredis
import structlog

from ivr.boot import load_checked_flows, routes
from ivr.callbacks import RedisCallbackRequests
from ivr.engine import IvrServices
from ivr.flows import FlowError
from ivr.hours import ServiceHoursError
from ivr.orders import DbOrderStatusLookup, SessionFactory
from ivr.prompts import PromptCatalogueError
from ivr.server import IvrServer
from ivr.settings import IvrSettings
from ivr.survey import survey_routes
from ivr.waiting import FixedWait
from minhu.db.engine import create_engine, create_session_factory
from minhu.logging import configure_logging
from minhu.services.calendar import CalendarProvider
from minhu.settings import Settings
from workorders.calendar import WorkingCalendar
from workorders.clock import SystemClock

log = structlog.get_logger("ivr")


class DbCalendar:
    """The working-day calendar with the administrator's loaded years (cached by the provider)."""

    def __init__(self, provider: CalendarProvider, sessions: SessionFactory) -> None:
        self._provider = provider
        self._sessions = sessions

    async def calendar(self) -> WorkingCalendar:
        async with self._sessions() as session:
            return await self._provider.get(session)


async def main() -> int:
    minhu_settings = Settings()
    configure_logging(minhu_settings.log_level, minhu_settings.log_format)
    settings = IvrSettings()
    try:
        flows = load_checked_flows(settings)
    except (FlowError, PromptCatalogueError, ServiceHoursError) as exc:
        print(exc, file=sys.stderr)
        return 2
    engine = create_engine(minhu_settings.database_url)
    sessions = create_session_factory(engine)
    redis_client = aioredis.from_url(minhu_settings.redis_url)
    services = IvrServices(
        orders=DbOrderStatusLookup(sessions),
        callbacks=RedisCallbackRequests(redis_client, stream=settings.callback_stream),
        wait=FixedWait(None),  # no queue statistics wired yet: never offers a call back
        calendar=DbCalendar(CalendarProvider(), sessions),
        clock=SystemClock(minhu_settings.tz),
        tz=minhu_settings.tz,
        hours=settings.hours(),
    )
    survey = survey_routes(redis_client, minhu_settings.dialer_redis_prefix)
    server = IvrServer(
        routes(flows, services, survey),
        host=settings.host,
        port=settings.port,
        command_timeout_s=settings.command_timeout_s,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop(settings.drain_s)
        await redis_client.aclose()
        await engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
