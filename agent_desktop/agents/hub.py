"""The live desktop: one websocket per signed-in user in this API worker.

Every worker follows the PBX state: the leader (the worker holding the AMI link) reads its own
call model directly, the other workers follow what the leader's ``PbxNotifier`` publishes
(``PbxMirror`` over the ``<prefix>:*`` channels). From that view each derives the desktop facts
(``CallTracker``) and the queue statistics (``QueueStatsTracker``), and pushes to the websockets
it holds: screen pops, call state and agent state to each agent, the wallboard to supervisors.
Events that do not come from the PBX model (wrap-up timers, three-party outcomes) travel on
``<prefix>:desktop``.

Messages (JSON, one per websocket frame), all with ``type``::

    hello        {"user", "role", "snapshot"}            right after authentication
    agent_state  {"agent": AgentView}                    the agent's own state changed
    call         {"event": offered|answered|updated|ended, "call": AgentCall}
    screen_pop   {"call", "earlier_orders": [...], "caller_number_masked", "open_orders"}
    queue        {"stats": QueueStats}                   at most once a second, when changed
    wallboard    {"stats", "agents": [...]}              supervisors only, idem
    wrapup       {"until", "seconds"}
    three_party  {"call": ThreePartyCall public dict, "message"?}
    replaced     {}                                      another tab took over; then closed
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket, WebSocketState

from pbx.call_model import ModelChange, QueueMemberChanged, QueueMemberGone
from pbx.dialplan_names import INBOUND_QUEUE
from pbx.notifier import PbxMessage, PbxMirror

from .calls import (
    AgentCall,
    CallAnswered,
    CallEnded,
    CallFact,
    CallOffered,
    CallTracker,
    CallUpdated,
    PbxView,
)
from .screen_pop import earlier_orders, screen_pop_message
from .state import agent_view
from .stats import QueueStatsTracker

log = logging.getLogger(__name__)

SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]
LIVE_TEXT_TYPES = ("transcript", "kb_suggestions")
SEND_BUFFER = 256
"""Messages a slow websocket may have pending before it is closed (the client reconnects and
restores its view from the snapshot)."""


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(eq=False)
class Connection:
    """One user's websocket; messages go out through a bounded queue, in order."""

    username: str
    role: str
    websocket: WebSocket
    outbox: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(SEND_BUFFER))
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def supervises(self) -> bool:
        return self.role in ("supervisor", "admin")

    def push(self, message: dict[str, Any]) -> None:
        if self.closed.is_set():
            return
        try:
            self.outbox.put_nowait(dumps(message))
        except asyncio.QueueFull:
            log.warning("desktop websocket of %s is too slow; closing it", self.username)
            self.close()

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.put_nowait(None)

    async def pump(self) -> None:
        """Send the outbox until closed (run by the websocket endpoint)."""
        while True:
            text = await self.outbox.get()
            if text is None or self.websocket.client_state is not WebSocketState.CONNECTED:
                return
            await self.websocket.send_text(text)


