"""Scriptable scenarios: citizens who dial 12345, agents and units who answer or not.

A ``Scenario`` says who calls when (``InboundCall`` with a ``Citizen`` and their script), which
agents are signed in (``MemberSpec``) and how every dialed destination behaves (``Answers``,
``RingsOut``, ``Busy``, ``Congested``, ``Unreachable``, chosen by a channel pattern). The
``ScenarioEngine`` plays it on the simulated PBX: a small dialplan interpreter walks each channel
through its contexts (Minhu's own, from ``deploy/asterisk``'s names, and the recording rig's),
runs ``AGI()`` as a real FastAGI client, runs ``Queue()`` against the live queue members, and
answers the AMI actions that change calls (Originate, Hangup, QueueAdd/Pause/Remove).

Every event is built from a recorded layout (``pbx.simulator.templates``) and emitted in the
order the recordings show (``b-inbound-queue-call``, ``d-originate-failures``,
``e-queue-members``, ``f-ami-side-of-agi``, set2's ``b2`` and ``d``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import math
import re
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from pbx import dialplan_names as names
from pbx.ami_protocol import AmiMessage
from pbx.simulator.citizen import CallClock, Citizen, CitizenScript, HangUp, Keypad, Press
from pbx.simulator.fastagi_client import (
    STOCK_SOUNDS,
    AgiResult,
    FastAgiSession,
    SoundLibrary,
    agi_environment,
)
from pbx.simulator.world import BUSY, DOWN, RINGING, UNKNOWN, UP, SimBridge, SimChannel, SimMember, World

log = logging.getLogger(__name__)

__all__ = [
    "Answers",
    "App",
    "Busy",
    "CallRecord",
    "Citizen",
    "CitizenScript",
    "Congested",
    "HangUp",
    "InboundCall",
    "MemberSpec",
    "Press",
    "RingsOut",
    "Scenario",
    "ScenarioEngine",
    "Unreachable",
    "default_dialplan",
]

ANSWER_SETTLE = 0.5
"""Seconds between Answer() and the next application (recorded for Local channels)."""


# --- what a dialed party does --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answers:
    """Answers ``after`` seconds of ringing; hangs up ``hang_up_after`` seconds after answering
    (None: stays until the other side hangs up). ``citizen``: who answers (keys for a survey)."""

    after: float = 0.0
    hang_up_after: float | None = None
    citizen: Citizen | None = None


@dataclass(frozen=True, slots=True)
class RingsOut:
    """Rings and is never answered (OriginateResponse Reason 3, AgentRingNoAnswer)."""


@dataclass(frozen=True, slots=True)
class Busy:
    """Busy (Reason 5)."""


@dataclass(frozen=True, slots=True)
class Congested:
    """Congestion (Reason 8)."""


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No such or unregistered endpoint (Reason 0, no channel at all)."""


Behaviour = Answers | RingsOut | Busy | Congested | Unreachable
ORIGINATE_REASON = {"answer": 4, "ringout": 3, "busy": 5, "congestion": 8, "unreachable": 0}


# --- the scenario ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboundCall:
    """A citizen dials ``dialed`` through the carrier trunk ``at`` seconds after the start."""

    citizen: Citizen = field(default_factory=Citizen)
    at: float = 0.0
    dialed: str = names.HOTLINE_NUMBER
    trunk: str = "PJSIP/carrier"
    context: str = names.CARRIER_INBOUND_CONTEXT


@dataclass(frozen=True, slots=True)
class MemberSpec:
    interface: str
    name: str
    queue: str = names.INBOUND_QUEUE
    paused: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class App:
    """One dialplan priority: ``App("Queue", "citizens,cC,,,300")``; ``label`` as in ``n(done)``."""

    name: str
    data: str = ""
    label: str | None = None


Dialplan = Mapping[str, tuple[App, ...]]


def default_dialplan(agi_server: str | None) -> dict[str, tuple[App, ...]]:
    """Minhu's call flow (the contexts of ``deploy/asterisk/extensions.conf`` that a call walks,
    simplified to the applications that show on AMI) plus the recording rig's contexts."""
    agi = f"agi://{agi_server}" if agi_server else ""
    ivr = (
        App("AGI", f"{agi}/{names.AGI_IVR_SCRIPT}?did=${{MINHU_DID}}")
        if agi
        else App("Log", "ERROR,MINHU_AGI_HOST/MINHU_AGI_PORT not set")
    )
    queue = f"{names.INBOUND_QUEUE},cC,,,${{MINHU_QUEUE_MAX_WAIT}}"
    plan: dict[str, tuple[App, ...]] = {
        names.CARRIER_INBOUND_CONTEXT: (App("Goto", f"{names.CITIZEN_ENTRY_CONTEXT},${{EXTEN}},1"),),
        names.CITIZEN_ENTRY_CONTEXT: (
            App("NoOp", "citizen ${CALLERID(num)} called ${EXTEN}"),
            App("Set", "MINHU_DID=${EXTEN}"),
            App("Set", "CHANNEL(language)=zh"),
            App("Answer"),
            ivr,
            App("GotoIf", '$["${AGISTATUS}" = "HANGUP"]?done'),
            App("GotoIf", '$["${MINHU_IVR_NEXT}" = "hangup"]?done'),
            App("Goto", f"{names.INBOUND_QUEUE_CONTEXT},s,1"),
            App("Hangup", label="done"),
        ),
        names.INBOUND_QUEUE_CONTEXT: (
            App("Set", "QUEUE_PRIO=${MINHU_QUEUE_PRIO}"),
            App("Queue", queue),
            App("GotoIf", f'$["${{MEMBERINTERFACE}}" != ""]?{names.SATISFACTION_CONTEXT},s,1'),
            App("Goto", f"{names.OVERFLOW_CONTEXT},s,1"),
        ),
        names.OVERFLOW_CONTEXT: (
            App("NoOp", "queue overflow ${QUEUESTATUS} for ${CALLERID(num)}"),
            *(
                (App("AGI", f"{agi}/{names.AGI_OVERFLOW_SCRIPT}?reason=${{QUEUESTATUS}}"),)
                if agi
                else (App("Playback", "minhu/all-agents-busy"),)
            ),
            App("Hangup"),
        ),
        names.SATISFACTION_CONTEXT: (
            *((App("AGI", f"{agi}/{names.AGI_SATISFACTION_SCRIPT}"),) if agi else ()),
            App("Hangup"),
        ),
        names.SURVEY_CONTEXT: (
            App("NoOp", "revisit ${MINHU_REVISIT_ID} on ${CHANNEL}"),
            App("Set", "CHANNEL(language)=zh"),
            *((App("AGI", f"{agi}/{names.AGI_SURVEY_SCRIPT}?revisit=${{MINHU_REVISIT_ID}}"),) if agi else ()),
            App("Hangup"),
        ),
        # the recording rig (../shared/ami-traces/config-used/extensions.conf)
        "from-citizen": (
            App("Answer"),
            App("Set", "CALLERID(name)=张三"),
            App("Queue", "citizens,,,,120"),
            App("Hangup"),
        ),
        "citizen-sim": (App("Answer"), App("Wait", "600")),
        "agent-sim": (App("Answer"), App("Wait", "600")),
        "noanswer-sim": (App("Ringing"), App("Wait", "600")),
        "busy-sim": (App("Busy", "5"),),
        "congestion-sim": (App("Congestion", "10"),),
        "agi-test": (
            App("Answer"),
            App("AGI", f"{agi or 'agi://127.0.0.1:4573'}/ivr"),
            App("Hangup"),
        ),
    }
    return plan


