"""A whole desktop stack on loopback: the PBX simulator, the API under uvicorn (its lifespan runs
the PBX runtime), Redis with a prefix private to the test, and websocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect

from agent_desktop.agents.runtime import PbxRuntime, RuntimeOptions
from agent_desktop.app import create_app
from agent_desktop.deps import get_session
from minhu.settings import Settings
from pbx.ami_protocol import AmiMessage
from pbx.simulator.recording import Recording
from pbx.simulator.scenarios import Scenario
from pbx.simulator.server import AmiSimulator, SimulatorSettings
from workorders.clock import FixedClock

from ..api.city import City, build_city


async def eventually(predicate: Callable[[], object], within: float = 20.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(0.01)


@dataclass
class Socket:
    """One desktop websocket; every message it received, in order."""

    ws: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for text in self.ws:
                self.received.append(json.loads(text))

    def of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [
            m for m in self.received if m["type"] == kind and all(m.get(k) == v for k, v in match.items())
        ]

    async def wait_for(self, kind: str, within: float = 20.0, **match: Any) -> dict[str, Any]:
        await eventually(lambda: self.of(kind, **match), within, f"websocket message {kind} {match}")
        return self.of(kind, **match)[-1]

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await self.reader


@dataclass
class Desk:
    simulator: AmiSimulator
    base: str
    http: httpx.AsyncClient
    city: City
    app: Any
    start_worker: Callable[[], contextlib.AbstractAsyncContextManager[tuple[str, Any]]]
    """Another API worker on the same PBX, Redis prefix and database: (base URL, app)."""

    @property
    def runtime(self) -> PbxRuntime:
        runtime: PbxRuntime = self.app.state.pbx
        return runtime

    def headers(self, who: str) -> dict[str, str]:
        return self.city.headers(who)

    async def post(self, who: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body, headers=self.headers(who))

    async def get(self, who: str, path: str) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", headers=self.headers(who))

    async def socket(self, who: str, base: str | None = None) -> Socket:
        ws = await connect((base or self.base).replace("http://", "ws://") + "/ws/agent", open_timeout=5)
        token = self.headers(who)["Authorization"].removeprefix("Bearer ")
        await ws.send(json.dumps({"type": "auth", "token": token}))
        socket = Socket(ws)
        socket.reader = asyncio.create_task(socket._read())
        await socket.wait_for("hello")
        return socket

    async def queue_member(self, username: str) -> AmiMessage | None:
        """The member as Asterisk's own QueueStatus reports it (not Minhu's model)."""
        reply = await self.runtime.ami.send({"Action": "QueueStatus", "Queue": "citizens"})
        assert isinstance(reply, list)
        return next((m for m in reply if m.event == "QueueMember" and m.value("Name") == username), None)


SessionScope = Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]]


def shared_session(db_session: AsyncSession) -> SessionScope:
    """The one test session as the app's session factory: used by one task at a time
    (re-entrant within a task), so the API's requests and background tasks take turns on it."""
    lock = asyncio.Lock()
    owner: list[asyncio.Task[Any] | None] = [None]

    @contextlib.asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        if owner[0] is asyncio.current_task():
            yield db_session
            return
        async with lock:
            owner[0] = asyncio.current_task()
            try:
                yield db_session
            finally:
                owner[0] = None

    return scope


def on_simulator(settings: Settings, port: int, **update: Any) -> Settings:
    """Settings for an API whose PBX is the simulator on ``port``, with a Redis prefix of its own."""
    return settings.model_copy(
        update={
            "ami_host": "127.0.0.1",
            "ami_port": port,
            "ami_username": "hotline",
            "ami_secret": SecretStr("hotline-secret"),
            "pbx_redis_prefix": f"minhu-test:{uuid.uuid4().hex[:8]}",
            **update,
        }
    )


@contextlib.asynccontextmanager
async def api_worker(
    settings: Settings, clock: FixedClock, scope: SessionScope
) -> AsyncIterator[tuple[str, Any]]:
    """One API worker (uvicorn + the app with its PBX runtime) on loopback: (base URL, app)."""
    app = create_app(settings, clock=clock)
    app.state.pbx_options = RuntimeOptions(join_timeout=3.0, alone_grace=0.05)

    async def the_test_session() -> AsyncIterator[AsyncSession]:
        async with scope() as session:
            yield session

    app.dependency_overrides[get_session] = the_test_session
    app.state.session_factory = scope
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, 30, "uvicorn started")
        api_port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{api_port}", app
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, 10)
        await app.state.engine.dispose()


@contextlib.asynccontextmanager
async def desk(
    settings: Settings,
    clock: FixedClock,
    db_session: AsyncSession,
    *,
    scenario: Scenario | None = None,
    recording: Recording | None = None,
    time_scale: float = 0.02,
    wrapup: float = 0.0,
) -> AsyncIterator[Desk]:
    simulator = AmiSimulator(
        recording, SimulatorSettings(time_scale=time_scale, restart_delay=0.0), scenario=scenario
    )
    port = await simulator.start()
    settings = on_simulator(settings, port, agent_wrapup_seconds=wrapup, three_party_ring_seconds=5.0)
    scope = shared_session(db_session)

    def worker() -> contextlib.AbstractAsyncContextManager[tuple[str, Any]]:
        return api_worker(settings, clock, scope)

    try:
        async with worker() as (base, app), httpx.AsyncClient(base_url=base, timeout=15) as http:
            city = await build_city(db_session, http, clock, settings)
            d = Desk(simulator, base, http, city, app, worker)
            await eventually(lambda: d.runtime.ami.is_connected and d.runtime.leader, 30, "PBX runtime up")
            await eventually(lambda: d.runtime.hub.ready.is_set(), 30, "hub following the PBX")
            yield d
    finally:
        await simulator.stop()
