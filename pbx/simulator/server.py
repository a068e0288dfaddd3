"""An AMI server on TCP that behaves like the recorded Asterisk 22.10.1.

Protocol behaviour is implemented here: the banner, Login (accepted, refused after a delay
and then the socket closed, "Already authenticated"), "Permission denied" before login,
Logoff, Ping, Events (event masks by privilege class), ``core restart now`` (every socket
closes, no Shutdown event, uptime starts again) and status answers built from the live model
(CoreStatus, CoreShowChannels, BridgeList, QueueStatus).

What a call does is replayed from a recording (``pbx.simulator.recording``): when a client
sends the next action of the script, the simulator answers with the recorded response and
every event that followed it, in the recorded order and (scaled) timing, with the client's
ActionIDs, fresh Uniqueids/bridge ids, current timestamps, and the values of the client's
action (queue, interface, member name, caller id ...) in place of the recorded ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
import uuid
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pbx.ami_protocol import AmiMessage
from pbx.call_model import CallModel
from pbx.events import parse_event
from pbx.simulator.live_actions import LiveActions
from pbx.simulator.recording import Exchange, Recording
from pbx.simulator.scenarios import Scenario, ScenarioEngine
from pbx.simulator.world import World

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
_PROTOCOL_ACTIONS = {"login", "logoff", "ping", "events"}
_RESTART_COMMANDS = {"core restart now", "core restart gracefully", "core restart when convenient"}
_NUMERIC_ID = re.compile(r"^\d+\.\d+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CALLER_ID = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<num>[^>]*)>\s*$')
_KNOWN_ACTIONS = {
    name.lower()
    for name in (
        "Originate Redirect Hangup Bridge BridgeList BridgeInfo BridgeKick QueueAdd QueueRemove "
        "QueuePause QueuePenalty QueueStatus QueueSummary MixMonitor MixMonitorMute StopMixMonitor "
        "ConfbridgeList ConfbridgeListRooms ConfbridgeKick ConfbridgeMute ConfbridgeUnmute Getvar "
        "Setvar Command CoreStatus CoreSettings CoreShowChannels PJSIPShowContacts PJSIPShowEndpoints "
        "PlayDTMF Status Atxfer BlindTransfer ListCommands"
    ).split()
}


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    username: str = "hotline"
    secret: str = "hotline-secret"  # noqa: S105 - the simulated PBX's own test account
    time_scale: float = 1.0
    """Multiplies every recorded delay (0: as fast as possible, order kept)."""
    auth_failure_delay: float = 1.0
    restart_delay: float = 3.0
    queues: tuple[str, ...] = ("citizens",)


class _Session:
    def __init__(self, simulator: AmiSimulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.simulator = simulator
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.event_classes: set[str] | None = None  # None: all events
        self.session_id = f"0x{uuid.uuid4().int & 0xFFFFFFFFFFFF:012x}"

    def wants(self, message: AmiMessage) -> bool:
        if not self.authenticated:
            return False
        if self.event_classes is None:
            return True
        privileges = {p.strip().lower() for p in message.value("Privilege").split(",")}
        return bool(privileges & self.event_classes)

    def send(self, message: AmiMessage) -> None:
        if not self.writer.is_closing():
            self.writer.write(message.encode())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _Rewriter:
    """Maps recorded values to the ones of this run."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.counter = itertools.count()
        self.ids: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def learn_action(self, recorded: AmiMessage, sent: AmiMessage) -> None:
        for key, value in recorded.headers:
            if key.lower() in ("action", "secret"):
                continue
            new = sent.get(key)
            if new is None or new == value:
                continue
            if key.lower() == "actionid":
                self.ids[value] = new
            elif key.lower() == "callerid":
                old_match, new_match = _CALLER_ID.match(value), _CALLER_ID.match(new)
                if old_match and new_match:
                    for part in ("name", "num"):
                        if old_match.group(part):
                            self.values[old_match.group(part)] = new_match.group(part)
            elif key.lower() in ("channelid", "otherchannelid"):
                self.ids[value] = new
            else:
                self.values[value] = new

    def rewrite(self, message: AmiMessage) -> AmiMessage:
        now = datetime.now(UTC)
        headers: list[tuple[str, str]] = []
        for key, value in message.headers:
            lowered = key.lower()
            if lowered == "actionid":
                value = self.ids.get(value, value)
            elif lowered.endswith(("uniqueid", "linkedid", "bridgeid")) and value not in ("", "<unknown>"):
                value = self._new_id(value)
            elif lowered in ("eventtv", "sessiontv"):
                value = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"
            elif lowered == "timestamp":
                value = f"{time.time():.6f}"
            else:
                value = self._substitute(value)
            headers.append((key, value))
        return AmiMessage(tuple(headers), tuple(self._substitute(line) for line in message.body))

    def _new_id(self, value: str) -> str:
        if value not in self.ids:
            if _NUMERIC_ID.match(value):
                self.ids[value] = f"{self.epoch}.{next(self.counter)}"
            elif _UUID.match(value):
                self.ids[value] = str(uuid.uuid4())
            else:
                self.ids[value] = value
        return self.ids[value]

    def _substitute(self, value: str) -> str:
        if not value or not self.values:
            return value
        exact = self.values.get(value)
        if exact is not None:
            return exact
        for old, new in self.values.items():
            if len(old) >= 4 and old in value:
                value = value.replace(old, new)
        return value


