"""The dialer's process (``minhu dialer run``): the composition root and the intake loop.

:class:`DialerProcess` runs, on one event loop:

* at start, :meth:`TaskIntake.reconcile` (tasks Redis lost go back into the schedule) and a first
  look for replied orders;
* :meth:`Dialer.run` — claims due tasks and places the calls;
* the intake loop — :meth:`TaskIntake.poll_replied` every ``intake_interval`` and
  :meth:`TaskIntake.consume_callbacks` every ``callbacks_interval``; a failed pass is logged and
  tried again on the next one (a database or Redis blip does not end the process).

When ``stop`` is set (SIGTERM or SIGINT in :func:`serve`) the intake stops first, then the dialer
stops claiming, lets the calls in progress finish within ``drain_timeout`` and cancels the rest
(their leases expire; the next dialer resolves them as after a crash). If the dialer's loop itself
dies, the process ends with that error so that its supervisor (systemd) restarts it.

:func:`serve` builds everything from :class:`minhu.settings.Settings`: the database, Redis, the AMI
connection (inbound-queue load from its call model), the policy profile and the calendar.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from minhu.policy import load_profile
from minhu.services.calendar import CalendarProvider
from minhu.settings import Settings
from pbx.manager import AmiConnection, AmiSettings
from workorders.clock import Clock, SystemClock
from workorders.policy import PolicyProfile

from .dialer import Dialer
from .intake import TaskIntake
from .pacing import QueueCallersLoad
from .settings import DialerSettings, dialer_settings
from .store import SessionScope, session_scope

log = logging.getLogger(__name__)

AMI_CONNECT_WITHIN = 10.0
INTAKE_STOP_WITHIN = 30.0
"""Seconds the intake's pass under way may take to finish on a stop before it is cancelled."""


@dataclass
class DialerProcess:
    dialer: Dialer
    intake: TaskIntake

    @property
    def settings(self) -> DialerSettings:
        return self.dialer.settings

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set; then intake off, calls drained with a deadline, the rest cancelled."""
        restored = await self.intake.reconcile()
        if restored:
            log.warning("revisit dialer: %d tasks restored to the Redis schedule", restored)
        dialer_stop = asyncio.Event()
        intake_stop = asyncio.Event()
        dialer_task = asyncio.create_task(self.dialer.run(dialer_stop), name="revisit-dialer")
        intake_task = asyncio.create_task(self._intake_loop(intake_stop), name="revisit-intake")
        stop_task = asyncio.create_task(stop.wait(), name="revisit-stop")
        try:
            await asyncio.wait({dialer_task, intake_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # 1. no new tasks come in: the pass under way ends (it is short), or is cancelled
            stop_task.cancel()
            intake_stop.set()
            await asyncio.wait({intake_task}, timeout=INTAKE_STOP_WITHIN)
            while not intake_task.done():
                intake_task.cancel()
                await asyncio.wait({intake_task}, timeout=1.0)
            await asyncio.gather(stop_task, intake_task, return_exceptions=True)
            # 2. no new calls; the calls in progress finish within drain_timeout, then are cancelled
            dialer_stop.set()
            await asyncio.wait({dialer_task}, timeout=self.settings.drain_timeout + 5.0)
            if not dialer_task.done():  # a tick stuck on Redis or the database
                dialer_task.cancel()
                await asyncio.gather(dialer_task, return_exceptions=True)
        if not stop.is_set():
            if not dialer_task.cancelled() and dialer_task.exception() is not None:
                raise RuntimeError("the revisit dialer's loop failed") from dialer_task.exception()
            raise RuntimeError("the revisit dialer stopped by itself")

    async def _intake_loop(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while not stop.is_set():
            if loop.time() >= next_poll:
                await _guarded("replied-order poll", self.intake.poll_replied)
                next_poll = loop.time() + self.settings.intake_interval
            if stop.is_set():
                return
            await _guarded("call-back requests", self.intake.consume_callbacks)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.callbacks_interval):
                    await stop.wait()


async def _guarded(what: str, step: Callable[[], Awaitable[int]]) -> None:
    try:
        done = await step()
    except Exception as exc:  # one failed pass must not end the process: logged, tried again
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # a driver turned our cancellation into its own error: it must still cancel us
            raise asyncio.CancelledError from exc
        log.exception("revisit intake: %s failed; trying again on the next pass", what)
        return
    if done:
        log.info("revisit intake: %s: %d", what, done)


def build_process(
    settings: DialerSettings,
    *,
    redis: aioredis.Redis,
    ami: AmiConnection,
    sessions: SessionScope,
    clock: Clock,
    policy: PolicyProfile,
    calendars: CalendarProvider | None = None,
    worker: str | None = None,
) -> DialerProcess:
    """The dialer and its intake over given connections (the wiring :func:`serve` uses)."""
    calendars = calendars or CalendarProvider()
    dialer = Dialer(
        redis=redis,
        ami=ami,
        sessions=sessions,
        clock=clock,
        policy=policy,
        calendars=calendars,
        settings=settings,
        inbound=QueueCallersLoad(ami.model),
        worker=worker,
    )
    intake = TaskIntake(
        redis=redis,
        sessions=sessions,
        clock=clock,
        policy=policy,
        calendars=calendars,
        settings=settings,
        consumer=dialer.worker,
    )
    return DialerProcess(dialer=dialer, intake=intake)


def ami_settings(settings: Settings) -> AmiSettings:
    if not settings.ami_enabled:
        raise ValueError("MINHU_AMI_HOST and MINHU_AMI_SECRET must be set for the revisit dialer")
    assert settings.ami_host is not None and settings.ami_secret is not None
    return AmiSettings(
        host=settings.ami_host,
        port=settings.ami_port,
        username=settings.ami_username,
        secret=settings.ami_secret.get_secret_value(),
    )


async def serve(
    settings: Settings,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    worker: str | None = None,
    handle_signals: bool = True,
) -> None:
    """The whole process from settings, until SIGTERM/SIGINT (or ``stop``)."""
    from minhu.db.engine import create_engine, create_session_factory

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, _stopper(stop, sig))
                installed.append(sig)
    engine = create_engine(settings.database_url)
    redis = aioredis.from_url(settings.redis_url)
    ami = AmiConnection(ami_settings(settings))
    try:
        await ami.start()
        try:
            await ami.wait_connected(AMI_CONNECT_WITHIN)
        except TimeoutError:
            log.warning("revisit dialer: AMI not connected yet; no calls until it is")
        process = build_process(
            dialer_settings(settings),
            redis=redis,
            ami=ami,
            sessions=session_scope(create_session_factory(engine)),
            clock=clock or SystemClock(settings.tz),
            policy=load_profile(settings.policy_profile, settings.policy_overrides),
            worker=worker,
        )
        log.info(
            "revisit dialer %s: policy %s, redis prefix %s, %d channels, %d calls/min",
            process.dialer.worker,
            process.dialer.policy.name,
            process.settings.redis_prefix,
            process.settings.max_channels,
            process.settings.calls_per_minute,
        )
        await process.run(stop)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await ami.stop()
        await redis.aclose()
        await engine.dispose()


def _stopper(stop: asyncio.Event, sig: signal.Signals) -> Callable[[], None]:
    def handler() -> None:
        if not stop.is_set():
            log.info("revisit dialer: %s received; stopping", sig.name)
        stop.set()

    return handler
