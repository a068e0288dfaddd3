"""The long-lived AMI connection: login, keep-alive, reconnect, resync, typed actions.

Built on panoramisk (``Manager`` with our ``AmiProtocol``) with its known traps closed:
whole-frame UTF-8 decoding; every action awaited with a timeout (panoramisk 1.4 never
resolves ``QueueAdd``); actions in flight when the link drops fail with ``AmiLinkLostError``
and are never re-sent; ``Response: Error`` raises ``AmiActionError``; event handlers are
wrapped so that an exception is logged instead of vanishing in an unreferenced task.

After every (re)connection the model is rebuilt from CoreShowChannels, BridgeList and
QueueStatus, so Minhu is right again after an Asterisk restart without restarting itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager as PanoramiskManager
from panoramisk.message import Message as PanoramiskMessage

from pbx import events as ev
from pbx.ami_protocol import AmiAction, AmiMessage, AmiProtocol
from pbx.call_model import CallModel, ModelChange, PbxSnapshot
from pbx.exceptions import (
    AmiActionError,
    AmiActionTimeoutError,
    AmiAuthenticationError,
    AmiLinkLostError,
    AmiNotConnectedError,
    OriginateFailedError,
)

log = logging.getLogger(__name__)

EventHandler = Callable[[ev.AmiEvent], Awaitable[None] | None]
ChangesHandler = Callable[[list[ModelChange]], Awaitable[None] | None]

ORIGINATE_REASONS = {0: "failed", 1: "hung up", 3: "no answer", 4: "answered", 5: "busy", 8: "congestion"}


@dataclass(frozen=True, slots=True)
class AmiSettings:
    """Built once in the process's entry point and passed down."""

    host: str
    port: int
    username: str
    secret: str
    events: str = "on"
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """What an async Originate produced; ``uniqueid`` is the preset ChannelId when answered."""

    action_id: str
    channel_id: str
    reason: int
    uniqueid: str
    channel: str

    @property
    def answered(self) -> bool:
        return self.reason == 4

    @property
    def reason_text(self) -> str:
        return ORIGINATE_REASONS.get(self.reason, f"reason {self.reason}")


class _Link(PanoramiskManager):  # type: ignore[misc]
    """panoramisk's Manager for one connection: our protocol, no reconnect or re-send of its own."""

    def __init__(self, owner: AmiConnection, settings: AmiSettings) -> None:
        super().__init__(
            host=settings.host,
            port=settings.port,
            protocol_factory=AmiProtocol,
            encoding="utf8",
            loop=asyncio.get_running_loop(),
        )
        self._owner = owner
        self.lost: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            return  # the owner awaits the same future and handles the failure
        _, protocol = f.result()
        self.protocol = protocol
        protocol.factory = self
        protocol.log = self.log
        protocol.config = self.config
        protocol.encoding = self.encoding = "utf8"
        self.responses = protocol.responses
        protocol.event_sink = self._owner._on_ami_event
        self._connected = True

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connected = False
        if not self.lost.done():
            self.lost.set_result(exc)

    async def send_awaiting_actions(self, *_: object) -> None:
        """Never re-send anything after a reconnect."""

    def close(self) -> None:
        if self.protocol is not None:
            self.protocol.close()