class DesktopHub:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str,
        session_scope: SessionScope,
        tz: tzinfo,
        service_level: float,
        queue: str = INBOUND_QUEUE,
        snapshot_extra: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.session_scope = session_scope
        self.tz = tz
        self.queue = queue
        self.mirror = PbxMirror(prefix=prefix)
        self.view: PbxView = self.mirror
        """What the desktop reads: the Redis mirror, or the leader's own call model."""
        self.tracker = CallTracker()
        self.stats = QueueStatsTracker(queue, service_level)
        self.connections: dict[str, Connection] = {}
        self.pops: dict[str, dict[str, Any]] = {}
        """The last screen pop of each agent with a call (for a reconnecting websocket)."""
        self.live_text: dict[str, dict[str, dict[str, Any]]] = {}
        """Each agent's last live-transcription messages (``transcript``, ``kb_suggestions``), for a
        websocket that reconnects mid-call (they reach every worker on the desktop bus)."""
        self.last_calls: dict[str, AgentCall] = {}
        """Each agent's last ended call (an order saved during wrap-up still gets its recording)."""
        self.snapshot_extra = snapshot_extra
        self.ready = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._following: asyncio.Task[Any] | None = None
        self._last_queue = ""
        self._last_wallboard = ""

    @property
    def bus_channel(self) -> str:
        return f"{self.prefix}:desktop"

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.view is self.mirror:
            self._following = self._spawn(self._follow(), "desktop-follow")
        for coroutine, name in ((self._listen_bus(), "desktop-bus"), (self._tick(), "desktop-tick")):
            self._spawn(coroutine, name)

    def follow_model(self, model: PbxView) -> None:
        """This worker holds the AMI link (the leader): read its call model directly, fed by
        :meth:`apply` from the model's change hook, instead of the same changes a Redis round
        trip later (a screen pop must not wait for the hop, nor the worker decode twice)."""
        if self._following is not None:
            self._following.cancel()
            self._following = None
        self.view = model
        self._on_reload(model)

    def follow_redis(self) -> None:
        """No longer the leader: follow the mirror again (it reloads the state first)."""
        if self.view is self.mirror and self._following is not None:
            return
        self.view = self.mirror
        self._following = self._spawn(self._follow(), "desktop-follow")

    async def stop(self) -> None:
        for connection in list(self.connections.values()):
            connection.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        async def guarded() -> None:
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("desktop task %s failed", name)

        task = asyncio.get_running_loop().create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _follow(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.mirror.follow(self.redis, self._on_message, self._on_reload)
            except (RedisError, OSError) as exc:
                log.warning(
                    "desktop cannot follow the PBX state on Redis (%s); retrying in %.1f s", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _listen_bus(self) -> None:
        delay = 0.2
        while True:
            try:
                pubsub: Any = self.redis.pubsub(ignore_subscribe_messages=True)
                try:
                    await pubsub.subscribe(self.bus_channel)
                    delay = 0.2
                    while True:
                        raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                        if raw is None or raw.get("type") != "message":
                            continue
                        body = json.loads(raw["data"])
                        to, event = str(body.get("to", "")), body["event"]
                        if event.get("type") in LIVE_TEXT_TYPES:
                            self.live_text.setdefault(to, {})[event["type"]] = event
                        connection = self.connections.get(to)
                        if connection is not None:
                            connection.push(event)
                finally:
                    await pubsub.aclose()
            except (RedisError, OSError) as exc:
                log.warning("desktop bus unreachable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.push_statistics()

    # --- publishing across workers ---------------------------------------------------------

    async def send_to(self, username: str, event: dict[str, Any]) -> None:
        """Deliver ``event`` to ``username``'s websocket, whichever worker holds it."""
        try:
            async with asyncio.timeout(2.0):
                await self.redis.publish(self.bus_channel, dumps({"to": username, "event": event}))
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("desktop event for %s not published (%s)", username, exc)
            connection = self.connections.get(username)
            if connection is not None:
                connection.push(event)

    def notify(self, username: str, event: dict[str, Any]) -> None:
        """``send_to`` from synchronous code (the wrap-up timer)."""
        self._spawn(self.send_to(username, event), "desktop-notify")

    # --- websockets ------------------------------------------------------------------------

    def register(self, connection: Connection) -> None:
        previous = self.connections.get(connection.username)
        if previous is not None:
            previous.push({"type": "replaced"})
            previous.close()
        self.connections[connection.username] = connection

    def unregister(self, connection: Connection) -> None:
        if self.connections.get(connection.username) is connection:
            del self.connections[connection.username]
        connection.close()

    # --- reading ---------------------------------------------------------------------------

    def member(self, username: str) -> Any:
        return next(
            (
                m
                for m in self.view.queue_members.values()
                if m.member_name == username and m.queue == self.queue
            ),
            None,
        )

    def agent_state(self, username: str) -> dict[str, Any]:
        call = self.tracker.call_of(username)
        on_call = call is not None and call.answered_at is not None
        return agent_view(username, self.member(username), on_call=on_call).to_public_dict()

    def queue_stats(self) -> dict[str, Any]:
        busy = [u for u, c in self.tracker.calls.items() if c.answered_at is not None]
        members = list(self.view.queue_members.values())
        return self.stats.snapshot(time.time(), members, busy).to_public_dict()

    def wallboard(self) -> dict[str, Any]:
        agents = []
        for member in sorted(self.view.queue_members.values(), key=lambda m: m.member_name):
            if member.queue != self.queue:
                continue
            call = self.tracker.call_of(member.member_name)
            agents.append(
                {
                    **self.agent_state(member.member_name),
                    "call": call.to_public_dict(masked=True) if call else None,
                }
            )
        return {"stats": self.queue_stats(), "agents": agents}

    async def snapshot(self, username: str) -> dict[str, Any]:
        """Everything a (re)connecting desktop needs to show the current call."""
        call = self.tracker.call_of(username)
        pop = self.pops.get(username)
        if call is not None and (
            pop is None or pop.get("pending") or pop["call"]["linkedid"] != call.linkedid
        ):
            pop = await self._screen_pop(call)
        snapshot: dict[str, Any] = {
            "agent": self.agent_state(username),
            "call": call.to_public_dict() if call else None,
            "screen_pop": pop if call is not None else None,
            "queue": self.queue_stats(),
            "pbx_connected": self.ready.is_set(),
            **self._live_text_of(username, call),
        }
        if self.snapshot_extra is not None:
            snapshot.update(self.snapshot_extra(username))
        return snapshot

    def _live_text_of(self, username: str, call: AgentCall | None) -> dict[str, Any]:
        """The current call's transcript so far and its suggestions (None for another call)."""
        live = self.live_text.get(username, {})
        current: dict[str, Any] = dict.fromkeys(LIVE_TEXT_TYPES)
        if call is not None:
            for kind in LIVE_TEXT_TYPES:
                message = live.get(kind)
                if message is not None and message.get("linkedid") == call.linkedid:
                    current[kind] = message
        return current

    # --- following the PBX -----------------------------------------------------------------

    def _on_reload(self, view: PbxView) -> None:
        now = time.time()
        self.ready.set()
        facts = self.tracker.reset(view, now)
        self.stats.reset_waiting(view.queue_callers.values(), now)
        for fact in facts:
            self._on_fact(fact)
        for username, connection in self.connections.items():
            connection.push({"type": "agent_state", "agent": self.agent_state(username)})

    def _on_message(self, message: PbxMessage) -> None:
        self.apply(list(message.changes), time.time())

    def apply(self, changes: list[ModelChange], now: float) -> None:
        """One batch of changes (already applied to the view)."""
        facts = self.tracker.apply(changes, self.view, now)
        self.stats.apply(changes, now)
        touched = {
            c.member.member_name for c in changes if isinstance(c, QueueMemberChanged | QueueMemberGone)
        }
        for fact in facts:
            self._on_fact(fact)
            touched.add(fact.call.username)
        for username in touched:
            connection = self.connections.get(username)
            if connection is not None:
                connection.push({"type": "agent_state", "agent": self.agent_state(username)})

    def _on_fact(self, fact: CallFact) -> None:
        call = fact.call
        connection = self.connections.get(call.username)
        if isinstance(fact, CallEnded):
            self.pops.pop(call.username, None)
            self.live_text.pop(call.username, None)
            self.last_calls[call.username] = call
            if connection is not None:
                connection.push(
                    {
                        "type": "call",
                        "event": "ended",
                        "call": call.to_public_dict(),
                        "answered": fact.answered,
                    }
                )
            return
        if connection is None:
            return
        event = {CallOffered: "offered", CallAnswered: "answered", CallUpdated: "updated"}[type(fact)]
        connection.push({"type": "call", "event": event, "call": call.to_public_dict()})
        if isinstance(fact, CallOffered | CallAnswered):
            pop = self.pops.get(call.username)
            if pop is None or pop["call"]["linkedid"] != call.linkedid:
                self.pops[call.username] = {"call": {"linkedid": call.linkedid}, "pending": True}
                self._spawn(self._pop(call), "screen-pop")

    async def _pop(self, call: AgentCall) -> None:
        message = await self._screen_pop(call)
        current = self.tracker.call_of(call.username)
        if current is None or current.linkedid != call.linkedid:
            return  # the call is over already
        self.pops[call.username] = message
        connection = self.connections.get(call.username)
        if connection is not None:
            connection.push(message)

    async def _screen_pop(self, call: AgentCall) -> dict[str, Any]:
        orders = []
        if call.caller_number:
            try:
                async with self.session_scope() as session:
                    orders = await earlier_orders(session, call.caller_number)
            except Exception:
                log.exception("screen pop: earlier orders of the caller could not be read")
        return screen_pop_message(call.to_public_dict(), orders, self.tz, call.caller_number)

    def push_statistics(self) -> None:
        if not self.connections:
            return
        stats = self.queue_stats()
        text = dumps(stats)
        if text != self._last_queue:
            self._last_queue = text
            for connection in self.connections.values():
                if not connection.supervises:
                    connection.push({"type": "queue", "stats": stats})
        if any(c.supervises for c in self.connections.values()):
            board = self.wallboard()
            board_text = dumps(board)
            if board_text != self._last_wallboard:
                self._last_wallboard = board_text
                for connection in self.connections.values():
                    if connection.supervises:
                        connection.push({"type": "wallboard", **board})
