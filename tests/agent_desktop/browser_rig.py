"""The end-to-end rig of the browser tests: Minhu's IVR (FastAGI) server, the PBX simulator playing
citizens through it, the API under uvicorn with its PBX runtime, and a headless Chromium driven by
Playwright.

The live simulator answers Originate, Hangup and the queue actions from its ``ScenarioEngine``;
``ConfBridgeRooms`` adds what a three-party call needs on top of it (``Setvar``, the dual
``Redirect`` into ``minhu-threeparty,<room>,1``, a unit's originate into the room, and
``ConfbridgeKick``), with the events the recordings ``c-three-party-confbridge`` show:
``ConfbridgeStart``/``Join``/``Leave``/``End`` built from the recorded layouts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from agent_desktop.agents.runtime import PbxRuntime
from minhu.settings import Settings
from pbx.ami_protocol import AmiMessage
from pbx.dialplan_names import THREE_PARTY_CONTEXT, THREE_PARTY_ROLE_VARIABLE
from pbx.simulator.scenarios import App, Scenario, default_dialplan
from pbx.simulator.server import AmiSimulator, SimulatorSettings
from pbx.simulator.templates import build_event
from pbx.simulator.world import SimBridge, SimChannel
from workorders.clock import FixedClock

from ..api.city import City, build_city
from ..ivr.harness import SOUNDS, running_ivr
from .desk import api_worker, eventually, on_simulator, shared_session

CHROMIUM = os.environ.get("MINHU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
TIME_SCALE = 0.02
"""Call time runs 50 times faster than real time (a 2 s prompt lasts 40 ms)."""


def require_browser() -> None:
    """Fail (not skip) when the browser or Playwright is missing: ``make test`` installs both."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make test` (scripts/ensure-browser.sh installs "
            "Debian's chromium and fonts-noto-cjk), or set MINHU_CHROMIUM to a Chromium binary",
            pytrace=False,
        )
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.fail(
            "the Python package playwright is missing: run `make test` (installs the dev extras), "
            "or `.venv/bin/pip install playwright` — never `playwright install`, the tests use "
            f"{CHROMIUM}",
            pytrace=False,
        )


# --- three-party rooms on the live simulator ---------------------------------------------------


class ConfBridgeRooms:
    """ConfBridge on the live simulator, for three-party calls (installed over ``LiveActions``)."""

    def __init__(self, simulator: AmiSimulator) -> None:
        self.simulator = simulator
        self.world = simulator.world
        self.engine = simulator.engine
        self.rooms: dict[str, SimBridge] = {}
        self._live = simulator.live.handle
        simulator.live.handle = self.handle  # type: ignore[method-assign]

    def members(self, room: str) -> set[str]:
        bridge = self.rooms.get(room)
        return {c.name for c in bridge.channels} if bridge is not None else set()

    def handle(self, action: AmiMessage, reply: list[tuple[str, str]], send: Any) -> bool:
        name = action.value("Action").lower()
        if name == "setvar" and action.value("Channel"):
            channel = self.world.channel_named(action.value("Channel"))
            if channel is None:
                self._respond(send, reply, False, "No such channel")
            else:
                self.world.varset(channel, action.value("Variable"), action.value("Value"))
                self._respond(send, reply, True, "Variable Set")
            return True
        if name == "redirect" and action.value("Context") == THREE_PARTY_CONTEXT:
            self._redirect(action, reply, send)
            return True
        if name == "originate" and action.value("Context") == THREE_PARTY_CONTEXT:
            self._originate(action, reply, send)
            return True
        if name == "confbridgekick":
            self._kick(action, reply, send)
            return True
        return self._live(action, reply, send)

    @staticmethod
    def _respond(send: Any, reply: list[tuple[str, str]], ok: bool, message: str) -> None:
        send(AmiMessage((("Response", "Success" if ok else "Error"), *reply, ("Message", message))))

    def _redirect(self, action: AmiMessage, reply: list[tuple[str, str]], send: Any) -> None:
        names = [action.value("Channel"), action.value("ExtraChannel")]
        channels = [self.world.channel_named(n) for n in names if n]
        if not channels or any(c is None for c in channels):
            self._respond(send, reply, False, "Channel does not exist")
            return
        self._respond(
            send, reply, True, "Dual Redirect successful" if len(channels) == 2 else "Redirect successful"
        )
        room = action.value("Exten")
        for channel in channels:
            assert channel is not None
            bridge = channel.bridge
            self.world.leave_bridge(channel)
            if bridge is not None and not bridge.channels:
                self.world.destroy_bridge(bridge)
            self._enter(room, channel)

    def _enter(self, room: str, channel: SimChannel) -> None:
        self.world.newexten(channel, "ConfBridge", room, context=THREE_PARTY_CONTEXT, exten=room, priority=1)
        bridge = self.rooms.get(room)
        if bridge is None:
            bridge = self.rooms[room] = SimBridge(str(uuid.uuid4()), "base", "softmix")
            self.world.publish(build_event("ConfbridgeStart", {**bridge.snapshot(), "Conference": room}))
        bridge.channels.append(channel)
        values = {**channel.snapshot(), **bridge.snapshot(), "Conference": room, "Admin": "No", "Muted": "No"}
        self.world.publish(build_event("ConfbridgeJoin", values))

    def _leave(self, room: str, channel: SimChannel) -> None:
        bridge = self.rooms[room]
        bridge.channels.remove(channel)
        values = {**channel.snapshot(), **bridge.snapshot(), "Conference": room, "Admin": "No"}
        self.world.publish(build_event("ConfbridgeLeave", values))
        if not bridge.channels:
            del self.rooms[room]
            self.world.publish(build_event("ConfbridgeEnd", {**bridge.snapshot(), "Conference": room}))

    def _originate(self, action: AmiMessage, reply: list[tuple[str, str]], send: Any) -> None:
        """The unit's phone: rung by the ScenarioEngine (Answers / RingsOut by its number); once
        answered, its leg enters the room (``minhu-threeparty,<room>,1`` is ConfBridge)."""
        self._respond(send, reply, True, "Originate successfully queued")
        room = action.value("Exten")

        def response(values: dict[str, str]) -> None:
            self.world.publish(build_event("OriginateResponse", values))
            leg = self.world.channels.get(values.get("Uniqueid", ""))
            if values.get("Reason") == "4" and leg is not None:
                self._enter(room, leg)

        self.engine.originate(action, response)

    def _kick(self, action: AmiMessage, reply: list[tuple[str, str]], send: Any) -> None:
        room = action.value("Conference")
        channel = self.world.channel_named(action.value("Channel"))
        bridge = self.rooms.get(room)
        if bridge is None:
            self._respond(send, reply, False, "No Conference by that name found.")
            return
        if channel is None or channel not in bridge.channels:
            self._respond(send, reply, False, "No Channel by that name found in Conference.")
            return
        self._respond(send, reply, True, "User kicked")
        self._leave(room, channel)
        # after ConfBridge() the leg's dialplan ends: hang-up (the citizen's goes on to the rating)
        role = channel.variables.get(THREE_PARTY_ROLE_VARIABLE, "")
        self.world.hangup_request(channel, 16)
        self.world.hangup(channel, 16)
        if channel.peer is not None:
            self.world.hangup(channel.peer, 16)
        if role == "agent":
            self._free_member(channel)

    def _free_member(self, leg: SimChannel) -> None:
        interface = leg.name.rpartition("-")[0]
        for queue in self.world.queues.values():
            member = queue.members.get(interface)
            if member is not None and member.in_call:
                self.engine._member_free(member, queue.name)
                self.engine._avail(queue.name)