class AmiConnection:
    """One supervised AMI session with the PBX (or the simulator: the code cannot tell)."""

    def __init__(
        self, settings: AmiSettings, model: CallModel | None = None, rng: random.Random | None = None
    ) -> None:
        self.settings = settings
        self.model = model if model is not None else CallModel()
        self._rng = rng or random.Random()  # noqa: S311 - reconnect jitter, not cryptography
        self._link: _Link | None = None
        self._authenticated = asyncio.Event()
        self._event_handlers: list[EventHandler] = []
        self._change_handlers: list[ChangesHandler] = []
        self._originates: dict[str, asyncio.Future[ev.OriginateResponse]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self.connections = 0
        self.resyncs = 0
        self._resync_buffers: list[list[ev.AmiEvent]] = []
        """Events that arrived while a resync was asking for the status lists (see resync)."""

    # --- subscriptions ---------------------------------------------------------------------

    def on_event(self, handler: EventHandler) -> None:
        self._event_handlers.append(handler)

    def on_changes(self, handler: ChangesHandler) -> None:
        self._change_handlers.append(handler)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self._drop_link()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def is_connected(self) -> bool:
        return self._authenticated.is_set()

    async def wait_connected(self, within: float) -> None:
        async with asyncio.timeout(within):
            await self._authenticated.wait()

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: uniform in [c/2, c], c = min(max, initial * 2**attempt)."""
        ceiling = min(self.settings.backoff_max, self.settings.backoff_initial * (2**attempt))
        return self._rng.uniform(ceiling / 2, ceiling)

    async def _supervise(self) -> None:
        attempt = 0
        while not self._stopping:
            link: _Link | None = None
            try:
                link = await self._connect()
                attempt = 0
                reason = await link.lost
                log.warning("AMI link lost (%s); reconnecting", reason)
            except AmiAuthenticationError:
                log.error("AMI login refused for user %r; retrying with backoff", self.settings.username)
            except (OSError, TimeoutError, AmiLinkLostError, AmiActionError) as exc:
                log.warning("AMI connection attempt failed: %s", exc)
            finally:
                self._drop_link()
            delay = self.backoff_delay(attempt)
            attempt += 1
            log.info("AMI reconnect in %.2f s (attempt %d)", delay, attempt)
            await asyncio.sleep(delay)

    async def _connect(self) -> _Link:
        link = _Link(self, self.settings)
        link.register_event("*", self._on_message)
        self._link = link
        async with asyncio.timeout(self.settings.connect_timeout):
            await link.connect()
        self.connections += 1
        response = await self._send_raw(
            link,
            {
                "Action": "Login",
                "Username": self.settings.username,
                "Secret": self.settings.secret,
                "Events": self.settings.events,
            },
            check=False,
        )
        assert isinstance(response, AmiMessage)
        if response.response != "Success":
            raise AmiAuthenticationError("AMI 登录被拒绝", reply=response.value("Message"))
        self._spawn(self._keep_alive(link), "ami-ping")
        await self.resync(link)
        self._authenticated.set()
        log.info("AMI connected and resynced (connection %d)", self.connections)
        return link

    def _drop_link(self) -> None:
        self._authenticated.clear()
        link, self._link = self._link, None
        if link is not None:
            link.close()
        for action_id, future in list(self._originates.items()):
            if not future.done():
                future.set_exception(AmiLinkLostError("AMI 连接中断，外呼结果未知", action_id=action_id))
        self._originates.clear()

    async def _keep_alive(self, link: _Link) -> None:
        while not link.lost.done():
            await asyncio.sleep(self.settings.ping_interval)
            try:
                await self._send_raw(link, {"Action": "Ping"}, deadline=self.settings.ping_timeout)
            except (AmiActionTimeoutError, AmiLinkLostError) as exc:
                log.warning("AMI keep-alive failed (%s); closing the link", exc)
                link.close()
                link.connection_lost(exc)
                return

    async def resync(self, link: _Link | None = None) -> list[ModelChange]:
        """Rebuild the model from the PBX's status lists.

        The three lists are asked one after the other while events keep coming; each list is
        as of its own moment. So every event that arrives from the first request on is also
        kept, and replayed, in wire order, onto the model built from the lists: a call set up
        (or a channel hung up) between two lists is neither lost nor revived. Replaying an
        event the lists already reflect is harmless (every change sets state, none counts).
        Subscribers get the difference between the model they knew and the rebuilt one."""
        link = link or self._require_link()
        during: list[ev.AmiEvent] = []
        self._resync_buffers.append(during)
        try:
            channels = await self._send_raw(link, {"Action": "CoreShowChannels"})
            bridges = await self._send_raw(link, {"Action": "BridgeList"})
            queues = await self._send_raw(link, {"Action": "QueueStatus"})
        finally:
            self._resync_buffers.remove(during)
        items = [
            ev.parse_event(m)
            for m in [*_as_list(channels), *_as_list(bridges), *_as_list(queues)]
            if m.is_event
        ]
        snapshot = PbxSnapshot(
            channels=tuple(i for i in items if isinstance(i, ev.CoreShowChannel)),
            bridges=tuple(i for i in items if isinstance(i, ev.BridgeListItem)),
            queue_members=tuple(i for i in items if isinstance(i, ev.QueueMember)),
            queue_entries=tuple(i for i in items if isinstance(i, ev.QueueEntry)),
        )
        rebuilt = CallModel()
        rebuilt.resync(snapshot)
        for event in during:
            try:
                rebuilt.apply(event)
            except Exception:
                log.exception("AMI event could not be replayed after the resync: %r", event)
        changes = self.model.adopt(rebuilt)
        self.resyncs += 1
        self._publish(changes)
        return changes

    # --- events ----------------------------------------------------------------------------

    def _on_message(self, _manager: object, message: PanoramiskMessage) -> None:
        """panoramisk's dispatch (events it handled itself, such as Shutdown)."""
        self._on_ami_event(message.ami)

    def _on_ami_event(self, raw: AmiMessage) -> None:
        """Every event, in wire order: typed, correlated, applied to the model, handed on."""
        try:
            event = ev.parse_event(raw)
            if isinstance(event, ev.OriginateResponse):
                future = self._originates.pop(event.action_id, None)
                if future is not None and not future.done():
                    future.set_result(event)
            changes = self.model.apply(event)
        except Exception:
            log.exception("AMI event could not be applied: %r", raw)
            return
        for buffer in self._resync_buffers:
            buffer.append(event)
        for handler in self._event_handlers:
            self._call(handler, event)
        if changes:
            self._publish(changes)

    def _publish(self, changes: list[ModelChange]) -> None:
        for handler in self._change_handlers:
            self._call(handler, changes)

    def _call(self, handler: Callable[[Any], Awaitable[None] | None], argument: Any) -> None:
        try:
            result = handler(argument)
        except Exception:
            log.exception("AMI handler %r failed", handler)
            return
        if result is not None and inspect.isawaitable(result):
            self._spawn(result, f"ami-handler-{getattr(handler, '__name__', 'handler')}")

    def _spawn(self, awaitable: Awaitable[Any], name: str) -> None:
        async def guarded() -> None:
            try:
                await awaitable
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("AMI background task %s failed", name)

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- actions ---------------------------------------------------------------------------

    def _require_link(self) -> _Link:
        if self._link is None or not self._authenticated.is_set():
            raise AmiNotConnectedError("AMI 未连接")
        return self._link

    async def send(
        self, action: Mapping[str, Any], *, deadline: float | None = None, check: bool = True
    ) -> AmiMessage | list[AmiMessage]:
        """Send one action; its response (or the list for EventList actions)."""
        return await self._send_raw(self._require_link(), action, deadline=deadline, check=check)

    async def _send_raw(
        self, link: _Link, action: Mapping[str, Any], *, deadline: float | None = None, check: bool = True
    ) -> AmiMessage | list[AmiMessage]:
        if link.protocol is None or link.lost.done():
            raise AmiNotConnectedError("AMI 未连接")
        request = AmiAction(dict(action))
        name = str(request.get("Action", ""))
        future = link.send_action(request)
        try:
            async with asyncio.timeout(deadline or self.settings.action_timeout):
                result = await future
        except TimeoutError:
            link.protocol.responses.pop(request.action_id, None)
            raise AmiActionTimeoutError("AMI 动作超时", action=name, action_id=request.action_id) from None
        messages = [m.ami for m in result] if isinstance(result, list) else [result.ami]
        first = messages[0]
        if check and first.response not in ("Success", "Goodbye", "Follows"):
            raise AmiActionError(
                first.value("Message") or "AMI 动作失败", action=name, action_id=request.action_id
            )
        return messages if isinstance(result, list) else first

    async def _ok(self, action: Mapping[str, Any]) -> AmiMessage:
        response = await self.send(action)
        assert isinstance(response, AmiMessage)
        return response

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int = 1,
        application: str | None = None,
        data: str | None = None,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        ring_timeout: float = 30.0,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
    ) -> OriginateResult:
        """Async Originate; waits for OriginateResponse. The channel gets a preset ChannelId so
        its events (and a failure's Uniqueid) can be tied to this request."""
        action_id = f"minhu-orig-{uuid.uuid4()}"
        channel_id = channel_id or str(uuid.uuid4())
        action: dict[str, Any] = {
            "Action": "Originate",
            "ActionID": action_id,
            "Channel": channel,
            "Async": "true",
            "Timeout": str(int(ring_timeout * 1000)),
            "ChannelId": channel_id,
        }
        if other_channel_id:
            action["OtherChannelId"] = other_channel_id
        if application:
            action["Application"] = application
            if data is not None:
                action["Data"] = data
        else:
            action.update({"Context": context or "", "Exten": exten or "", "Priority": str(priority)})
        if caller_id:
            action["CallerID"] = caller_id
        if variables:
            action["Variable"] = [f"{key}={value}" for key, value in variables.items()]
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[ev.OriginateResponse] = loop.create_future()
        self._originates[action_id] = waiter
        try:
            await self._ok(action)
            async with asyncio.timeout(ring_timeout + self.settings.action_timeout):
                response = await waiter
        except TimeoutError:
            raise AmiActionTimeoutError("外呼结果超时", action="Originate", action_id=action_id) from None
        finally:
            self._originates.pop(action_id, None)
        return OriginateResult(action_id, channel_id, response.reason, response.uniqueid, response.channel)

    async def originate_answered(self, channel: str, **kwargs: Any) -> OriginateResult:
        result = await self.originate(channel, **kwargs)
        if not result.answered:
            raise OriginateFailedError(
                f"外呼未接通：{result.reason_text}", reason=result.reason, channel=channel
            )
        return result

    async def redirect(
        self,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        *,
        extra_channel: str | None = None,
        extra_context: str | None = None,
        extra_exten: str | None = None,
        extra_priority: int | None = None,
    ) -> None:
        action: dict[str, Any] = {
            "Action": "Redirect",
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": str(priority),
        }
        if extra_channel:
            action.update(
                {
                    "ExtraChannel": extra_channel,
                    "ExtraContext": extra_context or context,
                    "ExtraExten": extra_exten or exten,
                    "ExtraPriority": str(extra_priority or priority),
                }
            )
        await self._ok(action)

    async def hangup(self, channel: str, cause: int | None = None) -> None:
        action: dict[str, Any] = {"Action": "Hangup", "Channel": channel}
        if cause is not None:
            action["Cause"] = str(cause)
        await self._ok(action)

    async def bridge(self, channel1: str, channel2: str, tone: bool = False) -> None:
        await self._ok(
            {"Action": "Bridge", "Channel1": channel1, "Channel2": channel2, "Tone": "yes" if tone else "no"}
        )

    async def queue_add(
        self, queue: str, interface: str, member_name: str, *, paused: bool = False, penalty: int = 0
    ) -> None:
        await self._ok(
            {
                "Action": "QueueAdd",
                "Queue": queue,
                "Interface": interface,
                "MemberName": member_name,
                "Paused": "true" if paused else "false",
                "Penalty": str(penalty),
            }
        )

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._ok({"Action": "QueueRemove", "Queue": queue, "Interface": interface})

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> None:
        action = {
            "Action": "QueuePause",
            "Queue": queue,
            "Interface": interface,
            "Paused": str(paused).lower(),
        }
        if reason:
            action["Reason"] = reason
        await self._ok(action)

    async def mix_monitor(self, channel: str, file: str, options: str = "") -> None:
        action = {"Action": "MixMonitor", "Channel": channel, "File": file}
        if options:
            action["Options"] = options
        await self._ok(action)

    async def stop_mix_monitor(self, channel: str) -> None:
        await self._ok({"Action": "StopMixMonitor", "Channel": channel})

    async def confbridge_kick(self, conference: str, channel: str) -> None:
        await self._ok({"Action": "ConfbridgeKick", "Conference": conference, "Channel": channel})

    async def getvar(self, variable: str, channel: str | None = None) -> str:
        action = {"Action": "Getvar", "Variable": variable}
        if channel:
            action["Channel"] = channel
        return (await self._ok(action)).value("Value")

    async def setvar(self, variable: str, value: str, channel: str | None = None) -> None:
        action = {"Action": "Setvar", "Variable": variable, "Value": value}
        if channel:
            action["Channel"] = channel
        await self._ok(action)

    async def command(self, command: str, deadline: float | None = None) -> list[str]:
        """A CLI command; its output lines. A failing command raises AmiActionError."""
        response = await self.send({"Action": "Command", "Command": command}, deadline=deadline, check=False)
        assert isinstance(response, AmiMessage)
        if response.response != "Success":
            raise AmiActionError("CLI 命令失败", command=command, output=response.output_lines())
        return response.output_lines()


def _as_list(result: AmiMessage | list[AmiMessage]) -> list[AmiMessage]:
    return result if isinstance(result, list) else [result]
