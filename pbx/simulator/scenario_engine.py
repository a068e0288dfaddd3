"""Plays a ``Scenario`` on the simulated PBX and answers the AMI actions that change calls.

The engine owns what the parts share (the ``World``, the scenario, the dialplan, the calls in
progress and the wake-ups of their tasks) and wires the parts together, one per concept:
``DialplanInterpreter`` walks channels through the dialplan, ``QueueApplication`` plays
``Queue()`` (with ``MemberRinger`` and ``QueueTalk``), ``QueueMembers`` answers
QueueAdd/Pause/Remove, ``Originator`` answers Originate and ``ChannelControl`` answers and hangs
up channels, ``ConferenceRooms`` plays ``ConfBridge()``, ``Redirects`` answers Redirect and ``ChanSpy``
lets a supervisor listen in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from pbx.ami_protocol import AmiMessage
from pbx.simulator.call_record import CallRecord
from pbx.simulator.channel_control import ChannelControl
from pbx.simulator.chanspy import ChanSpy
from pbx.simulator.citizen import CallClock, Citizen, CitizenScript, Keypad
from pbx.simulator.conference import ConferenceRooms
from pbx.simulator.dialplan import Dialplan, default_dialplan
from pbx.simulator.dialplan_interpreter import DialplanInterpreter
from pbx.simulator.originate import Originator
from pbx.simulator.queue_application import QueueApplication
from pbx.simulator.queue_members import QueueMembers
from pbx.simulator.queue_ringing import MemberRinger
from pbx.simulator.queue_talk import QueueTalk
from pbx.simulator.redirect import Redirects
from pbx.simulator.scenario import InboundCall, Scenario
from pbx.simulator.world import UNKNOWN, SimChannel, SimMember, World

log = logging.getLogger("pbx.simulator.scenarios")


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
        self.wakes: dict[str, asyncio.Event] = {}
        """Uniqueid -> the wake-up event of the task that plays the channel's call."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.control = ChannelControl(self)
        self.interpreter = DialplanInterpreter(self)
        self.queue = QueueApplication(self)
        self.ringer = MemberRinger(self)
        self.talk = QueueTalk(self)
        self.members = QueueMembers(self)
        self.originator = Originator(self)
        self.conferences = ConferenceRooms(self)
        self.redirects = Redirects(self)
        self.spy = ChanSpy(self)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        for spec in self.scenario.members:
            self.queue_add(spec.queue, spec.interface, spec.name, paused=spec.paused, reason=spec.reason)
        for call in self.scenario.calls:
            self.spawn(self._dial_in_later(call))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_idle(self) -> None:
        """For tests: until every call task has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
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

    def new_record(self, citizen: Citizen | None) -> CallRecord:
        script = citizen.script if citizen else CitizenScript()
        record = CallRecord(citizen, CallClock(self.time_scale), Keypad.of(script), script.hangup_at)
        self.calls.append(record)
        return record

    def wake_queue(self, queue_name: str) -> None:
        """Something changed for the callers waiting in ``queue_name``: let their tasks look."""
        queue = self.world.queues[queue_name]
        queue.notify()
        for caller in queue.callers:
            wake = self.wakes.get(caller.uniqueid)
            if wake is not None:
                wake.set()

    # --- inbound ----------------------------------------------------------------------------

    async def _dial_in_later(self, call: InboundCall) -> None:
        await asyncio.sleep(call.at * self.time_scale)
        self.dial_in(call)

    def dial_in(self, call: InboundCall) -> CallRecord:
        """A citizen's call arrives on the trunk and walks the dialplan."""
        record = self.new_record(call.citizen)
        channel = self.world.new_channel(
            self.world.tech_channel_name(call.trunk),
            call.context,
            call.dialed,
            4,
            caller=(call.citizen.number, call.citizen.name),
        )
        channel.connected_num, channel.connected_name = UNKNOWN, UNKNOWN
        record.channel = channel
        self.wakes[channel.uniqueid] = record.wake
        self.spawn(self._run_channel(record, channel, call.context, call.dialed))
        return record

    async def _run_channel(self, record: CallRecord, channel: SimChannel, context: str, exten: str) -> None:
        try:
            await self.interpreter.run_dialplan(record, channel, context, exten)
        finally:
            if not channel.gone:
                self.control.teardown(channel, record)
            record.ended.set()

    # --- the AMI actions that change calls ----------------------------------------------------

    def originate(self, action: AmiMessage, respond: Any) -> None:
        """An async Originate: the response now, the calls and the OriginateResponse later."""
        self.originator.originate(action, respond)

    def hangup_action(self, name: str, cause: int = 16) -> bool:
        """AMI ``Hangup``: False when there is no such channel."""
        return self.control.hangup_action(name, cause)

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
        return self.members.add(
            queue_name, interface, member_name, state_interface, penalty, paused=paused, reason=reason
        )

    def queue_pause(
        self, queue_name: str | None, interface: str, paused: bool, reason: str = ""
    ) -> tuple[bool, str]:
        return self.members.pause(queue_name, interface, paused, reason)

    def queue_remove(self, queue_name: str, interface: str) -> tuple[bool, str]:
        return self.members.remove(queue_name, interface)

    # the browser tests' ConfBridge stand-in frees an agent kicked from a conference with these
    def _member_free(self, member: SimMember, queue_name: str) -> None:
        self.members.free(member, queue_name)

    def _avail(self, queue_name: str) -> None:
        self.members.avail(queue_name)