@dataclass(frozen=True)
class Scenario:
    """What happens on the simulated PBX, besides what AMI clients ask for."""

    name: str = "idle"
    calls: tuple[InboundCall, ...] = ()
    members: tuple[MemberSpec, ...] = ()
    destinations: tuple[tuple[str, Behaviour], ...] = ()
    """(channel pattern, behaviour): ``("PJSIP/1001", Answers(after=2))``,
    ``("Local/139*@minhu-dial-citizen*", Busy())``; the first match wins."""
    default_behaviour: Behaviour = Answers()
    queue_ring_timeout: float = 15.0
    queue_retry: float = 5.0
    queue_max_wait: float = 300.0
    sounds: SoundLibrary = STOCK_SOUNDS
    dialplan: Dialplan | None = None
    """None: ``default_dialplan(agi_server)``."""

    def behaviour_for(self, target: str) -> Behaviour | None:
        for pattern, behaviour in self.destinations:
            if fnmatch.fnmatchcase(target, pattern):
                return behaviour
        return None


# --- a call in progress ---------------------------------------------------------------------


@dataclass(eq=False)
class CallRecord:
    """One simulated call, for tests and logs: what the FastAGI sessions did, how it ended."""

    citizen: Citizen | None
    clock: CallClock
    keypad: Keypad
    hangup_at: float
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    channel: SimChannel | None = None
    agi: list[AgiResult] = field(default_factory=list)
    queue_status: str | None = None
    answered_by: str | None = None
    ended_by: str | None = None
    """"citizen", "agent", "ami", "dialplan"."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def keys_at(self, script: CitizenScript) -> None:
        self.keypad = Keypad.of(script)
        self.hangup_at = script.hangup_at


class _Jump:
    def __init__(self, context: str, exten: str | None, target: str | int) -> None:
        self.context, self.exten, self.target = context, exten, target


_STOP = object()
_COND = re.compile(
    r'^\$\[\s*"(?P<a>[^"]*)"\s*(?P<op>!?=)\s*"(?P<b>[^"]*)"\s*\]\?(?P<then>[^:]*)(?::(?P<else>.*))?$'
)
_VAR = re.compile(r"\$\{([^${}]+)\}")


class _AgiSide:
    """The AMI side of a FastAGI session on a simulated channel (``AgiChannel``)."""

    def __init__(self, engine: ScenarioEngine, channel: SimChannel, url: str) -> None:
        self.engine, self.channel = engine, channel
        base = channel.name.split("/", 1)[0]
        self.environment = agi_environment(
            url,
            channel.name,
            channel.uniqueid,
            channel.caller_num,
            channel.caller_name,
            channel.context,
            channel.exten,
            channel.priority,
            base,
            language=channel.language,
            dnid=channel.variables.get("MINHU_DID", "unknown"),
        )

    @property
    def hung_up(self) -> asyncio.Event:
        return self.channel.hangup_requested

    def command_started(self, command_id: str, command: str) -> None:
        self.engine.world.emit("AGIExecStart", self.channel, CommandId=command_id, Command=command)

    def command_ended(self, command_id: str, command: str, result_code: str, result: str) -> None:
        self.engine.world.emit(
            "AGIExecEnd",
            self.channel,
            CommandId=command_id,
            Command=command,
            ResultCode=result_code,
            Result=result,
        )

    def get_variable(self, name: str) -> str | None:
        return self.engine.variable(self.channel, name)

    def set_variable(self, name: str, value: str) -> None:
        self.engine.world.varset(self.channel, name, value)

    def answer(self) -> None:
        if self.channel.state != UP:
            self.engine.answer(self.channel)

    def hangup(self) -> None:
        self.engine.world.soft_hangup_request(self.channel, 32)
        self.channel.hangup_cause = 16
        self.engine.request_hangup(self.channel, by="dialplan")


class ScenarioEngine:
    """Plays a scenario on a ``World`` and answers the AMI actions that change calls."""

    def __init__(
        self, world: World, scenario: Scenario, *, time_scale: float = 1.0, agi_server: str | None = None
    ) -> None:
        self.world = world
        self.scenario = scenario
        self.time_scale = time_scale
        self.agi_server = agi_server
        self.dialplan: Dialplan = scenario.dialplan or default_dialplan(agi_server)
        self.calls: list[CallRecord] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused_devices: set[str] = set()
        self._wakes: dict[str, asyncio.Event] = {}

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        for spec in self.scenario.members:
            self.queue_add(spec.queue, spec.interface, spec.name, paused=spec.paused, reason=spec.reason)
        for call in self.scenario.calls:
            self._spawn(self._dial_in_later(call))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("simulator: a scenario task failed")

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dial_in_later(self, call: InboundCall) -> None:
        await asyncio.sleep(call.at * self.time_scale)
        self.dial_in(call)

    def _new_record(self, citizen: Citizen | None) -> CallRecord:
        script = citizen.script if citizen else CitizenScript()
        record = CallRecord(citizen, CallClock(self.time_scale), Keypad.of(script), script.hangup_at)
        self.calls.append(record)
        return record

    # --- inbound ----------------------------------------------------------------------------

    def dial_in(self, call: InboundCall) -> CallRecord:
        """A citizen's call arrives on the trunk and walks the dialplan."""
        record = self._new_record(call.citizen)
        channel = self.world.new_channel(
            self.world.tech_channel_name(call.trunk),
            call.context,
            call.dialed,
            4,
            caller=(call.citizen.number, call.citizen.name),
        )
        channel.connected_num, channel.connected_name = UNKNOWN, UNKNOWN
        record.channel = channel
        self._wakes[channel.uniqueid] = record.wake
        self._spawn(self._run_channel(record, channel, call.context, call.dialed))
        return record

    async def _run_channel(self, record: CallRecord, channel: SimChannel, context: str, exten: str) -> None:
        try:
            await self._run_dialplan(record, channel, context, exten)
        finally:
            if not channel.gone:
                self._teardown(channel, record)
            record.ended.set()

    # --- the dialplan interpreter -----------------------------------------------------------

    def variable(self, channel: SimChannel, name: str) -> str | None:
        special = {
            "EXTEN": channel.exten,
            "CONTEXT": channel.context,
            "CHANNEL": channel.name,
            "UNIQUEID": channel.uniqueid,
            "CALLERID(num)": channel.caller_num,
            "CALLERID(name)": channel.caller_name,
            "CALLERID(all)": f'"{channel.caller_name}" <{channel.caller_num}>',
            "CHANNEL(language)": channel.language,
            "MINHU_QUEUE_MAX_WAIT": str(int(self.scenario.queue_max_wait)),
        }
        if name in channel.variables:
            return channel.variables[name]
        return special.get(name)

    def _substitute(self, channel: SimChannel, text: str) -> str:
        previous = None
        while previous != text:
            previous = text
            text = _VAR.sub(lambda m: self.variable(channel, m.group(1)) or "", text)
        return text

    async def _run_dialplan(
        self, record: CallRecord, channel: SimChannel, context: str, exten: str, start: str | int = 1
    ) -> None:
        steps = self.dialplan.get(context, ())
        index = self._index_of(steps, start)
        while not channel.hangup_requested.is_set() and not channel.gone:
            if index >= len(steps):
                return  # autofallthrough: hang up
            app = steps[index]
            data = self._substitute(channel, app.data)
            self.world.newexten(channel, app.name, data, context=context, exten=exten, priority=index + 1)
            outcome = await self._application(record, channel, app.name, data)
            if outcome is _STOP:
                return
            if isinstance(outcome, _Jump):
                context = outcome.context or context
                exten = outcome.exten or exten
                steps = self.dialplan.get(context, ())
                index = self._index_of(steps, outcome.target)
                continue
            index += 1

    @staticmethod
    def _index_of(steps: tuple[App, ...], target: str | int) -> int:
        if isinstance(target, int):
            return target - 1
        labels = [i for i, step in enumerate(steps) if step.label == target]
        return labels[0] if labels else len(steps)

    def _jump(self, target: str) -> _Jump:
        parts = [p.strip() for p in target.split(",")]
        if len(parts) == 3:
            return _Jump(parts[0], parts[1], int(parts[2]) if parts[2].isdigit() else parts[2])
        if len(parts) == 2:
            return _Jump("", parts[0], int(parts[1]) if parts[1].isdigit() else parts[1])
        return _Jump("", None, int(parts[0]) if parts[0].isdigit() else parts[0])

    async def _application(self, record: CallRecord, channel: SimChannel, name: str, data: str) -> object:
        lowered = name.lower()
        if lowered == "answer":
            if channel.state != UP:
                self.answer(channel)
            await self._wait(record, channel, ANSWER_SETTLE)
        elif lowered == "set":
            variable, _, value = data.partition("=")
            if variable == "CALLERID(name)":
                self.world.set_caller(channel, channel.caller_num, value)
            elif variable == "CALLERID(num)":
                self.world.set_caller(channel, value, channel.caller_name)
            elif variable == "CHANNEL(language)":
                channel.language = value
            elif not variable.startswith("CHANNEL("):
                self.world.varset(channel, variable, value)
        elif lowered == "goto":
            return self._jump(data)
        elif lowered == "gotoif":
            match = _COND.match(data)
            if match is None:
                return None
            equal = match.group("a") == match.group("b")
            taken = equal if match.group("op") == "=" else not equal
            target = match.group("then") if taken else match.group("else")
            return self._jump(target) if target else None
        elif lowered == "wait":
            seconds = float(data.split(",")[0] or 0)
            if await self._wait(record, channel, seconds):
                return _STOP
        elif lowered == "playback":
            for prompt in data.split(",")[0].split("&"):
                if await self._wait(record, channel, self.scenario.sounds.duration(prompt) or 0.0):
                    return _STOP
        elif lowered == "agi":
            return await self._agi(record, channel, data)
        elif lowered == "queue":
            return await self._queue(record, channel, data)
        elif lowered == "hangup":
            record.ended_by = record.ended_by or "dialplan"
            return _STOP
        return None

    async def _wait(self, record: CallRecord, channel: SimChannel, seconds: float) -> bool:
        """Let call time pass; True when the channel is hung up meanwhile."""
        until = record.clock.now() + seconds
        while not channel.hangup_requested.is_set():
            now = record.clock.now()
            if now >= until:
                return False
            if record.hangup_at <= now:
                self.request_hangup(channel, by="citizen")
                return True
            record.wake.clear()
            await record.clock.advance(min(until, record.hangup_at) - now, record.wake)
        return True

    # --- AGI --------------------------------------------------------------------------------

    async def _agi(self, record: CallRecord, channel: SimChannel, url: str) -> object:
        side = _AgiSide(self, channel, url)
        session = FastAgiSession(
            url, side, record.clock, record.keypad, record.hangup_at, sounds=self.scenario.sounds
        )
        result = await session.run()
        record.agi.append(result)
        if result.citizen_hung_up:
            record.ended_by = "citizen"
        self.world.varset(channel, "AGISTATUS", result.status)
        if channel.hangup_requested.is_set():
            return _STOP
        return None

    # --- channels ---------------------------------------------------------------------------

    def answer(self, channel: SimChannel) -> None:
        self.world.set_state(channel, UP)
        self.world.device_state(channel.device, "INUSE")

    def request_hangup(self, channel: SimChannel, by: str, cause: int = 16) -> None:
        if channel.hangup_requested.is_set():
            return
        channel.hangup_cause = cause
        channel.hangup_by_action = by == "ami"
        for record in self.calls:
            if record.channel is channel and record.ended_by is None:
                record.ended_by = by
        channel.hangup_requested.set()
        for leg in (channel, channel.peer):
            if leg is not None:
                wake = self._wakes.get(leg.uniqueid)
                if wake is not None:
                    wake.set()

    def hangup_action(self, name: str, cause: int = 16) -> bool:
        """AMI ``Hangup``: False when there is no such channel."""
        channel = self.world.channel_named(name)
        if channel is None:
            return False
        if channel.peer is not None and not channel.peer.gone:
            peer_wake = self._wakes.get(channel.peer.uniqueid)
            if peer_wake is not None and channel.uniqueid not in self._wakes:
                self._wakes[channel.uniqueid] = peer_wake
        self.request_hangup(channel, by="ami", cause=cause)
        return True

    def _teardown(self, channel: SimChannel, record: CallRecord | None) -> None:
        """A channel that ends outside a bridge (and its Local peer)."""
        cause = channel.hangup_cause
        if channel.hangup_requested.is_set() and not channel.hangup_by_action:
            self.world.emit("HangupRequest", channel)
        elif channel.hangup_by_action:
            self.world.soft_hangup_request(channel, cause)
        peer = channel.peer
        if peer is not None and not peer.gone:
            self.world.hangup_request(peer, cause)
            self.world.soft_hangup_request(peer, 16)
        self.world.hangup(channel, cause)
        if peer is not None and not peer.gone:
            self.world.hangup(peer, cause)
        self.world.device_state(channel.device, "NOT_INUSE")

    # --- the queue --------------------------------------------------------------------------

    async def _queue(self, record: CallRecord, caller: SimChannel, data: str) -> object:
        args = [*data.split(","), "", "", "", "", ""]
        queue = self.world.queues.get(args[0])
        options = args[1]
        timeout = float(args[4]) if args[4].strip().isdigit() else math.inf
        if queue is None:
            self.world.varset(caller, "QUEUESTATUS", "UNKNOWN")
            return None
        w = self.world
        for variable in (
            "ANSWEREDTIME",
            "ANSWEREDTIME_MS",
            "DIALEDTIME",
            "DIALEDTIME_MS",
            "QUEUEWAIT",
            "QUEUEWAIT_MS",
        ):
            w.varset(caller, variable, "")
        w.device_state(f"Queue:{queue.name}", "RINGING")
        priority = int(caller.variables.get("QUEUE_PRIO") or 0)
        position = len(queue.callers) + 1
        for index, waiting in enumerate(queue.callers):
            if int(waiting.variables.get("QUEUE_PRIO") or 0) < priority:
                position = index + 1
                break
        queue.callers.insert(position - 1, caller)
        original_position = position
        w.emit(
            "QueueCallerJoin", caller, Queue=queue.name, Position=str(position), Count=str(len(queue.callers))
        )
        local_caller = caller.name.startswith("Local/")
        if not local_caller:
            w.emit("MusicOnHoldStart", caller, Class="default")
        joined = record.clock.now()
        deadline = joined + timeout
        while True:
            record.wake.clear()
            now = record.clock.now()
            if caller.hangup_requested.is_set() or record.hangup_at <= now:
                self._abandon(record, caller, queue.name, original_position, joined)
                return _STOP
            if now >= deadline:
                self._leave_queue(caller, queue.name, local_caller)
                w.varset(caller, "QUEUESTATUS", "TIMEOUT")
                record.queue_status = "TIMEOUT"
                return None
            member = self._next_member(queue.name) if queue.callers and queue.callers[0] is caller else None
            if member is None:
                await record.clock.advance(min(deadline, record.hangup_at) - now, record.wake)
                continue
            outcome = await self._ring(record, caller, member, queue.name, joined, deadline, local_caller)
            if outcome == "caller-gone":
                self._abandon(record, caller, queue.name, original_position, joined)
                return _STOP
            if outcome == "noanswer":
                retry_until = record.clock.now() + self.scenario.queue_retry
                while record.clock.now() < retry_until and not caller.hangup_requested.is_set():
                    now = record.clock.now()
                    if record.hangup_at <= now:
                        break
                    record.wake.clear()
                    await record.clock.advance(
                        min(retry_until, record.hangup_at, deadline) - now, record.wake
                    )
                    if record.clock.now() >= deadline:
                        break
                continue
            assert isinstance(outcome, tuple)
            agent_leg, talk = outcome
            ended = await self._talk(record, caller, agent_leg, member, queue.name, talk)
            if ended == "caller":
                return _STOP
            # the agent hung up: with option c the caller goes on in the dialplan
            w.varset(caller, "QUEUESTATUS", "CONTINUE")
            caller.variables["MEMBERINTERFACE"] = member.interface
            record.queue_status = "CONTINUE"
            if "c" not in options:
                record.ended_by = record.ended_by or "agent"
                return _STOP
            return None

    def _next_member(self, queue_name: str) -> SimMember | None:
        queue = self.world.queues[queue_name]
        members = list(queue.members.values())
        if not members:
            return None
        for offset in range(len(members)):
            member = members[(queue.rotation + offset) % len(members)]
            if member.paused or member.in_call or member.ringing:
                continue
            if isinstance(self._behaviour(member.interface), Unreachable):
                continue
            queue.rotation = (queue.rotation + offset + 1) % len(members)
            return member
        return None

    def _behaviour(self, target: str) -> Behaviour:
        found = self.scenario.behaviour_for(target)
        if found is not None:
            return found
        if target.startswith("Local/"):
            context = target.split("@", 1)[1].split("/", 1)[0] if "@" in target else ""
            first = next(iter(self.dialplan.get(context, ())), None)
            if first is not None:
                by_first_app: dict[str, Behaviour] = {
                    "ringing": RingsOut(),
                    "busy": Busy(),
                    "congestion": Congested(),
                }
                return by_first_app.get(first.name.lower(), Answers())
        return self.scenario.default_behaviour

    def _leave_queue(self, caller: SimChannel, queue_name: str, local_caller: bool) -> int:
        queue = self.world.queues[queue_name]
        position = queue.callers.index(caller) + 1 if caller in queue.callers else 1
        if caller in queue.callers:
            queue.callers.remove(caller)
        if not local_caller:
            self.world.emit("MusicOnHoldStop", caller)
        if not queue.callers:
            self.world.device_state(f"Queue:{queue_name}", "NOT_INUSE")
        self.world.emit(
            "QueueCallerLeave",
            caller,
            Queue=queue_name,
            Position=str(position),
            Count=str(len(queue.callers)),
        )
        queue.notify()
        for waiting in queue.callers:
            wake = self._wakes.get(waiting.uniqueid)
            if wake is not None:
                wake.set()
        return position

    def _abandon(
        self, record: CallRecord, caller: SimChannel, queue_name: str, original: int, joined: float
    ) -> None:
        queue = self.world.queues[queue_name]
        if not caller.hangup_requested.is_set():
            self.request_hangup(caller, by="citizen")
        position = queue.callers.index(caller) + 1 if caller in queue.callers else 1
        if not caller.hangup_by_action:
            self.world.emit("HangupRequest", caller)
        else:
            self.world.soft_hangup_request(caller, caller.hangup_cause)
        self.world.emit(
            "QueueCallerAbandon",
            caller,
            Queue=queue_name,
            Position=str(position),
            OriginalPosition=str(original),
            HoldTime=str(int(record.clock.now() - joined)),
        )
        self._leave_queue(caller, queue_name, caller.name.startswith("Local/"))
        record.queue_status = "ABANDON"
        caller.hangup_by_action = True  # the request event is out; the teardown only hangs up
        caller.hangup_requested.set()

    def _member_status(self, member: SimMember) -> None:
        self.world.member_event("QueueMemberStatus", member)

    def _avail(self, queue_name: str) -> None:
        queue = self.world.queues[queue_name]
        free = any(not m.paused and not m.in_call for m in queue.members.values())
        self.world.device_state(f"Queue:{queue_name}_avail", "NOT_INUSE" if free else "INUSE")

    async def _ring(
        self,
        record: CallRecord,
        caller: SimChannel,
        member: SimMember,
        queue_name: str,
        joined: float,
        deadline: float,
        local_caller: bool,
    ) -> object:
        """Ring one member. Returns "noanswer", "caller-gone" or (agent leg, behaviour)."""
        w = self.world
        behaviour = self._behaviour(member.interface)
        interface = member.interface
        local = interface.startswith("Local/")
        peer: SimChannel | None = None
        if local:
            exten, _, context = interface[len("Local/") :].partition("@")
            context = context.split("/", 1)[0]
            leg, peer = w.local_pair(exten, context, linkedid=caller.linkedid)
            w.newexten(leg, "AppQueue", "(Outgoing Line)")
            w.set_caller(leg, caller.caller_num, caller.caller_name)
            w.varset(leg, "DIALEDPEERNUMBER", f"{exten}@{context}")
            w.varset(peer, "DIALEDPEERNUMBER", f"{exten}@{context}")
            w.set_caller(peer, caller.caller_num, caller.caller_name)
            w.set_connected(peer, caller.caller_num, caller.caller_name)
            w.local_bridge(leg, peer)
            dial_string = f"{exten}@{context}"
        else:
            leg = w.new_channel(
                w.tech_channel_name(interface), names.AGENTS_CONTEXT, "s", DOWN, linkedid=caller.linkedid
            )
            dial_string = interface.split("/", 1)[1]
        self._wakes[leg.uniqueid] = record.wake
        if peer is not None:
            self._wakes[peer.uniqueid] = record.wake
        w.emit(
            "AgentCalled", caller, leg, Queue=queue_name, Interface=interface, MemberName=member.member_name
        )
        w.emit("DialBegin", caller, leg, DialString=dial_string)
        ring_started = record.clock.now()
        answer_after = behaviour.after if isinstance(behaviour, Answers) else math.inf
        if answer_after > 0 or not isinstance(behaviour, Answers):
            member.ringing = True
            if local:
                assert peer is not None
                w.newexten(peer, "Ringing")
                w.set_state(leg, RINGING)
                w.emit("DialState", caller, leg, DialStatus="RINGING")
            else:
                w.set_connected(caller, member.interface.split("/", 1)[1], member.member_name)
                w.set_state(leg, RINGING)
                w.newexten(leg, "AppQueue", "(Outgoing Line)")
                w.set_connected(leg, caller.caller_num, caller.caller_name)
                w.device_state(interface, "RINGING")
                self._member_status(member)
                w.emit("DialState", caller, leg, DialStatus="RINGING")
            ring_until = ring_started + min(answer_after, self.scenario.queue_ring_timeout)
            while True:
                record.wake.clear()
                now = record.clock.now()
                if caller.hangup_requested.is_set() or record.hangup_at <= now:
                    self._cancel_ring(caller, leg, peer, member, "CANCEL")
                    return "caller-gone"
                if leg.hangup_requested.is_set() or (peer is not None and peer.hangup_requested.is_set()):
                    self._cancel_ring(caller, leg, peer, member, "BUSY")
                    return "noanswer"
                if now >= ring_until or now >= deadline:
                    break
                await record.clock.advance(min(ring_until, deadline, record.hangup_at) - now, record.wake)
            if answer_after > self.scenario.queue_ring_timeout or record.clock.now() >= deadline:
                ring_ms = int((record.clock.now() - ring_started) * 1000)
                w.emit(
                    "AgentRingNoAnswer",
                    caller,
                    leg,
                    Queue=queue_name,
                    Interface=interface,
                    MemberName=member.member_name,
                    RingTime=str(ring_ms),
                )
                self._cancel_ring(caller, leg, peer, member, "NOANSWER")
                return "noanswer"
        # answered
        member.ringing = False
        if local:
            assert peer is not None
            w.newexten(peer, "Answer")
            w.set_state(peer, UP)
            w.set_state(leg, UP)
            w.newexten(leg, "AppQueue", "(Outgoing Line)", exten=caller.exten)
            w.set_connected(leg, caller.caller_num, caller.caller_name)
            w.emit("DialEnd", caller, leg, DialStatus="ANSWER")
        else:
            w.set_state(leg, UP)
            w.device_state(interface, "INUSE")
            w.emit("DialEnd", caller, leg, DialStatus="ANSWER")
            self._member_status(member)
        queue = w.queues[queue_name]
        position = queue.callers.index(caller) + 1 if caller in queue.callers else 1
        if caller in queue.callers:
            queue.callers.remove(caller)
        if not local_caller:
            w.emit("MusicOnHoldStop", caller)
        if not queue.callers:
            w.device_state(f"Queue:{queue_name}", "NOT_INUSE")
        w.emit(
            "QueueCallerLeave",
            caller,
            Queue=queue_name,
            Position=str(position),
            Count=str(len(queue.callers)),
        )
        hold = int(record.clock.now() - joined)
        w.varset(caller, "QUEUEPOSITION", str(position))
        w.varset(caller, "QUEUEWAIT", str(hold))
        w.varset(caller, "QUEUEWAIT_MS", str(int((record.clock.now() - joined) * 1000)))
        w.emit(
            "AgentConnect",
            caller,
            leg,
            Queue=queue_name,
            Interface=interface,
            MemberName=member.member_name,
            HoldTime=str(hold),
            RingTime=str(int(record.clock.now() - ring_started)),
        )
        w.device_state(interface, "INUSE")
        w.device_state(interface, "INUSE")
        member.in_call = True
        self._member_status(member)
        self._avail(queue_name)
        bridge = w.create_bridge()
        w.enter_bridge(bridge, leg)
        w.enter_bridge(bridge, caller)
        w.varset(leg, "BRIDGEPEER", caller.name)
        w.varset(caller, "BRIDGEPEER", leg.name)
        record.answered_by = interface
        queue.notify()
        for waiting in queue.callers:
            wake = self._wakes.get(waiting.uniqueid)
            if wake is not None:
                wake.set()
        return leg, behaviour

    def _cancel_ring(
        self, caller: SimChannel, leg: SimChannel, peer: SimChannel | None, member: SimMember, status: str
    ) -> None:
        w = self.world
        w.emit("DialEnd", caller, leg, DialStatus=status)
        if peer is not None:
            w.hangup_request(peer, 16)
            w.hangup(leg, 16)
            w.soft_hangup_request(peer, 16)
            w.hangup(peer, 16)
        else:
            w.hangup(leg, 16)
        member.ringing = False
        w.device_state(member.interface, "NOT_INUSE")
        self._member_status(member)

    async def _talk(
        self,
        record: CallRecord,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue_name: str,
        behaviour: object,
    ) -> str:
        """Caller and agent bridged until one hangs up. Returns "caller" or "agent"."""
        w = self.world
        peer = leg.peer
        started = record.clock.now()
        agent_hangup_at = math.inf
        if isinstance(behaviour, Answers) and behaviour.hang_up_after is not None:
            agent_hangup_at = started + behaviour.hang_up_after
        settled = peer is None
        while True:
            record.wake.clear()
            now = record.clock.now()
            if not settled and now >= started + ANSWER_SETTLE:
                assert peer is not None
                w.newexten(peer, "Wait", "600")
                settled = True
            if caller.hangup_requested.is_set() or record.hangup_at <= now:
                if not caller.hangup_requested.is_set():
                    self.request_hangup(caller, by="citizen")
                self._caller_leaves_bridge(record, caller, leg, member, queue_name, started)
                return "caller"
            agent_side = [leg, *([peer] if peer is not None else [])]
            if any(c.hangup_requested.is_set() for c in agent_side) or agent_hangup_at <= now:
                self._agent_leaves_bridge(record, caller, leg, member, queue_name, started)
                return "agent"
            nxt = min(record.hangup_at, agent_hangup_at, math.inf if settled else started + ANSWER_SETTLE)
            await record.clock.advance(nxt - now, record.wake)

    def _talk_variables(self, record: CallRecord, caller: SimChannel, started: float) -> None:
        talked = record.clock.now() - started
        self.world.varset(caller, "ANSWEREDTIME", str(int(talked)))
        self.world.varset(caller, "ANSWEREDTIME_MS", str(int(talked * 1000)))
        self.world.varset(caller, "DIALEDTIME", str(int(talked)))
        self.world.varset(caller, "DIALEDTIME_MS", str(int(talked * 1000)))

    def _member_free(self, member: SimMember, queue_name: str) -> None:
        member.in_call = False
        member.calls_taken += 1
        member.last_call = int(time.time())
        self.world.device_state(member.interface, "NOT_INUSE")
        self._member_status(member)
        self.world.queues[queue_name].notify()
        for waiting in self.world.queues[queue_name].callers:
            wake = self._wakes.get(waiting.uniqueid)
            if wake is not None:
                wake.set()

    def _caller_leaves_bridge(
        self,
        record: CallRecord,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue: str,
        started: float,
    ) -> None:
        """The recorded order of b-inbound-queue-call when the citizen's leg is hung up."""
        w = self.world
        bridge = caller.bridge
        w.varset(caller, "BRIDGEPEER", "")
        w.varset(leg, "BRIDGEPEER", "")
        w.leave_bridge(caller)
        self._talk_variables(record, caller, started)
        if caller.hangup_by_action:
            w.soft_hangup_request(caller, caller.hangup_cause)
        else:
            w.emit("HangupRequest", caller)
        w.emit(
            "AgentComplete",
            caller,
            leg,
            Queue=queue,
            Interface=member.interface,
            MemberName=member.member_name,
            HoldTime=caller.variables.get("QUEUEWAIT", "0"),
            TalkTime=str(int(record.clock.now() - started)),
            Reason="caller",
        )
        caller_peer = caller.peer
        if caller_peer is not None:
            w.hangup_request(caller_peer, 16)
        self._agent_legs_down(leg, bridge)
        self._member_free(member, queue)
        if caller_peer is not None:
            w.soft_hangup_request(caller_peer, 16)
            self._avail(queue)
            w.hangup(caller_peer, 16)
        else:
            self._avail(queue)
        w.hangup(caller, 16)
        w.device_state(caller.device, "NOT_INUSE")
        if caller_peer is not None:  # both halves of the Local channel, then the agent's device
            w.device_state(caller.device, "NOT_INUSE")
            w.device_state(leg.device, "NOT_INUSE")

    def _agent_legs_down(self, leg: SimChannel, bridge: SimBridge | None) -> None:
        w = self.world
        w.leave_bridge(leg)
        if bridge is not None and not bridge.channels:
            w.destroy_bridge(bridge)
        peer = leg.peer
        if peer is not None:
            w.hangup_request(peer, 16)
            w.hangup(leg, 16)
            w.soft_hangup_request(peer, 16)
            w.hangup(peer, 16)
        else:
            w.hangup(leg, 16)

    def _agent_leaves_bridge(
        self,
        record: CallRecord,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue: str,
        started: float,
    ) -> None:
        w = self.world
        bridge = leg.bridge
        hung = leg if leg.hangup_requested.is_set() or leg.peer is None else leg.peer
        if hung.hangup_by_action:
            w.soft_hangup_request(hung, hung.hangup_cause)
        else:
            w.emit("HangupRequest", hung)
        w.varset(leg, "BRIDGEPEER", "")
        w.varset(caller, "BRIDGEPEER", "")
        w.leave_bridge(leg)
        w.emit(
            "AgentComplete",
            caller,
            leg,
            Queue=queue,
            Interface=member.interface,
            MemberName=member.member_name,
            HoldTime=caller.variables.get("QUEUEWAIT", "0"),
            TalkTime=str(int(record.clock.now() - started)),
            Reason="agent",
        )
        w.leave_bridge(caller)
        if bridge is not None and not bridge.channels:
            w.destroy_bridge(bridge)
        self._talk_variables(record, caller, started)
        peer = leg.peer
        if peer is not None:
            w.hangup(leg, 16)
            if not peer.gone:
                w.hangup(peer, 16)
        else:
            w.hangup(leg, 16)
        self._member_free(member, queue)
        self._avail(queue)
        record.ended_by = record.ended_by or "agent"

    # --- queue members (AMI actions) --------------------------------------------------------

    def queue_add(
        self,
        queue_name: str,
        interface: str,
        member_name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
    ) -> tuple[bool, str]:
        queue = self.world.queues.get(queue_name)
        if queue is None:
            return False, "Unable to add interface to queue: No such queue"
        if interface in queue.members:
            return False, "Unable to add interface: Already there"
        member = SimMember(
            queue_name,
            interface,
            member_name or interface,
            state_interface or interface,
            penalty,
            paused=paused,
            paused_reason=reason if paused else "",
        )
        queue.members[interface] = member
        pause_device = f"Queue:{queue_name}_pause_{interface}"
        if pause_device not in self._paused_devices:
            self._paused_devices.add(pause_device)
            self.world.device_state(pause_device, "INUSE" if paused else "NOT_INUSE")
        self.world.member_event("QueueMemberAdded", member)
        self._avail(queue_name)
        self._wake_queue(queue_name)
        return True, "Added interface to queue"

    def queue_pause(
        self, queue_name: str | None, interface: str, paused: bool, reason: str = ""
    ) -> tuple[bool, str]:
        members = [
            q.members[interface]
            for q in self.world.queues.values()
            if interface in q.members and queue_name in (None, "", q.name)
        ]
        if not members:
            return False, "Interface not found"
        for member in members:
            member.paused = paused
            member.paused_reason = reason if paused else ""
            if paused:
                member.last_pause = int(time.time())
            self.world.device_state(
                f"Queue:{member.queue}_pause_{interface}", "INUSE" if paused else "NOT_INUSE"
            )
            self._avail(member.queue)
            self.world.member_event("QueueMemberPause", member)
            self._wake_queue(member.queue)
        return True, "Interface paused successfully" if paused else "Interface unpaused successfully"

    def queue_remove(self, queue_name: str, interface: str) -> tuple[bool, str]:
        queue = self.world.queues.get(queue_name)
        if queue is None:
            return False, "Unable to remove interface from queue: No such queue"
        member = queue.members.pop(interface, None)
        if member is None:
            return False, "Unable to remove interface: Not there"
        self.world.member_event("QueueMemberRemoved", member)
        self._avail(queue_name)
        return True, "Removed interface from queue"

    def _wake_queue(self, queue_name: str) -> None:
        queue = self.world.queues[queue_name]
        queue.notify()
        for caller in queue.callers:
            wake = self._wakes.get(caller.uniqueid)
            if wake is not None:
                wake.set()

    # --- Originate ---------------------------------------------------------------------------

    def originate(self, action: AmiMessage, respond: Any) -> None:
        """An async Originate: the response now, the calls and the OriginateResponse later."""
        self._spawn(self._originate(action, respond))

    async def _originate(self, action: AmiMessage, respond: Any) -> None:
        w = self.world
        target = action.value("Channel")
        action_id = action.get("ActionID") or ""
        caller_id = _parse_caller_id(action.value("CallerID"))
        variables = [v for v in action.get_all("Variable") for v in v.split(",") if "=" in v]
        ring_timeout = float(action.value("Timeout") or 30000) / 1000
        application = action.get("Application")
        channel_id = action.get("ChannelId")
        other_id = action.get("OtherChannelId")
        record = self._new_record(None)
        respond_values = {"ActionID": action_id} if action.get("ActionID") is not None else {}

        def response(reason: int, channel: SimChannel | None) -> None:
            values: dict[str, str] = {
                **respond_values,
                "Response": "Success" if reason == 4 else "Failure",
                "Channel": channel.name if channel is not None else target,
                "Reason": str(reason),
                "Uniqueid": channel.uniqueid if channel is not None else (channel_id or "<unknown>"),
                "CallerIDNum": caller_id[0] if caller_id else UNKNOWN,
                "CallerIDName": caller_id[1] if caller_id else UNKNOWN,
            }
            if application:
                values.update(Application=application, Data=action.value("Data"))
            else:
                values.update(Context=action.value("Context"), Exten=action.value("Exten"))
            respond(values)

        behaviour = self._behaviour(target)
        tech, _, rest = target.partition("/")
        if isinstance(behaviour, Unreachable) or tech not in ("Local", "PJSIP", "SIP", "IAX2", "DAHDI"):
            response(0, None)
            return
        local = tech == "Local"
        peer: SimChannel | None = None
        if local:
            exten, _, context = rest.partition("@")
            context = context.split("/", 1)[0]
            ids = (channel_id, other_id or f"{channel_id};2") if channel_id else None
            leg, peer = w.local_pair(exten, context, uniqueids=ids)
            w.newexten(leg, "AppDial2", "(Outgoing Line)")
            for variable in variables:
                name, _, value = variable.partition("=")
                w.varset(leg, name, value)
            if caller_id:
                w.set_caller(leg, *caller_id)
                w.set_connected(leg, *caller_id)
                for variable in variables:
                    name, _, value = variable.partition("=")
                    w.varset(peer, name, value)
                w.set_caller(peer, *caller_id)
                w.set_connected(peer, *caller_id)
            w.local_bridge(leg, peer)
            w.emit("DialBegin", None, leg, DialString=rest)
        else:
            leg = w.new_channel(
                w.tech_channel_name(target), names.UNITS_CONTEXT, "s", DOWN, uniqueid=channel_id
            )
            w.newexten(leg, "AppDial2", "(Outgoing Line)")
            for variable in variables:
                name, _, value = variable.partition("=")
                w.varset(leg, name, value)
            if caller_id:
                w.set_caller(leg, *caller_id)
                w.set_connected(leg, *caller_id)
            w.emit("DialBegin", None, leg, DialString=rest)
        record.channel = leg
        for channel in (leg, peer):
            if channel is not None:
                self._wakes[channel.uniqueid] = record.wake
        ringing_leg = peer if peer is not None else leg
        if isinstance(behaviour, Busy | Congested):
            status, cause, reason = ("BUSY", 17, 5) if isinstance(behaviour, Busy) else ("CONGESTION", 34, 8)
            if peer is not None:
                w.newexten(peer, "Busy" if reason == 5 else "Congestion", "10")
                w.set_state(peer, BUSY)
                if reason == 5:
                    response(reason, None)
                w.emit("DialEnd", None, leg, DialStatus=status)
                w.hangup_request(peer, 0)
                if reason == 8:
                    response(reason, None)
                w.soft_hangup_request(peer, 16)
                w.hangup(peer, cause)
                w.hangup(leg, 0)
            else:
                w.emit("DialEnd", None, leg, DialStatus=status)
                response(reason, None)
                w.hangup(leg, cause)
            return
        answer_after = behaviour.after if isinstance(behaviour, Answers) else math.inf
        if answer_after > 0:
            if peer is not None:
                w.newexten(peer, "Ringing")
                w.set_state(leg, RINGING)
                w.newexten(peer, "Wait", "600")
            else:
                w.set_state(leg, RINGING)
            w.emit("DialState", None, leg, DialStatus="RINGING")
            ring_until = record.clock.now() + min(answer_after, ring_timeout)
            while record.clock.now() < ring_until and not ringing_leg.hangup_requested.is_set():
                record.wake.clear()
                await record.clock.advance(ring_until - record.clock.now(), record.wake)
            if (
                answer_after > ring_timeout
                or ringing_leg.hangup_requested.is_set()
                or leg.hangup_requested.is_set()
            ):
                if peer is not None:
                    w.hangup_request(peer, 19)
                    response(3, None)
                    w.soft_hangup_request(peer, 16)
                    w.hangup(peer, 19)
                    w.hangup(leg, 19)
                else:
                    response(3, None)
                    w.hangup(leg, 19)
                return
        # answered
        assert isinstance(behaviour, Answers)
        answerer = behaviour.citizen
        if answerer is not None:
            record.citizen = answerer
            record.keys_at(answerer.script)
        record.clock = CallClock(self.time_scale)  # the callee's script counts from the answer
        if peer is not None:
            if answer_after <= 0:
                w.newexten(peer, "Answer")
            w.set_state(peer, UP)
            w.device_state(leg.device, "INUSE")
            w.set_state(leg, UP)
        else:
            w.set_state(leg, UP)
        w.emit("DialEnd", None, leg, DialStatus="ANSWER")
        if application:
            w.newexten(leg, application, action.value("Data"))
            response(4, leg)
            w.device_state(leg.device, "INUSE")
            self._spawn(self._hold(record, leg, peer, behaviour))
            return
        context, exten = action.value("Context"), action.value("Exten")
        steps = self.dialplan.get(context, ())
        if steps and steps[0].name.lower() == "answer" and len(steps) > 1 and steps[1].name.lower() == "wait":
            w.newexten(leg, "Answer", "", context=context, exten=exten, priority=1)
            w.newexten(leg, "Wait", steps[1].data, context=context, exten=exten, priority=2)
            response(4, leg)
            w.device_state(leg.device, "INUSE")
            self._spawn(self._hold(record, leg, peer, behaviour, after_peer_steps=True))
            return
        response(4, leg)
        w.device_state(leg.device, "INUSE")
        self._spawn(self._originated_dialplan(record, leg, peer, context, exten, behaviour))

    async def _originated_dialplan(
        self,
        record: CallRecord,
        leg: SimChannel,
        peer: SimChannel | None,
        context: str,
        exten: str,
        behaviour: Answers,
    ) -> None:
        if behaviour.hang_up_after is not None:
            record.hangup_at = min(record.hangup_at, behaviour.hang_up_after)
        try:
            await self._run_dialplan(record, leg, context, exten)
        finally:
            if not leg.gone:
                self._teardown(leg, record)
            record.ended.set()

    async def _hold(
        self,
        record: CallRecord,
        leg: SimChannel,
        peer: SimChannel | None,
        behaviour: Answers,
        after_peer_steps: bool = False,
    ) -> None:
        """An answered originate that just stays up (the rig's Wait(600)); a Local ;2 leg that
        enters the dialplan (Local/12345@from-citizen) walks it from its second priority."""
        try:
            if peer is not None and after_peer_steps:
                context = peer.context
                steps = self.dialplan.get(context, ())
                if steps and steps[0].name.lower() == "answer" and len(steps) > 1:
                    await record.clock.advance(ANSWER_SETTLE, peer.hangup_requested)
                    if not peer.hangup_requested.is_set():
                        peer_record = self._new_record(None)
                        peer_record.channel = peer
                        self._wakes[peer.uniqueid] = peer_record.wake
                        self._wakes[leg.uniqueid] = peer_record.wake
                        await self._run_from(peer_record, peer, context, peer.exten, 2)
                        return
            hang_at = math.inf if behaviour.hang_up_after is None else behaviour.hang_up_after
            while not leg.hangup_requested.is_set() and not leg.gone:
                if peer is not None and (peer.hangup_requested.is_set() or peer.gone):
                    break
                now = record.clock.now()
                if now >= hang_at:
                    self.request_hangup(leg, by="citizen")
                    break
                record.wake.clear()
                await record.clock.advance(
                    hang_at - now if not math.isinf(hang_at) else math.inf, record.wake
                )
        finally:
            if not leg.gone:
                self._teardown(leg, record)
            record.ended.set()

    async def _run_from(
        self, record: CallRecord, channel: SimChannel, context: str, exten: str, priority: int
    ) -> None:
        """Walk ``context`` from ``priority`` (a Local ;2 leg after the Answer the originate saw)."""
        steps = self.dialplan.get(context, ())
        index = priority - 1
        try:
            while not channel.hangup_requested.is_set() and not channel.gone and index < len(steps):
                app = steps[index]
                data = self._substitute(channel, app.data)
                self.world.newexten(channel, app.name, data, context=context, exten=exten, priority=index + 1)
                outcome = await self._application(record, channel, app.name, data)
                if outcome is _STOP:
                    return
                if isinstance(outcome, _Jump):
                    await self._run_jump(record, channel, outcome, context, exten)
                    return
                index += 1
        finally:
            if not channel.gone:
                self._teardown(channel, record)
            record.ended.set()

    async def _run_jump(
        self, record: CallRecord, channel: SimChannel, jump: _Jump, context: str, exten: str
    ) -> None:
        await self._run_dialplan(record, channel, jump.context or context, jump.exten or exten, jump.target)

    async def wait_idle(self) -> None:
        """For tests: until every call task has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _parse_caller_id(value: str) -> tuple[str, str] | None:
    if not value:
        return None
    match = re.match(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<num>[^>]*)>\s*$', value)
    if match:
        return match.group("num"), match.group("name") or match.group("num")
    return value, value
