"""``Queue()``: a caller joins a queue, waits (music on hold), is offered to the members in
turn until one answers, times out or the caller hangs up (abandon), in the event order of the
recordings (``b-inbound-queue-call``, set2's ``b2``). Ringing a member is ``MemberRinger``'s
part, the bridged talk ``QueueTalk``'s."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pbx.simulator.behaviour import Unreachable
from pbx.simulator.call_record import CallRecord
from pbx.simulator.dialplan_interpreter import STOP, Jump
from pbx.simulator.scenario import dialed_behaviour
from pbx.simulator.world import SimChannel, SimMember

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class QueueApplication:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    async def run(self, record: CallRecord, caller: SimChannel, data: str) -> object:
        """``Queue(<name>,<options>,,,<timeout>)``: the dialplan's outcome (None or ``STOP``)."""
        engine = self.engine
        args = [*data.split(","), "", "", "", "", ""]
        queue = engine.world.queues.get(args[0])
        options = args[1]
        timeout = float(args[4]) if args[4].strip().isdigit() else math.inf
        if queue is None:
            engine.world.varset(caller, "QUEUESTATUS", "UNKNOWN")
            return None
        w = engine.world
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
                self.abandon(record, caller, queue.name, original_position, joined)
                return STOP
            if now >= deadline:
                self.leave(caller, queue.name, local_caller)
                w.varset(caller, "QUEUESTATUS", "TIMEOUT")
                record.queue_status = "TIMEOUT"
                return None
            member = self.next_member(queue.name) if queue.callers and queue.callers[0] is caller else None
            if member is None:
                await record.clock.advance(min(deadline, record.hangup_at) - now, record.wake)
                continue
            outcome = await engine.ringer.ring(
                record, caller, member, queue.name, joined, deadline, local_caller
            )
            if outcome == "caller-gone":
                self.abandon(record, caller, queue.name, original_position, joined)
                return STOP
            if outcome == "noanswer":
                retry_until = record.clock.now() + engine.scenario.queue_retry
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
            ended = await engine.talk.run(record, caller, agent_leg, member, queue.name, talk)
            if ended == "caller":
                return STOP
            if ended == "redirected" and caller.redirect_to is not None:
                context, exten, priority = caller.redirect_to
                caller.redirect_to = None
                return Jump(context, exten, priority)
            # the agent hung up: with option c the caller goes on in the dialplan
            w.varset(caller, "QUEUESTATUS", "CONTINUE")
            caller.variables["MEMBERINTERFACE"] = member.interface
            record.queue_status = "CONTINUE"
            if "c" not in options:
                record.ended_by = record.ended_by or "agent"
                return STOP
            return None

    def next_member(self, queue_name: str) -> SimMember | None:
        """The next free member in round-robin order (none that is paused, busy, ringing or
        unreachable)."""
        engine = self.engine
        queue = engine.world.queues[queue_name]
        members = list(queue.members.values())
        if not members:
            return None
        for offset in range(len(members)):
            member = members[(queue.rotation + offset) % len(members)]
            if member.paused or member.in_call or member.ringing:
                continue
            if isinstance(dialed_behaviour(engine.scenario, engine.dialplan, member.interface), Unreachable):
                continue
            queue.rotation = (queue.rotation + offset + 1) % len(members)
            return member
        return None

    def leave(self, caller: SimChannel, queue_name: str, local_caller: bool) -> int:
        """The caller leaves the queue (QueueCallerLeave); its position."""
        world = self.engine.world
        queue = world.queues[queue_name]
        position = queue.callers.index(caller) + 1 if caller in queue.callers else 1
        if caller in queue.callers:
            queue.callers.remove(caller)
        if not local_caller:
            world.emit("MusicOnHoldStop", caller)
        if not queue.callers:
            world.device_state(f"Queue:{queue_name}", "NOT_INUSE")
        world.emit(
            "QueueCallerLeave",
            caller,
            Queue=queue_name,
            Position=str(position),
            Count=str(len(queue.callers)),
        )
        self.engine.wake_queue(queue_name)
        return position

    def abandon(
        self, record: CallRecord, caller: SimChannel, queue_name: str, original: int, joined: float
    ) -> None:
        """The caller hangs up while waiting (QueueCallerAbandon)."""
        engine = self.engine
        world = engine.world
        queue = world.queues[queue_name]
        if not caller.hangup_requested.is_set():
            engine.control.request_hangup(caller, by="citizen")
        position = queue.callers.index(caller) + 1 if caller in queue.callers else 1
        if not caller.hangup_by_action:
            world.emit("HangupRequest", caller)
        else:
            world.soft_hangup_request(caller, caller.hangup_cause)
        world.emit(
            "QueueCallerAbandon",
            caller,
            Queue=queue_name,
            Position=str(position),
            OriginalPosition=str(original),
            HoldTime=str(int(record.clock.now() - joined)),
        )
        self.leave(caller, queue_name, caller.name.startswith("Local/"))
        record.queue_status = "ABANDON"
        caller.hangup_by_action = True  # the request event is out; the teardown only hangs up
        caller.hangup_requested.set()