# --- the stack -----------------------------------------------------------------------------------


@dataclass
class Stack:
    simulator: AmiSimulator
    rooms: ConfBridgeRooms
    base: str
    http: httpx.AsyncClient
    city: City
    app: Any

    @property
    def runtime(self) -> PbxRuntime:
        runtime: PbxRuntime = self.app.state.pbx
        return runtime

    async def get(self, who: str, path: str) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", headers=self.city.headers(who))

    async def post(self, who: str, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body, headers=self.city.headers(who))


@contextlib.asynccontextmanager
async def stack(
    settings: Settings, clock: FixedClock, db_session: AsyncSession, scenario: Scenario
) -> AsyncIterator[Stack]:
    """IVR server + simulator (its citizens walk the IVR over FastAGI) + the API on loopback."""
    async with running_ivr() as ivr:
        agi = f"127.0.0.1:{ivr.server.port}"
        dialplan = {**default_dialplan(agi), THREE_PARTY_CONTEXT: (App("Wait", "3600"),)}
        scenario = Scenario(
            name=scenario.name,
            calls=scenario.calls,
            members=scenario.members,
            destinations=scenario.destinations,
            default_behaviour=scenario.default_behaviour,
            queue_ring_timeout=scenario.queue_ring_timeout,
            queue_retry=scenario.queue_retry,
            queue_max_wait=scenario.queue_max_wait,
            sounds=SOUNDS,
            dialplan=dialplan,
        )
        simulator = AmiSimulator(
            None,
            SimulatorSettings(time_scale=TIME_SCALE, restart_delay=0.0),
            scenario=scenario,
            agi_server=agi,
        )
        rooms = ConfBridgeRooms(simulator)
        port = await simulator.start()
        settings = on_simulator(settings, port, agent_wrapup_seconds=0.0, three_party_ring_seconds=20.0)
        try:
            async with (
                api_worker(settings, clock, shared_session(db_session)) as (base, app),
                httpx.AsyncClient(base_url=base, timeout=15) as http,
            ):
                city = await build_city(db_session, http, clock, settings)
                s = Stack(simulator, rooms, base, http, city, app)
                await eventually(
                    lambda: s.runtime.ami.is_connected and s.runtime.leader, 10, "PBX runtime up"
                )
                await eventually(lambda: s.runtime.hub.ready.is_set(), 10, "hub following Redis")
                yield s
        finally:
            await simulator.stop()


# --- the browser -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def browser_page(base: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh headless Chromium (own profile directory) and one page; the page's websockets are
    kept on ``window.__minhuSockets`` so that a test can drop them."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000},
            locale="zh-CN",
            base_url=base,
        )
        try:
            await context.add_init_script(
                """
                (() => {
                  const Native = window.WebSocket;
                  window.__minhuSockets = [];
                  window.WebSocket = function (url, protocols) {
                    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
                    window.__minhuSockets.push(socket);
                    return socket;
                  };
                  window.WebSocket.prototype = Native.prototype;
                  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
                })();
                """
            )
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            await context.close()


async def sign_in(page: Any, username: str, password: str, path: str = "/desktop") -> None:
    await page.goto(path)
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#desk:not(.hidden)")
    await page.wait_for_function("document.getElementById('ws-state').textContent === '已连接'")