class AmiSimulator:
    """The simulated PBX. ``await start()`` listens on loopback; one script shared by all clients."""

    def __init__(
        self,
        recording: Recording | None = None,
        settings: SimulatorSettings | None = None,
        scenario: Scenario | None = None,
        agi_server: str | None = None,
    ) -> None:
        self.settings = settings or SimulatorSettings()
        self.recording = recording
        self.model = CallModel()
        self.world = World(self.publish, self.settings.queues)
        self.engine = ScenarioEngine(
            self.world, scenario or Scenario(), time_scale=self.settings.time_scale, agi_server=agi_server
        )
        self.live = LiveActions(self.engine)
        self.sessions: set[_Session] = set()
        self.connections = 0
        self.restarts = 0
        self.processed_calls = 0
        self._script: list[Exchange] = list(recording.exchanges) if recording else []
        self._session_starts: list[int] = []
        if recording:
            index = 0
            for recorded in recording.sessions:
                self._session_starts.append(index)
                index += len(recorded.exchanges)
        self._cursor = 0
        self._booted_at = time.time()
        self._rewriter = _Rewriter(int(time.time()))
        self._server: asyncio.Server | None = None
        self._timeline: asyncio.Queue[tuple[_Session, Exchange, AmiMessage]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._on_connect, host, port)
        self._spawn(self._run_timeline())
        self.engine.start()
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        await self.engine.stop()
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def restart(self) -> None:
        """As ``core restart now``: every connection closes without a Shutdown event."""
        self.restarts += 1
        for session in list(self.sessions):
            session.close()
        self.sessions.clear()
        self.model.clear()
        self._booted_at = time.time()
        # what the recorded session would have done next died with the restart
        self._cursor = next((i for i in self._session_starts if i > self._cursor), len(self._script))

    @property
    def script_done(self) -> bool:
        return self._cursor >= len(self._script)

    @property
    def pending_exchanges(self) -> tuple[Exchange, ...]:
        """Scripted exchanges not played yet."""
        return tuple(self._script[self._cursor :])

    # --- connections -----------------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(self, reader, writer)
        self.sessions.add(session)
        self.connections += 1
        writer.write(BANNER)
        framer = _ActionFramer()
        try:
            while not writer.is_closing():
                data = await reader.read(65536)
                if not data:
                    break
                for action in framer.feed(data):
                    if not await self._handle(session, action):
                        return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.sessions.discard(session)
            session.close()

    async def _handle(self, session: _Session, action: AmiMessage) -> bool:
        """Answer one action; False when the session is over."""
        name = action.value("Action")
        lowered = name.lower()
        action_id = action.get("ActionID")
        reply: list[tuple[str, str]] = [("ActionID", action_id)] if action_id is not None else []
        if lowered == "login":
            return await self._login(session, action, reply)
        if not session.authenticated:
            self._next_scripted(lowered)  # the recorded answer is this same denial
            session.writer.write(
                _msg([("Response", "Error"), *reply, ("Message", "Permission denied")]).encode()
            )
            return True
        if lowered == "logoff":
            self._skip_scripted(lowered)
            session.send(_msg([("Response", "Goodbye"), *reply, ("Message", "Thanks for all the fish.")]))
            await session.writer.drain()
            session.close()
            return False
        if lowered == "ping":
            self._skip_scripted(lowered)
            session.send(
                _msg([("Response", "Success"), *reply, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])
            )
            return True
        if lowered == "events":
            self._skip_scripted(lowered)
            mask = action.value("EventMask").strip().lower()
            if mask in ("off", "none", "0", "false", "no"):
                session.event_classes = set()
                state = "Off"
            else:
                on = mask in ("on", "all", "1", "true", "yes", "")
                session.event_classes = None if on else {p.strip() for p in mask.split(",")}
                state = "On"
            session.send(_msg([("Response", "Success"), *reply, ("Events", state)]))
            return True
        if lowered == "command" and action.value("Command").strip().lower() in _RESTART_COMMANDS:
            self._skip_scripted(lowered)
            await asyncio.sleep(self.settings.restart_delay * self.settings.time_scale)
            self.restart()
            return False
        exchange = self._next_scripted(lowered)
        if exchange is not None:
            self._rewriter.learn_action(exchange.action, action)
            await self._timeline.put((session, exchange, action))
            return True
        if self.recording is None and self.live.handle(action, reply, session.send):
            return True  # a replayed recording answers only from its script, as before
        self._answer_generic(session, action, reply)
        return True

    async def _login(self, session: _Session, action: AmiMessage, reply: list[tuple[str, str]]) -> bool:
        self._skip_scripted("login")
        if session.authenticated:
            session.send(_msg([("Response", "Success"), *reply, ("Message", "Already authenticated")]))
            return True
        if (
            action.value("Username") != self.settings.username
            or action.value("Secret") != self.settings.secret
        ):
            await asyncio.sleep(self.settings.auth_failure_delay)
            session.writer.write(
                _msg([("Response", "Error"), *reply, ("Message", "Authentication failed")]).encode()
            )
            with contextlib.suppress(ConnectionError):
                await session.writer.drain()
            session.close()
            return False
        events = action.value("Events").strip().lower()
        if events in ("off", "no", "false", "0", "none"):
            session.event_classes = set()
        elif events not in ("", "on", "yes", "true", "1", "all"):
            session.event_classes = {p.strip() for p in events.split(",")}
        session.authenticated = True
        uptime = str(int(time.time() - self._booted_at))
        local = session.writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        remote = session.writer.get_extra_info("peername") or ("127.0.0.1", 0)
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"
        session.send(_msg([("Response", "Success"), *reply, ("Message", "Authentication accepted")]))
        booted = _msg(
            [
                ("Event", "FullyBooted"),
                ("Privilege", "system,all"),
                ("Uptime", uptime),
                ("LastReload", uptime),
                ("Status", "Fully Booted"),
            ]
        )
        if session.wants(booted):
            session.send(booted)
        auth = _msg(
            [
                ("Event", "SuccessfulAuth"),
                ("Privilege", "security,all"),
                ("EventTV", stamp),
                ("Severity", "Informational"),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("AccountID", self.settings.username),
                ("SessionID", session.session_id),
                ("LocalAddress", f"IPV4/TCP/{local[0]}/{local[1]}"),
                ("RemoteAddress", f"IPV4/TCP/{remote[0]}/{remote[1]}"),
                ("UsingPassword", "0"),
                ("SessionTV", stamp),
            ]
        )
        if session.wants(auth):
            session.send(auth)
        return True

    # --- the script ------------------------------------------------------------------------

    def _skip_scripted(self, lowered: str) -> None:
        while self._cursor < len(self._script):
            exchange = self._script[self._cursor]
            name = exchange.name.lower()
            restart = name == "command" and exchange.action.value("Command").lower() in _RESTART_COMMANDS
            if name in _PROTOCOL_ACTIONS or restart:
                self._cursor += 1
                if name == lowered or (restart and lowered == "command"):
                    return
                continue
            return

    def _next_scripted(self, lowered: str) -> Exchange | None:
        self._skip_scripted("")
        if self._cursor < len(self._script) and self._script[self._cursor].name.lower() == lowered:
            exchange = self._script[self._cursor]
            self._cursor += 1
            return exchange
        return None

    async def _run_timeline(self) -> None:
        """Play scripted exchanges one after the other, keeping recorded order and timing."""
        while True:
            session, exchange, _ = await self._timeline.get()
            recorded_id = exchange.action.get("ActionID")
            elapsed = 0.0
            for item in exchange.replies:
                wait = (item.delay - elapsed) * self.settings.time_scale
                elapsed = item.delay
                if wait > 0:
                    await asyncio.sleep(wait)
                message = self._rewriter.rewrite(item.message)
                own = item.message.action_id is not None and item.message.action_id == recorded_id
                if not item.message.is_event or (own and item.message.event != "OriginateResponse"):
                    session.send(message)
                    continue
                if item.message.action_id is None or item.message.event == "OriginateResponse":
                    self.model.apply(parse_event(message))
                    if message.event == "Newchannel" and message.get("Uniqueid") == message.get("Linkedid"):
                        self.processed_calls += 1
                for other in list(self.sessions):
                    if other.wants(message) or (own and other is session):
                        other.send(message)
            if exchange.closed_after:
                session.close()

    # --- events of the scripted scenarios ---------------------------------------------------

    def publish(self, message: AmiMessage) -> None:
        """An event the live scenario produced: into the model, out to every session that wants it."""
        self.model.apply(parse_event(message))
        if message.event == "Newchannel" and message.get("Uniqueid") == message.get("Linkedid"):
            self.processed_calls += 1
        for session in list(self.sessions):
            if session.wants(message):
                session.send(message)

    # --- answers built from the model ------------------------------------------------------

    def _answer_generic(self, session: _Session, action: AmiMessage, reply: list[tuple[str, str]]) -> None:
        name = action.value("Action")
        lowered = name.lower()
        builder = {
            "coreshowchannels": self._core_show_channels,
            "bridgelist": self._bridge_list,
            "queuestatus": self._queue_status,
            "corestatus": self._core_status,
        }.get(lowered)
        if builder is not None:
            for message in builder(reply, action):
                session.send(message)
            return
        if lowered not in _KNOWN_ACTIONS:
            session.send(
                _msg(
                    [
                        ("Response", "Error"),
                        *reply,
                        (
                            "Message",
                            f"Invalid/unknown command: {name}. Use Action: ListCommands to show available "
                            "commands.",
                        ),
                    ]
                )
            )
            self._request_bad_format(session, name)
            return
        session.send(
            _msg([("Response", "Error"), *reply, ("Message", f"Simulator has no scripted reply for {name}")])
        )

    def _request_bad_format(self, session: _Session, name: str) -> None:
        local = session.writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        remote = session.writer.get_extra_info("peername") or ("127.0.0.1", 0)
        stamp = _event_tv(datetime.now(UTC))
        event = _msg(
            [
                ("Event", "RequestBadFormat"),
                ("Privilege", "security,all"),
                ("EventTV", stamp),
                ("Severity", "Error"),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("SessionID", session.session_id),
                ("LocalAddress", f"IPV4/TCP/{local[0]}/{local[1]}"),
                ("RemoteAddress", f"IPV4/TCP/{remote[0]}/{remote[1]}"),
                ("RequestType", f"Action: {name}"),
                ("SessionTV", stamp),
                ("AccountID", self.settings.username),
            ]
        )
        if session.wants(event):
            session.send(event)

    def _core_status(self, reply: list[tuple[str, str]], action: AmiMessage) -> Iterable[AmiMessage]:
        booted = datetime.fromtimestamp(self._booted_at, UTC)
        yield _msg(
            [
                ("Response", "Success"),
                *reply,
                ("CoreStartupDate", booted.strftime("%Y-%m-%d")),
                ("CoreStartupTime", booted.strftime("%H:%M:%S")),
                ("CoreReloadDate", booted.strftime("%Y-%m-%d")),
                ("CoreReloadTime", booted.strftime("%H:%M:%S")),
                ("CoreCurrentCalls", str(len(self.model.linkedids()))),
                ("CoreProcessedCalls", str(self.processed_calls)),
            ]
        )

    def _list(
        self, reply: list[tuple[str, str]], message: str, items: list[AmiMessage], complete: str
    ) -> Iterable[AmiMessage]:
        yield _msg([("Response", "Success"), *reply, ("EventList", "start"), ("Message", message)])
        yield from items
        yield _msg([("Event", complete), *reply, ("EventList", "Complete"), ("ListItems", str(len(items)))])

    def _core_show_channels(self, reply: list[tuple[str, str]], action: AmiMessage) -> Iterable[AmiMessage]:
        items = [
            _msg(
                [
                    ("Event", "CoreShowChannel"),
                    *reply,
                    ("Channel", c.name),
                    ("ChannelState", str(c.state)),
                    ("ChannelStateDesc", c.state_desc),
                    ("CallerIDNum", c.caller_id_num),
                    ("CallerIDName", c.caller_id_name),
                    ("ConnectedLineNum", c.connected_line_num),
                    ("ConnectedLineName", c.connected_line_name),
                    ("Language", "en"),
                    ("AccountCode", ""),
                    ("Context", c.context),
                    ("Exten", c.exten),
                    ("Priority", str(c.priority)),
                    ("Uniqueid", c.uniqueid),
                    ("Linkedid", c.linkedid),
                    ("Application", c.application),
                    ("ApplicationData", c.app_data),
                    ("Duration", "00:00:00"),
                    ("BridgeId", c.bridge_id or ""),
                ]
            )
            for c in self.model.channels.values()
        ]
        return self._list(reply, "Channels will follow", items, "CoreShowChannelsComplete")

    def _bridge_list(self, reply: list[tuple[str, str]], action: AmiMessage) -> Iterable[AmiMessage]:
        items = [
            _msg(
                [
                    ("Event", "BridgeListItem"),
                    *reply,
                    ("BridgeUniqueid", b.uniqueid),
                    ("BridgeType", b.bridge_type),
                    ("BridgeTechnology", b.technology),
                    ("BridgeCreator", b.creator),
                    ("BridgeName", b.name),
                    ("BridgeNumChannels", str(len(b.channels))),
                    ("BridgeVideoSourceMode", "none"),
                ]
            )
            for b in self.model.bridges.values()
        ]
        return self._list(reply, "Bridge listing will follow", items, "BridgeListComplete")

    def _queue_status(self, reply: list[tuple[str, str]], action: AmiMessage) -> Iterable[AmiMessage]:
        wanted = action.get("Queue")
        queues = [q for q in self.settings.queues if wanted in (None, "", q)]
        items: list[AmiMessage] = []
        for queue in queues:
            callers = self.model.callers_in(queue)
            items.append(
                _msg(
                    [
                        ("Event", "QueueParams"),
                        ("Queue", queue),
                        ("Max", "0"),
                        ("Strategy", "rrmemory"),
                        ("Calls", str(len(callers))),
                        ("Holdtime", "0"),
                        ("TalkTime", "0"),
                        ("Completed", "0"),
                        ("Abandoned", "0"),
                        ("ServiceLevel", "0"),
                        ("ServicelevelPerf", "0.0"),
                        ("ServicelevelPerf2", "0.0"),
                        ("Weight", "0"),
                        *reply,
                    ]
                )
            )
            for m in self.model.members_of(queue):
                items.append(
                    _msg(
                        [
                            ("Event", "QueueMember"),
                            ("Queue", queue),
                            ("Name", m.member_name),
                            ("Location", m.interface),
                            ("StateInterface", m.state_interface),
                            ("Membership", m.membership),
                            ("Penalty", str(m.penalty)),
                            ("CallsTaken", str(m.calls_taken)),
                            ("LastCall", "0"),
                            ("LastPause", "0"),
                            ("LoginTime", "0"),
                            ("InCall", "1" if m.in_call else "0"),
                            ("Status", str(m.status)),
                            ("Paused", "1" if m.paused else "0"),
                            ("PausedReason", m.paused_reason),
                            ("Wrapuptime", "0"),
                            *reply,
                        ]
                    )
                )
            for caller in callers:
                items.append(
                    _msg(
                        [
                            ("Event", "QueueEntry"),
                            ("Queue", queue),
                            ("Position", str(caller.position)),
                            ("Channel", caller.channel),
                            ("Uniqueid", caller.uniqueid),
                            ("CallerIDNum", caller.caller_id_num),
                            ("CallerIDName", caller.caller_id_name),
                            ("ConnectedLineNum", "<unknown>"),
                            ("ConnectedLineName", "<unknown>"),
                            ("Wait", "0"),
                            ("Priority", "0"),
                            *reply,
                        ]
                    )
                )
        return self._list(reply, "Queue status will follow", items, "QueueStatusComplete")


def _event_tv(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _msg(pairs: list[tuple[str, str]]) -> AmiMessage:
    return AmiMessage(tuple(pairs))


class _ActionFramer:
    """Splits the client's byte stream into actions (``Action:`` frames, CRLF CRLF ended)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[AmiMessage]:
        out: list[AmiMessage] = []
        buffer = self._buffer
        buffer.extend(data)
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return out
            raw = bytes(buffer[:end]).lstrip(b"\r\n")
            del buffer[: end + 4]
            if not raw:
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                log.warning("simulator: skipping an action that is not UTF-8: %r", raw[:200])
                continue
            pairs: list[tuple[str, str]] = []
            for line in text.split("\r\n"):
                key, sep, value = line.partition(":")
                if sep:
                    pairs.append((key.strip(), value[1:] if value.startswith(" ") else value))
            if any(key.lower() == "action" for key, _ in pairs):
                out.append(AmiMessage(tuple(pairs)))
            else:
                log.warning("simulator: skipping a frame without Action: %r", raw[:200])
