"""AMI ``Originate`` on the simulated PBX: the response now, the calls and the
``OriginateResponse`` later, in the order of ``d-originate-failures`` (answered, ringing out,
busy, congested, unreachable) for a plain channel or a Local channel pair, then the answered leg
stays up, runs an application or walks the dialplan."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from pbx import dialplan_names as names
from pbx.ami_protocol import AmiMessage
from pbx.simulator.behaviour import Answers, Busy, Congested, Unreachable
from pbx.simulator.call_record import CallRecord
from pbx.simulator.citizen import CallClock
from pbx.simulator.dialplan import ANSWER_SETTLE
from pbx.simulator.scenario import dialed_behaviour
from pbx.simulator.world import BUSY, DOWN, RINGING, UNKNOWN, UP, SimChannel

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class Originator:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    def originate(self, action: AmiMessage, respond: Any) -> None:
        """An async Originate: the response now, the calls and the OriginateResponse later."""
        self.engine.spawn(self._originate(action, respond))

    async def _originate(self, action: AmiMessage, respond: Any) -> None:
        engine = self.engine
        w = engine.world
        target = action.value("Channel")
        action_id = action.get("ActionID") or ""
        caller_id = parse_caller_id(action.value("CallerID"))
        variables = [v for v in action.get_all("Variable") for v in v.split(",") if "=" in v]
        ring_timeout = float(action.value("Timeout") or 30000) / 1000
        application = action.get("Application")
        channel_id = action.get("ChannelId")
        other_id = action.get("OtherChannelId")
        record = engine.new_record(None)
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

        behaviour = dialed_behaviour(engine.scenario, engine.dialplan, target)
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
                engine.wakes[channel.uniqueid] = record.wake
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
        record.clock = CallClock(engine.time_scale)  # the callee's script counts from the answer
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
            if application.lower() == "chanspy":
                engine.spawn(self._spy(record, leg, action.value("Data")))
            else:
                engine.spawn(self._hold(record, leg, peer, behaviour))
            return
        context, exten = action.value("Context"), action.value("Exten")
        steps = engine.dialplan.get(context, ())
        if steps and steps[0].name.lower() == "answer" and len(steps) > 1 and steps[1].name.lower() == "wait":
            w.newexten(leg, "Answer", "", context=context, exten=exten, priority=1)
            w.newexten(leg, "Wait", steps[1].data, context=context, exten=exten, priority=2)
            response(4, leg)
            w.device_state(leg.device, "INUSE")
            engine.spawn(self._hold(record, leg, peer, behaviour, after_peer_steps=True))
            return
        response(4, leg)
        w.device_state(leg.device, "INUSE")
        engine.spawn(self._originated_dialplan(record, leg, peer, context, exten, behaviour))

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
            await self.engine.interpreter.run_dialplan(record, leg, context, exten)
        finally:
            if not leg.gone:
                self.engine.control.teardown(leg, record)
            record.ended.set()

    async def _spy(self, record: CallRecord, leg: SimChannel, data: str) -> None:
        """An answered originate into ChanSpy (a supervisor listening in)."""
        try:
            await self.engine.spy.run(record, leg, data)
        finally:
            if not leg.gone:
                self.engine.control.teardown(leg, record)
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
        engine = self.engine
        try:
            if peer is not None and after_peer_steps:
                context = peer.context
                steps = engine.dialplan.get(context, ())
                if steps and steps[0].name.lower() == "answer" and len(steps) > 1:
                    await record.clock.advance(ANSWER_SETTLE, peer.hangup_requested)
                    if not peer.hangup_requested.is_set():
                        peer_record = engine.new_record(None)
                        peer_record.channel = peer
                        engine.wakes[peer.uniqueid] = peer_record.wake
                        engine.wakes[leg.uniqueid] = peer_record.wake
                        await engine.interpreter.run_from(peer_record, peer, context, peer.exten, 2)
                        return
            hang_at = math.inf if behaviour.hang_up_after is None else behaviour.hang_up_after
            while not leg.hangup_requested.is_set() and not leg.gone:
                if peer is not None and (peer.hangup_requested.is_set() or peer.gone):
                    break
                now = record.clock.now()
                if now >= hang_at:
                    engine.control.request_hangup(leg, by="citizen")
                    break
                record.wake.clear()
                await record.clock.advance(
                    hang_at - now if not math.isinf(hang_at) else math.inf, record.wake
                )
        finally:
            if not leg.gone:
                self.engine.control.teardown(leg, record)
            record.ended.set()


def parse_caller_id(value: str) -> tuple[str, str] | None:
    if not value:
        return None
    match = re.match(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<num>[^>]*)>\s*$', value)
    if match:
        return match.group("num"), match.group("name") or match.group("num")
    return value, value
