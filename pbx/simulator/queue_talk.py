"""A queue caller and the member who answered, bridged until one of them hangs up: the
recorded event order when the citizen hangs up (``b-inbound-queue-call``) or the agent does
(AgentComplete with Reason caller/agent, the bridge emptied and destroyed, the member free)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pbx.simulator.behaviour import Answers
from pbx.simulator.call_record import CallRecord
from pbx.simulator.dialplan import ANSWER_SETTLE
from pbx.simulator.world import SimBridge, SimChannel, SimMember

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class QueueTalk:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    async def run(
        self,
        record: CallRecord,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue_name: str,
        behaviour: object,
    ) -> str:
        """Caller and agent bridged until one hangs up or a Redirect takes them out. Returns
        "caller", "agent" or "redirected"."""
        w = self.engine.world
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
            if caller.redirect_to is not None or leg.redirect_to is not None:
                self.redirected(record, caller, leg, member, queue_name, started)
                return "redirected"
            if caller.hangup_requested.is_set() or record.hangup_at <= now:
                if not caller.hangup_requested.is_set():
                    self.engine.control.request_hangup(caller, by="citizen")
                self.caller_leaves_bridge(record, caller, leg, member, queue_name, started)
                return "caller"
            agent_side = [leg, *([peer] if peer is not None else [])]
            if any(c.hangup_requested.is_set() for c in agent_side) or agent_hangup_at <= now:
                self.agent_leaves_bridge(record, caller, leg, member, queue_name, started)
                return "agent"
            nxt = min(record.hangup_at, agent_hangup_at, math.inf if settled else started + ANSWER_SETTLE)
            await record.clock.advance(nxt - now, record.wake)

    def talk_variables(self, record: CallRecord, caller: SimChannel, started: float) -> None:
        talked = record.clock.now() - started
        self.engine.world.varset(caller, "ANSWEREDTIME", str(int(talked)))
        self.engine.world.varset(caller, "ANSWEREDTIME_MS", str(int(talked * 1000)))
        self.engine.world.varset(caller, "DIALEDTIME", str(int(talked)))
        self.engine.world.varset(caller, "DIALEDTIME_MS", str(int(talked * 1000)))

    def caller_leaves_bridge(
        self,
        record: CallRecord,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue: str,
        started: float,
    ) -> None:
        """The recorded order of b-inbound-queue-call when the citizen's leg is hung up."""
        w = self.engine.world
        bridge = caller.bridge
        w.varset(caller, "BRIDGEPEER", "")
        w.varset(leg, "BRIDGEPEER", "")
        w.leave_bridge(caller)
        self.talk_variables(record, caller, started)
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
        self.agent_legs_down(leg, bridge)
        self.engine.members.free(member, queue)
        if caller_peer is not None:
            w.soft_hangup_request(caller_peer, 16)
            self.engine.members.avail(queue)
            w.hangup(caller_peer, 16)
        else:
            self.engine.members.avail(queue)
        w.hangup(caller, 16)
        w.device_state(caller.device, "NOT_INUSE")
        if caller_peer is not None:  # both halves of the Local channel, then the agent's device
            w.device_state(caller.device, "NOT_INUSE")
            w.device_state(leg.device, "NOT_INUSE")

    def agent_legs_down(self, leg: SimChannel, bridge: SimBridge | None) -> None:
        w = self.engine.world
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

    def agent_leaves_bridge(
        self,
        record: CallRecord,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue: str,
        started: float,
    ) -> None:
        w = self.engine.world
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
        self.talk_variables(record, caller, started)
        peer = leg.peer
        if peer is not None:
            w.hangup(leg, 16)
            if not peer.gone:
                w.hangup(peer, 16)
        else:
            w.hangup(leg, 16)
        self.engine.members.free(member, queue)
        self.engine.members.avail(queue)
        record.ended_by = record.ended_by or "agent"

    def redirected(
        self,
        record: CallRecord,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue: str,
        started: float,
    ) -> None:
        """A Redirect took the legs out of the queue's bridge (no AgentComplete: the member stays
        in use until the agent's leg is done where it was sent)."""
        w = self.engine.world
        bridge = caller.bridge
        for channel in (leg, caller):
            w.varset(channel, "BRIDGEPEER", "")
            if channel.redirect_to is not None:
                # at the target already, but the application is still the one it was in (recorded)
                context, exten, priority = channel.redirect_to
                w.newexten(channel, channel.application, channel.app_data, context, exten, priority)
        w.leave_bridge(leg)
        w.leave_bridge(caller)
        talked = record.clock.now() - started
        w.varset(caller, "DIALEDTIME", str(int(talked)))
        w.varset(caller, "DIALEDTIME_MS", str(int(talked * 1000)))
        w.varset(caller, "ANSWEREDTIME", "0")
        w.varset(caller, "ANSWEREDTIME_MS", "0")
        if bridge is not None and not bridge.channels:
            w.destroy_bridge(bridge)
        self.engine.redirects.agent_leg_redirected(caller, leg, member, queue, started)
