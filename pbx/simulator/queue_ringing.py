"""Ringing one queue member for a waiting caller (AgentCalled, DialBegin/State/End): the member
answers (AgentConnect, caller and agent bridged), rings out (AgentRingNoAnswer) or the caller
hangs up meanwhile. A ``Local/`` member rings through its own Local channel pair."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pbx import dialplan_names as names
from pbx.simulator.behaviour import Answers
from pbx.simulator.call_record import CallRecord
from pbx.simulator.scenario import dialed_behaviour
from pbx.simulator.world import DOWN, RINGING, UP, SimChannel, SimMember

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class MemberRinger:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    async def ring(
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
        engine = self.engine
        w = engine.world
        behaviour = dialed_behaviour(engine.scenario, engine.dialplan, member.interface)
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
        engine.wakes[leg.uniqueid] = record.wake
        if peer is not None:
            engine.wakes[peer.uniqueid] = record.wake
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
                engine.members.status(member)
                w.emit("DialState", caller, leg, DialStatus="RINGING")
            ring_until = ring_started + min(answer_after, engine.scenario.queue_ring_timeout)
            while True:
                record.wake.clear()
                now = record.clock.now()
                if caller.hangup_requested.is_set() or record.hangup_at <= now:
                    self.cancel_ring(caller, leg, peer, member, "CANCEL")
                    return "caller-gone"
                if leg.hangup_requested.is_set() or (peer is not None and peer.hangup_requested.is_set()):
                    self.cancel_ring(caller, leg, peer, member, "BUSY")
                    return "noanswer"
                if now >= ring_until or now >= deadline:
                    break
                await record.clock.advance(min(ring_until, deadline, record.hangup_at) - now, record.wake)
            if answer_after > engine.scenario.queue_ring_timeout or record.clock.now() >= deadline:
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
                self.cancel_ring(caller, leg, peer, member, "NOANSWER")
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
            engine.members.status(member)
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
        engine.members.status(member)
        engine.members.avail(queue_name)
        bridge = w.create_bridge()
        w.enter_bridge(bridge, leg)
        w.enter_bridge(bridge, caller)
        w.varset(leg, "BRIDGEPEER", caller.name)
        w.varset(caller, "BRIDGEPEER", leg.name)
        record.answered_by = interface
        engine.wake_queue(queue_name)
        return leg, behaviour

    def cancel_ring(
        self, caller: SimChannel, leg: SimChannel, peer: SimChannel | None, member: SimMember, status: str
    ) -> None:
        w = self.engine.world
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
        self.engine.members.status(member)
