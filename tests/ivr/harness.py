"""Drive Minhu's IVR server with the simulator's FastAGI client (Asterisk's side) over loopback.

Every prompt of the catalogue lasts ``PROMPT_SECONDS`` of call time; any other name is missing
(``200 result=-1``), as on an Asterisk without that sound file. Call time runs at ``SCALE``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from structlog.testing import LogCapture

from ivr.boot import load_checked_flows, routes
from ivr.callbacks import CallbackRequests, InMemoryCallbackRequests
from ivr.engine import IvrServices, StaticCalendar
from ivr.hours import ServiceHours
from ivr.orders import InMemoryOrderStatusLookup, OrderStatusLookup
from ivr.prompts import load_catalogue
from ivr.server import IvrServer
from ivr.settings import IvrSettings
from ivr.waiting import FixedWait
from minhu.calendar_source import build_calendar
from pbx.simulator.citizen import CallClock, CitizenScript, Keypad
from pbx.simulator.fastagi_client import FastAgiSession, SoundLibrary, agi_environment
from workorders.clock import SHANGHAI, FixedClock

SCALE = 0.002
PROMPT_SECONDS = 2.0
CALLER = "13800138000"
SOUNDS = SoundLibrary({name: PROMPT_SECONDS for name in load_catalogue().texts}, default=None)
CALENDAR = build_calendar()
WEDNESDAY_10AM = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)


class SimChannel:
    """The AMI side of one AGI session (what the dialplan would see)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.environment = env
        self.hung_up = asyncio.Event()
        self.variables: dict[str, str] = {}

    def command_started(self, command_id: str, command: str) -> None:
        pass

    def command_ended(self, command_id: str, command: str, result_code: str, result: str) -> None:
        pass

    def get_variable(self, name: str) -> str | None:
        return self.variables.get(name)

    def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    def answer(self) -> None:
        pass

    def hangup(self) -> None:
        self.hung_up.set()


@dataclass
class CallResult:
    session: FastAgiSession
    channel: SimChannel

    @property
    def commands(self) -> list[str]:
        return [command for command, _ in self.session.result.commands]

    @property
    def played(self) -> list[str]:
        """Prompt names of STREAM FILE / GET DATA, in order."""
        out = []
        for command in self.commands:
            words = command.split()
            if command.startswith(("STREAM FILE", "GET DATA")):
                out.append(words[2])
        return out

    @property
    def variables(self) -> dict[str, str]:
        return self.channel.variables


@dataclass
class Ivr:
    server: IvrServer
    orders: OrderStatusLookup
    callbacks: CallbackRequests
    clock: FixedClock
    logs: list[dict[str, Any]] = field(default_factory=list)

    async def call(
        self,
        script: CitizenScript,
        *,
        path: str = "ivr?did=12345",
        caller: str = CALLER,
        sounds: SoundLibrary = SOUNDS,
        dead_socket_limit: float = 5.0,
    ) -> CallResult:
        url = f"agi://127.0.0.1:{self.server.port}/{path}"
        env = agi_environment(
            url,
            "PJSIP/carrier-00000001",
            "1795360958.35",
            caller,
            "赵六",
            "minhu-citizen-entry",
            "12345",
            7,
            "PJSIP",
            language="zh",
            dnid="12345",
        )
        channel = SimChannel(env)
        session = FastAgiSession(
            url,
            channel,
            CallClock(SCALE),
            Keypad.of(script),
            script.hangup_at,
            sounds=sounds,
            dead_socket_limit=dead_socket_limit,
        )
        async with asyncio.timeout(10):
            await session.run()
        return CallResult(session, channel)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.logs if e.get("event") == name]


@contextlib.contextmanager
def captured_logs() -> Any:
    capture = LogCapture()
    old = structlog.get_config()
    structlog.configure(processors=[capture], cache_logger_on_first_use=False)
    try:
        yield capture.entries
    finally:
        structlog.configure(**old)


@contextlib.asynccontextmanager
async def running_ivr(
    *,
    orders: OrderStatusLookup | None = None,
    callbacks: CallbackRequests | None = None,
    wait_s: float | None = 30.0,
    at: datetime = WEDNESDAY_10AM,
    hours: ServiceHours | None = None,
) -> AsyncIterator[Ivr]:
    clock = FixedClock(at)
    services = IvrServices(
        orders=orders or InMemoryOrderStatusLookup(),
        callbacks=callbacks or InMemoryCallbackRequests(),
        wait=FixedWait(wait_s),
        calendar=StaticCalendar(CALENDAR),
        clock=clock,
        tz=SHANGHAI,
        hours=hours or ServiceHours(),
    )
    flows = load_checked_flows(IvrSettings(_env_file=None))  # type: ignore[call-arg]
    server = IvrServer(routes(flows, services), host="127.0.0.1", port=0)
    with captured_logs() as logs:
        await server.start()
        try:
            yield Ivr(server, services.orders, services.callbacks, clock, logs)
        finally:
            await server.stop(drain_s=2.0)
